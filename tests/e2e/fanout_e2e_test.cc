// End-to-end fan-out: PostgreSQL, the dev broker, intake, resolver and two
// notifiers as separate processes. 1,000 customers, of whom a known 437 use
// the affected service in the affected region.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <set>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "forewarn/v1/incident.grpc.pb.h"
#include "nlohmann/json.hpp"
#include "tests/e2e/stack.h"

namespace forewarn {
namespace {

namespace v1 = forewarn::v1;

constexpr int kCustomers = 1000;
constexpr int kAffected = 437;
// Deterministic population (testing::SeededCustomerFor): customers 1..437 use
// electricity in riyadh; the rest use electricity elsewhere or other services
// in riyadh, or nothing.
std::string SeedSql() {
  std::string sql =
      "INSERT INTO services VALUES ('electricity','Electricity','الكهرباء'),('water','Water','المياه');"
      "INSERT INTO regions VALUES ('riyadh','Riyadh','الرياض'),('jeddah','Jeddah','جدة');";
  std::string customers = "INSERT INTO customers (id, name, locale, time_zone, phone, email, channels_unplanned, "
      "  channels_maintenance, channels_banking) VALUES ";
  std::string uses = "INSERT INTO customer_services VALUES ";
  for (int id = 1; id <= kCustomers; ++id) {
    absl::StrAppend(&customers, id > 1 ? "," : "", testing::SeededCustomerRow(id, 10000000, "customer"));
    if (id <= kAffected) {
      absl::StrAppend(&uses, "('electricity','riyadh',", id, "),");
      if (id % 5 == 0) absl::StrAppend(&uses, "('water','riyadh',", id, "),");  // also unaffected uses
    } else if (id % 3 == 0) {
      absl::StrAppend(&uses, "('electricity','jeddah',", id, "),");
    } else if (id % 3 == 1) {
      absl::StrAppend(&uses, "('water','riyadh',", id, "),");
    }  // else: a customer with no services at all
  }
  uses.pop_back();
  return absl::StrCat(sql, customers, ";", uses, ";");
}

// "HH:MM" of `t` in `tz`, as the notice shows the restoration time.
std::string LocalClock(absl::Time t, const std::string& tz) {
  absl::TimeZone zone;
  EXPECT_TRUE(absl::LoadTimeZone(tz, &zone));
  return absl::FormatTime("%H:%M", t, zone);
}

class FanoutE2eTest : public testing::StackTest {
 protected:
  void SetUp() override { StartStack(SeedSql()); }

