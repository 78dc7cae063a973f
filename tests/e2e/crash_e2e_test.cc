// Nothing lost, nothing twice under crashes: during a fan-out to 20,000
// customers the intake (and its outbox relay), the resolver and a notifier
// are killed with SIGKILL at different moments and restarted. Afterwards
// every affected customer has exactly one SENT notice per chosen channel in
// the ledger, and the provider (the file outbox) saw each exactly once.
#include <gtest/gtest.h>

#include <map>

#include "absl/strings/str_cat.h"
#include "tests/e2e/stack.h"

namespace forewarn {
namespace {

namespace v1 = forewarn::v1;

constexpr int kCustomers = 20000;

std::string SeedSql() {
  return absl::StrCat(
      "INSERT INTO services VALUES ('electricity','Electricity','الكهرباء');"
      "INSERT INTO regions VALUES ('riyadh','Riyadh','الرياض');"
      "INSERT INTO customers (id, name, locale, time_zone, phone, email, notify_sms, notify_email) "
      "SELECT i, 'Customer ' || i, CASE WHEN i % 2 = 0 THEN 'ar' ELSE 'en' END, 'Asia/Riyadh', "
      "  '+96651' || lpad(i::text, 7, '0'), 'c' || i || '@example.com', i % 3 <> 1, i % 3 <> 0 "
      "FROM generate_series(1, ", kCustomers, ") i;"
      "INSERT INTO customer_services SELECT 'electricity', 'riyadh', i FROM generate_series(1, ", kCustomers,
      ") i;");
}

int64_t ExpectedNotices() {
  int64_t n = 0;
  for (int i = 1; i <= kCustomers; ++i) n += (i % 3 != 1) + (i % 3 != 0);
  return n;
}

class CrashE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (testing::TestPgUri().empty()) GTEST_SKIP() << "FOREWARN_TEST_PG_URI not set";
    testing::ServiceStack::Options options;
    // Slow the providers down so the kills land in the middle of delivery.
    options.notifier_args = {"--sms-rate", "1500", "--email-rate", "1500"};
    auto s = stack_.Start(SeedSql(), options);
    ASSERT_TRUE(s.ok()) << s << " (logs in " << stack_.dir() << ")";
  }
  void Crash(const std::string& name, absl::Duration down) {
    testing::ChildProcess* p = stack_.Process(name);
    ASSERT_NE(p, nullptr) << name;
    p->Kill();
    absl::SleepFor(down);
    ASSERT_TRUE(p->Start().ok()) << name;
  }
  testing::ServiceStack stack_;
};

TEST_F(CrashE2eTest, KillNineDuringFanOutLosesNothingAndDuplicatesNothing) {
  v1::CreateIncidentRequest req;
  req.set_idempotency_key("crash-1");
  req.set_kind(v1::UNPLANNED_OUTAGE);
  req.add_services("electricity");
  req.add_regions("riyadh");
  req.mutable_reason()->set_en("Storm damage to the grid");
  req.mutable_reason()->set_ar("أضرار العاصفة في الشبكة");
  req.mutable_expected_restoration_at()->set_seconds(absl::ToUnixSeconds(absl::Now() + absl::Hours(6)));
  v1::Incident incident;
  auto status = stack_.stub().CreateIncident(stack_.Ctx().get(), req, &incident);
  ASSERT_TRUE(status.ok()) << status.error_message();

  const int64_t expected = ExpectedNotices();
  const std::string sent = absl::StrCat("SELECT count(*) FROM notice_ledger WHERE incident_id = '", incident.id(),
                                        "' AND state = 'sent'");
  auto crash_at = [&](double fraction, const std::string& name, absl::Duration down) {
    ASSERT_TRUE(stack_.WaitForCount(sent, static_cast<int64_t>(fraction * expected), absl::Seconds(120)));
    std::cout << "[ crash    ] kill -9 " << name << " at " << stack_.db().Exec(sent) << " of " << expected
              << " sent\n";
    Crash(name, down);
  };
  // The relay may not have published yet and the resolver is streaming;
  // then each notifier dies in the middle of delivery.
  Crash("intake", absl::Milliseconds(300));
  absl::SleepFor(absl::Milliseconds(300));
  Crash("resolver", absl::Seconds(1));
  crash_at(0.15, "notifier-1", absl::Milliseconds(500));
  crash_at(0.5, "notifier-2", absl::Milliseconds(200));

  EXPECT_TRUE(stack_.WaitForCount(sent, expected, absl::Seconds(240)))
      << stack_.db().Exec(sent) << " of " << expected << " (logs in " << stack_.dir() << ")";
  absl::SleepFor(absl::Seconds(2));  // let any duplicate delivery surface
  EXPECT_EQ(std::stoll(stack_.db().Exec(sent)), expected);
  EXPECT_EQ(stack_.db().Exec(absl::StrCat("SELECT count(*) FROM notice_ledger WHERE incident_id = '", incident.id(),
                                          "' AND state <> 'sent'")),
            "0");

  std::map<std::string, int> seen;
  int64_t lines = 0;
  for (const auto& d : stack_.ReadOutbox()) {
    ++lines;
    ++seen[d.line.at("message_id").get<std::string>()];
  }
  int duplicates = 0;
  for (const auto& [id, n] : seen) duplicates += n - 1;
  std::cout << "[ crash    ] re-claimed after a crash: "
            << stack_.db().Exec("SELECT count(*) FROM notice_ledger WHERE attempts > 1") << "\n";
  std::cout << "[ crash    ] " << lines << " notices delivered, " << seen.size() << " distinct, " << duplicates
            << " duplicates seen by the provider\n";
  EXPECT_EQ(static_cast<int64_t>(seen.size()), expected);
  EXPECT_EQ(duplicates, 0);
}

}  // namespace
}  // namespace forewarn
