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

constexpr int kCustomers = 20000;

std::string SeedSql() {
  return absl::StrCat("INSERT INTO services VALUES ('electricity','Electricity','الكهرباء');"
                      "INSERT INTO regions VALUES ('riyadh','Riyadh','الرياض');",
                      testing::GeneratedCustomersSql("electricity", "riyadh", "+96651", kCustomers));
}

class CrashE2eTest : public testing::StackTest {
 protected:
  void SetUp() override {
    testing::ServiceStack::Options options;
    // Slow the providers down so the kills land in the middle of delivery.
    options.notifier_args = {"--sms-rate", "1500", "--email-rate", "1500"};
    StartStack(SeedSql(), options);
  }
  void Crash(const std::string& name, absl::Duration down) {
    testing::ChildProcess* p = stack_.Process(name);
    ASSERT_NE(p, nullptr) << name;
    p->Kill();
    absl::SleepFor(down);
    ASSERT_TRUE(p->Start().ok()) << name;
  }
};

TEST_F(CrashE2eTest, KillNineDuringFanOutLosesNothingAndDuplicatesNothing) {
  const auto incident = stack_.CreateIncident(testing::OutageRequest(
      "crash-1", "electricity", "riyadh", "Storm damage to the grid", "أضرار العاصفة في الشبكة", absl::Hours(6)));
  ASSERT_TRUE(incident.ok()) << incident.status();

  const int64_t expected = testing::GeneratedCustomersNotices(kCustomers);
  const std::string sent = testing::SentCountSql(incident->id());
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
  EXPECT_EQ(stack_.db().Exec(absl::StrCat("SELECT count(*) FROM notice_ledger WHERE incident_id = '", incident->id(),
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
