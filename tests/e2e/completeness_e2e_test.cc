// End-to-end completeness check ("nobody left uninformed"): a fan-out
// completes, five SENT ledger rows are deleted (a lost delivery), and
// ReconcileIncident re-drives exactly those five.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <map>
#include <set>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "forewarn/v1/incident.grpc.pb.h"
#include "tests/e2e/stack.h"

namespace forewarn {
namespace {

using testing::RunCommand;

constexpr int kCustomers = 60;
constexpr int kAffected = 40;  // customers 1..40 use electricity in riyadh, by SMS and email

std::string SeedSql() {
  std::string sql =
      "INSERT INTO services VALUES ('electricity','Electricity','الكهرباء');"
      "INSERT INTO regions VALUES ('riyadh','Riyadh','الرياض'),('jeddah','Jeddah','جدة');"
      "INSERT INTO customers (id, name, locale, time_zone, phone, email) VALUES ";
  for (int id = 1; id <= kCustomers; ++id) {
    absl::StrAppend(&sql, id > 1 ? "," : "", "(", id, ",'Customer ", id, "','", id % 2 ? "en" : "ar",
                    "','Asia/Riyadh','+9665", 50000000 + id, "','c", id, "@example.com')");
  }
  absl::StrAppend(&sql, ";INSERT INTO customer_services VALUES ");
  for (int id = 1; id <= kCustomers; ++id) {
    absl::StrAppend(&sql, id > 1 ? "," : "", "('electricity','", id <= kAffected ? "riyadh" : "jeddah", "',", id, ")");
  }
  return sql + ";";
}

class CompletenessE2eTest : public testing::StackTest {
 protected:
  void SetUp() override { StartStack(SeedSql()); }
};

TEST_F(CompletenessE2eTest, ReconcileResendsExactlyTheLostNotices) {
  const auto created = stack_.CreateIncident(testing::OutageRequest(
      "completeness-1", "electricity", "riyadh", "Cable fault", "عطل في الكابل", absl::Hours(3)));
  ASSERT_TRUE(created.ok()) << created.status();
  const v1::Incident& incident = *created;
  const std::string sent_sql = testing::SentCountSql(incident.id());
  ASSERT_TRUE(stack_.WaitForCount(sent_sql, 2 * kAffected)) << "logs in " << stack_.dir();
  ASSERT_EQ(stack_.ReadOutbox().size(), 2u * kAffected);

  v1::GetDeliveryReportRequest report_req;
  report_req.set_incident_id(incident.id());
  v1::DeliveryReport report;
  ASSERT_TRUE(stack_.stub().GetDeliveryReport(stack_.Ctx().get(), report_req, &report).ok());
  EXPECT_EQ(report.uninformed(), 0);
  EXPECT_EQ(report.uninformed_notice_kind(), "outage_started");

  // Five deliveries are lost: their ledger rows vanish.
  const std::set<std::pair<int64_t, std::string>> lost = {
      {3, "sms"}, {7, "sms"}, {11, "email"}, {20, "email"}, {33, "sms"}};
  for (const auto& [customer, channel] : lost) {
    stack_.db().Exec(absl::StrCat("DELETE FROM notice_ledger WHERE incident_id = '", incident.id(),
                                  "' AND customer_id = ", customer, " AND channel = '", channel, "'"));
  }
  ASSERT_TRUE(stack_.stub().GetDeliveryReport(stack_.Ctx().get(), report_req, &report).ok());
  EXPECT_EQ(report.uninformed(), 5);
  EXPECT_EQ(report.uninformed_customers(), 5);

  // The operator's view: the report and a dry run with the CLI.
  const std::string cli = absl::StrCat(FOREWARN_BIN_DIR, "/services/cmd/cli/forewarn --target ", stack_.intake_target());
  const std::string text = RunCommand(absl::StrCat(cli, " incident report ", incident.id(), " 2>&1"));
  EXPECT_NE(text.find("(outage_started): 5 notices to 5 customers"), std::string::npos) << text;
  const std::string dry = RunCommand(absl::StrCat(cli, " incident reconcile ", incident.id(), " --dry-run 2>&1"));
  EXPECT_NE(dry.find("uninformed:  5 notices to 5 customers (5 missing, 0 failed, 0 dead-lettered, 0 pending)"), std::string::npos)
      << dry;
  EXPECT_NE(dry.find("customer 33 sms: missing"), std::string::npos) << dry;
  EXPECT_EQ(dry.find("Re-driven"), std::string::npos) << dry;

  v1::ReconcileIncidentRequest rec_req;
  rec_req.set_id(incident.id());
  v1::ReconcileIncidentResponse rec;
  auto status = stack_.stub().ReconcileIncident(stack_.Ctx().get(), rec_req, &rec);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(rec.audience(), 2 * kAffected);
  EXPECT_EQ(rec.uninformed(), 5);
  EXPECT_EQ(rec.missing(), 5);
  EXPECT_TRUE(rec.redriven()) << rec.note();
  std::set<std::pair<int64_t, std::string>> listed;
  for (const auto& r : rec.recipients()) {
    EXPECT_EQ(r.state(), v1::NOTICE_STATE_UNSPECIFIED);
    listed.insert({r.customer_id(), r.channel() == v1::SMS ? "sms" : "email"});
  }
  EXPECT_EQ(listed, lost);

  // The ledger is complete again, and exactly the five got a notice again.
  ASSERT_TRUE(stack_.WaitForCount(sent_sql, 2 * kAffected)) << "logs in " << stack_.dir();
  absl::SleepFor(absl::Seconds(2));  // let a duplicate show up, if any
  EXPECT_EQ(stack_.db().Exec(sent_sql), std::to_string(2 * kAffected));
  std::map<std::pair<int64_t, std::string>, int> got;
  for (const auto& d : stack_.ReadOutbox()) {
    EXPECT_EQ(d.kind, "outage_started");
    EXPECT_EQ(d.version, 1);
    ++got[{d.customer_id, d.channel}];
  }
  EXPECT_EQ(got.size(), 2u * kAffected);
  for (const auto& [key, n] : got) {
    EXPECT_EQ(n, lost.count(key) ? 2 : 1) << "customer " << key.first << " " << key.second;
  }
  ASSERT_TRUE(stack_.stub().GetDeliveryReport(stack_.Ctx().get(), report_req, &report).ok());
  EXPECT_EQ(report.uninformed(), 0);
  // Nothing left: a second reconcile queues nothing.
  ASSERT_TRUE(stack_.stub().ReconcileIncident(stack_.Ctx().get(), rec_req, &rec).ok());
  EXPECT_EQ(rec.uninformed(), 0);
  EXPECT_FALSE(rec.redriven());
}

}  // namespace
}  // namespace forewarn