  // Waits until the ledger holds `want` SENT notices of `kind`.
  int64_t WaitForSent(const std::string& id, const std::string& kind, int64_t want) {
    const std::string sql = absl::StrCat("SELECT count(*) FROM notice_ledger WHERE incident_id = '", id,
                                         "' AND notice_kind = '", kind, "' AND state = 'sent'");
    stack_.WaitForCount(sql, want);
    absl::SleepFor(absl::Milliseconds(500));  // let a duplicate surface, if any
    return std::stoll(stack_.db().Exec(sql));
  }
};

TEST_F(FanoutE2eTest, EveryAffectedCustomerGetsExactlyOneNoticePerChannelThenOneUpdate) {
  std::set<int> affected;
  for (int id = 1; id <= kAffected; ++id) affected.insert(id);
  const auto expected = testing::SeededRecipients(affected);

  const absl::Time start = absl::FromUnixSeconds(absl::ToUnixSeconds(absl::Now()));
  const absl::Time restore = start + absl::Hours(3) + absl::Minutes(17);
  v1::CreateIncidentRequest req =
      testing::OutageRequest("e2e-outage-1", "electricity", "riyadh", "A transformer failed at the Olaya substation",
                             "تعطل محول في محطة العليا", absl::ZeroDuration());
  req.mutable_starts_at()->set_seconds(absl::ToUnixSeconds(start));
  req.mutable_expected_restoration_at()->set_seconds(absl::ToUnixSeconds(restore));
  const auto created = stack_.CreateIncident(req);
  ASSERT_TRUE(created.ok()) << created.status();
  const v1::Incident& incident = *created;
  // A retried create (same key, same content) is the same incident.
  v1::Incident retried;
  ASSERT_TRUE(stack_.stub().CreateIncident(stack_.Ctx().get(), req, &retried).ok());
  EXPECT_EQ(retried.id(), incident.id());

  EXPECT_EQ(WaitForSent(incident.id(), "outage_started", expected.size()), static_cast<int64_t>(expected.size()));

  auto check = [&](const std::string& kind, int64_t version, absl::Time restoration) {
    std::map<std::pair<int64_t, std::string>, int> got;
    for (const auto& d : stack_.ReadOutbox()) {
      if (d.kind != kind) continue;
      EXPECT_EQ(d.version, version);
      ++got[{d.customer_id, d.channel}];
      const testing::SeededCustomer c = testing::SeededCustomerFor(static_cast<int>(d.customer_id));
      const std::string text = d.line.at("text").get<std::string>();
      EXPECT_NE(text.find(c.locale == "ar" ? req.reason().ar() : req.reason().en()), std::string::npos)
          << "customer " << d.customer_id << " got: " << text;
      EXPECT_NE(text.find(LocalClock(restoration, c.tz)), std::string::npos)
          << "customer " << d.customer_id << " (" << c.tz << ") expected " << LocalClock(restoration, c.tz)
          << " in: " << text;
    }
    std::set<std::pair<int64_t, std::string>> seen;
    for (const auto& [key, n] : got) {
      EXPECT_EQ(n, 1) << "customer " << key.first << " got " << n << " " << key.second << " " << kind << " notices";
      seen.insert(key);
    }
    EXPECT_EQ(seen, expected) << kind << ": the set of notified (customer, channel) pairs differs";
  };
  check("outage_started", 1, restore);

  // The estimate moves: everyone hears exactly once more, with the new time.
  const absl::Time new_restore = restore + absl::Hours(2) + absl::Minutes(4);
  v1::UpdateIncidentRequest update;
  update.set_id(incident.id());
  update.mutable_expected_restoration_at()->set_seconds(absl::ToUnixSeconds(new_restore));
  v1::Incident updated;
  auto status = stack_.stub().UpdateIncident(stack_.Ctx().get(), update, &updated);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(updated.version(), 2);
  EXPECT_EQ(WaitForSent(incident.id(), "outage_updated", expected.size()), static_cast<int64_t>(expected.size()));
  check("outage_updated", 2, new_restore);
  check("outage_started", 1, restore);  // unchanged: no stale resend

  // Preview: one sample per language and channel, the audience size, and
  // the SMS cost within its budget.
  v1::PreviewNoticesRequest preview_req;
  preview_req.set_incident_id(incident.id());
  v1::PreviewNoticesResponse preview;
  ASSERT_TRUE(stack_.stub().PreviewNotices(stack_.Ctx().get(), preview_req, &preview).ok());
  EXPECT_EQ(preview.notice_kind(), "outage_updated");
  EXPECT_EQ(preview.previews_size(), 4);
  int64_t sms = 0;
  for (const auto& [id, channel] : expected) sms += channel == "sms";
  EXPECT_EQ(preview.sms_recipients(), sms);
  EXPECT_EQ(preview.email_recipients(), static_cast<int64_t>(expected.size()) - sms);
  for (const auto& p : preview.previews()) {
    if (p.channel() != v1::SMS) continue;
    EXPECT_EQ(p.sms_encoding(), p.locale() == "ar" ? "ucs2" : "gsm7");
    EXPECT_GE(p.sms_segments(), 1);
    EXPECT_FALSE(p.over_budget()) << p.text();
  }
  preview_req.set_customer_id(kAffected + 1);  // not affected
  EXPECT_EQ(stack_.stub().PreviewNotices(stack_.Ctx().get(), preview_req, &preview).error_code(),
            grpc::StatusCode::NOT_FOUND);

  stack_.Stop();  // flush every log
  testing::ExpectNoPersonalDataInLogs(stack_.dir());
}

TEST_F(FanoutE2eTest, InvalidRequestsAreRejectedNamingTheFieldAndStoreNothing) {
  // No Arabic reason.
  v1::CreateIncidentRequest req =
      testing::OutageRequest("bad-1", "electricity", "riyadh", "Fault", "", absl::Hours(1));
  v1::Incident out;
  auto s = stack_.stub().CreateIncident(stack_.Ctx().get(), req, &out);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(s.error_message(), "reason.ar: must not be empty");

  req.mutable_reason()->set_ar("عطل");
  req.set_services(0, "gas");
  s = stack_.stub().CreateIncident(stack_.Ctx().get(), req, &out);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(s.error_message(), "services[0]: unknown service 'gas'");

  req.set_services(0, "electricity");
  req.mutable_starts_at()->set_seconds(absl::ToUnixSeconds(absl::Now() + absl::Hours(2)));
  s = stack_.stub().CreateIncident(stack_.Ctx().get(), req, &out);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(s.error_message(), "expected_restoration_at: must be after starts_at");

  EXPECT_EQ(stack_.db().Exec("SELECT count(*) FROM incidents"), "0");
  EXPECT_EQ(stack_.db().Exec("SELECT count(*) FROM outbox"), "0");
}

}  // namespace
}  // namespace forewarn
