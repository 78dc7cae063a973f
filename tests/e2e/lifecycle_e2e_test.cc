// End-to-end lifecycle: planned maintenance three days ahead, with the time
// every service sees moved forward through the reminders, the start and the
// completion; and an IBAN change reaching the holder and the beneficiaries.
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "tests/e2e/stack.h"

namespace forewarn {
namespace {

namespace v1 = forewarn::v1;

constexpr int kCustomers = 80;
constexpr int kAffected = 50;
const char* const kOldIban = "SA0380000000608010167519";
const char* const kNewIban = "SA4420000001234567891234";
const char* const kOtherIban = "GB82WEST12345698765432";
constexpr int kHolder = 62;
const std::set<int> kBeneficiaries = {10, 17, 72};

std::string SeedSql() {
  std::string sql =
      "INSERT INTO services VALUES ('electricity','Electricity','الكهرباء'),('water','Water','المياه');"
      "INSERT INTO regions VALUES ('riyadh','Riyadh','الرياض'),('jeddah','Jeddah','جدة');"
      "INSERT INTO customers (id, name, locale, time_zone, phone, email, channels_unplanned, "
      "  channels_maintenance, channels_banking) VALUES ";
  std::string uses = "INSERT INTO customer_services VALUES ";
  for (int id = 1; id <= kCustomers; ++id) {
    absl::StrAppend(&sql, id > 1 ? "," : "", testing::SeededCustomerRow(id, 30000000, "c"));
    absl::StrAppend(&uses, id > 1 ? "," : "",
                    id <= kAffected ? absl::StrCat("('electricity','riyadh',", id, ")")
                                    : absl::StrCat(id % 2 ? "('water','riyadh'," : "('electricity','jeddah',", id, ")"));
  }
  absl::StrAppend(&sql, ";", uses, ";");
  absl::StrAppend(&sql, "INSERT INTO accounts VALUES ('", kOldIban, "',", kHolder, ");");
  for (int b : kBeneficiaries) absl::StrAppend(&sql, "INSERT INTO beneficiaries VALUES (", b, ",'", kOldIban, "','');");
  absl::StrAppend(&sql, "INSERT INTO beneficiaries VALUES (5,'", kOtherIban, "','');");
  return sql;
}

class LifecycleE2eTest : public testing::StackTest {
 protected:
  // Reminders exactly at their lead (no margin before the deadline), so the
  // timeline below reads in leads.
  void SetUp() override {
    testing::ServiceStack::Options options;
    options.intake_args = {"--lead-margin", "0s"};
    StartStack(SeedSql(), options);
  }
  // Moves every service's clock so that it reads `t` now.
  void TravelTo(absl::Time t) { stack_.SetTimeOffset(t - absl::Now()); }
  std::string SentCount(const std::string& id, const std::string& kind, const std::string& occasion = "") {
    return absl::StrCat("SELECT count(*) FROM notice_ledger WHERE incident_id = '", id, "' AND notice_kind = '",
                        kind, "' AND occasion = '", occasion, "' AND state = 'sent'");
  }
};

TEST_F(LifecycleE2eTest, MaintenanceThreeDaysAheadRemindsStartsAndCompletesOnceEachInsideQuietHours) {
  std::set<int> affected;
  for (int id = 1; id <= kAffected; ++id) affected.insert(id);
  const auto expected = testing::SeededRecipients(affected);
  const int64_t n = static_cast<int64_t>(expected.size());

  // Starts at 12:00 UTC three days from today: 15:00 in Riyadh, 07:00 in
  // New York, so the New York reminders fall before the local window.
  const absl::CivilDay today = absl::ToCivilDay(absl::Now(), absl::UTCTimeZone());
  const absl::Time start = absl::FromCivil(absl::CivilHour(absl::CivilHour(today + 3) + 12), absl::UTCTimeZone());
  const absl::Time end = start + absl::Hours(4);
  v1::ScheduleMaintenanceRequest req;
  req.set_idempotency_key("maintenance-e2e");
  req.add_services("electricity");
  req.add_regions("riyadh");
  req.mutable_reason()->set_en("Replacing the main transformer");
  req.mutable_reason()->set_ar("استبدال المحول الرئيسي");
  req.mutable_starts_at()->set_seconds(absl::ToUnixSeconds(start));
  req.mutable_ends_at()->set_seconds(absl::ToUnixSeconds(end));
  v1::Incident m;
  auto status = stack_.stub().ScheduleMaintenance(stack_.Ctx().get(), req, &m);
  ASSERT_TRUE(status.ok()) << status.error_message();

  const std::vector<std::tuple<absl::Time, std::string, std::string>> steps = {
      {start - absl::Hours(48) + absl::Minutes(1), "", ""},  // 48h reminders; New York held
      {start - absl::Hours(46) + absl::Minutes(1), "maintenance_reminder", "lead-48h"},  // 09:xx in New York
      {start - absl::Hours(2) + absl::Minutes(1), "", ""},  // 2h reminders; New York held
      {start + absl::Minutes(1), "maintenance_started", ""},
      {start + absl::Hours(2) + absl::Minutes(1), "maintenance_reminder", "lead-2h"},
      {end + absl::Minutes(1), "maintenance_completed", ""},
  };
  for (const auto& [when, kind, occasion] : steps) {
    TravelTo(when);
    if (kind.empty()) {
      absl::SleepFor(absl::Seconds(3));  // let the held ones be held
      continue;
    }
    EXPECT_TRUE(stack_.WaitForCount(SentCount(m.id(), kind, occasion), n))
        << kind << " " << occasion << ": only " << stack_.db().Exec(SentCount(m.id(), kind, occasion)) << " of " << n;
  }

  absl::SleepFor(absl::Milliseconds(500));  // let a duplicate surface, if any
  std::map<std::tuple<std::string, std::string, int64_t, std::string>, int> got;
  for (const auto& d : stack_.ReadOutbox()) {
    EXPECT_TRUE(expected.contains({d.customer_id, d.channel})) << "customer " << d.customer_id << " is not affected";
    ++got[{d.kind, d.occasion, d.customer_id, d.channel}];
    if (d.kind == "maintenance_reminder") {
      absl::TimeZone tz;
      ASSERT_TRUE(absl::LoadTimeZone(testing::SeededCustomerFor(static_cast<int>(d.customer_id)).tz, &tz));
      absl::Time sent;
      std::string err;
      ASSERT_TRUE(absl::ParseTime(absl::RFC3339_full, d.line.at("sent_at").get<std::string>(), &sent, &err)) << err;
      const int hour = absl::ToCivilHour(sent, tz).hour();
      EXPECT_TRUE(hour >= 9 && hour < 22) << "customer " << d.customer_id << " got a reminder at " << hour << ":xx";
    }
  }
  for (const auto& [kind, occasion] : std::vector<std::pair<std::string, std::string>>{
           {"maintenance_reminder", "lead-48h"}, {"maintenance_reminder", "lead-2h"},
           {"maintenance_started", ""}, {"maintenance_completed", ""}}) {
    for (const auto& [customer, channel] : expected) {
      EXPECT_EQ((got[{kind, occasion, customer, channel}]), 1)
          << kind << " " << occasion << " to customer " << customer << " by " << channel;
    }
  }
  EXPECT_EQ(stack_.db().Exec(absl::StrCat("SELECT state FROM incidents WHERE id = '", m.id(), "'")), "resolved");
}

TEST_F(LifecycleE2eTest, IbanChangeReachesTheHolderAndTheBeneficiariesAndNobodyElse) {
  // 10:00 UTC tomorrow: daytime for every customer involved.
  const absl::CivilDay today = absl::ToCivilDay(absl::Now(), absl::UTCTimeZone());
  const absl::Time now = absl::FromCivil(absl::CivilHour(absl::CivilHour(today + 1) + 10), absl::UTCTimeZone());
  TravelTo(now);
  absl::SleepFor(absl::Milliseconds(300));  // the services re-read the clock file

  v1::AnnounceIbanChangeRequest req;
  req.set_idempotency_key("iban-e2e");
  req.set_old_iban("SA03 8000 0000 6080 1016 7519");
  req.set_new_iban("SA44 2000 0001 2345 6789 1234");
  req.mutable_effective_at()->set_seconds(absl::ToUnixSeconds(now + absl::Hours(24 * 10)));
  req.mutable_reason()->set_en("Your branch merged with the main branch");
  req.mutable_reason()->set_ar("دمج فرعك مع الفرع الرئيسي");
  v1::Incident incident;
  auto status = stack_.stub().AnnounceIbanChange(stack_.Ctx().get(), req, &incident);
  ASSERT_TRUE(status.ok()) << status.error_message();

  const auto holder = testing::SeededRecipients({kHolder});
  const auto beneficiaries = testing::SeededRecipients(kBeneficiaries);
  EXPECT_TRUE(stack_.WaitForCount(SentCount(incident.id(), "iban_change_holder"), holder.size()));
  EXPECT_TRUE(stack_.WaitForCount(SentCount(incident.id(), "iban_change_beneficiary"), beneficiaries.size()));

  absl::SleepFor(absl::Milliseconds(500));  // let a duplicate surface, if any
  std::set<std::pair<int64_t, std::string>> got_holder, got_beneficiaries;
  for (const auto& d : stack_.ReadOutbox()) {
    const std::string all = absl::StrCat(d.line.value("subject", ""), d.line.value("text", ""), d.line.value("html", ""));
    if (d.kind == "iban_change_holder") {
      EXPECT_TRUE(got_holder.insert({d.customer_id, d.channel}).second) << "duplicate to " << d.customer_id;
      EXPECT_NE(all.find("SA44 2000 0001 2345 6789 1234"), std::string::npos) << "holder must see the new IBAN";
    } else if (d.kind == "iban_change_beneficiary") {
      EXPECT_TRUE(got_beneficiaries.insert({d.customer_id, d.channel}).second) << "duplicate to " << d.customer_id;
      EXPECT_EQ(all.find("SA44 2000 0001 2345 6789 1234"), std::string::npos) << "beneficiaries see it masked";
      EXPECT_EQ(all.find(kNewIban), std::string::npos);
    } else {
      ADD_FAILURE() << "unexpected notice " << d.kind << " to " << d.customer_id;
    }
  }
  EXPECT_EQ(got_holder, holder);
  EXPECT_EQ(got_beneficiaries, beneficiaries);
}

}  // namespace
}  // namespace forewarn
