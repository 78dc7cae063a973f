// Informed means delivered, end to end: 2,000 customers of an outage, SMS
// through a real gateway to the project's SMSC simulator, which delivers
// 90 %, fails 5 % and never answers 5 % (by each number's hash). Through
// Kannel (bearerbox + smsbox over SMPP, receipts back on the dlr-url) and
// through the notifier's own SMPP channel (receipts from deliver_sm, with
// throttling injected): every notice ends delivered, or escalated to email
// exactly once, or reported undeliverable; the SMSC saw each SMS once; the
// delivery report's counts equal the simulator's.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "nlohmann/json.hpp"
#include "tests/e2e/stack.h"

namespace forewarn {
namespace {

constexpr int kCustomers = 2000;
constexpr char kSmscPassword[] = "secret";

// 2,000 Riyadh electricity customers who chose SMS for outages and have an
// email address; even ids Arabic (UCS-2 SMS), odd English.
std::string Customers() {
  return absl::StrCat(
      "INSERT INTO services VALUES ('power','Electricity','الكهرباء');"
      "INSERT INTO regions VALUES ('riyadh','Riyadh','الرياض');"
      "INSERT INTO customers (id, name, locale, time_zone, phone, email, channels_unplanned) "
      "SELECT g, 'Customer ' || g, CASE WHEN g % 2 = 0 THEN 'ar' ELSE 'en' END, 'Asia/Riyadh', "
      "  '+96650' || lpad(g::text, 7, '0'), 'c' || g || '@example.com', 1 FROM generate_series(1, ",
      kCustomers, ") g;",
      "INSERT INTO customer_services SELECT 'power', 'riyadh', g FROM generate_series(1, ", kCustomers, ") g;");
}

// What the simulator's log says it did, per message.
struct SmscLog {
  std::map<std::string, int> submits_to;    // destination -> messages
  std::map<std::string, int64_t> outcomes;  // delivered / undelivered / expired / silent -> messages
};

SmscLog ReadSmscLog(const std::string& path) {
  SmscLog out;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) {
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_discarded() || j.value("event", "") != "submit") continue;
    ++out.submits_to[j.value("to", "")];
    ++out.outcomes[j.value("outcome", "")];
  }
  return out;
}

class SmsReceiptsE2eTest : public testing::StackTest {
 protected:
  void SetUp() override {
    SkipWithoutPostgres();
    if (IsSkipped()) return;
    dir_ = testing::MakeTempDir("forewarn-receipts-");
    std::ofstream(dir_ + "/receipt.key") << std::string(48, 'r') << "\n";
    std::ofstream(dir_ + "/smpp.password") << kSmscPassword << "\n";
  }
  void TearDown() override {
    stack_.Stop();
    if (kannel_) {
      const std::string cmd = absl::StrCat("bash '", FOREWARN_SOURCE_DIR, "/scripts/kannel.sh' stop '", dir_,
                                           "' >>'", dir_, "/kannel.sh.log' 2>&1");
      EXPECT_EQ(std::system(cmd.c_str()), 0) << "see " << dir_ << "/kannel.sh.log";
    }
    if (smsc_) smsc_->Stop();
  }

  // The SMSC simulator: 90 % delivered, 5 % undelivered, 5 % never answered.
  void StartSmsc(const std::vector<std::string>& extra) {
    std::vector<std::string> argv = {"/usr/bin/python3", absl::StrCat(FOREWARN_SOURCE_DIR, "/tests/support/smsc_sim.py"),
                                     "--port-file", dir_ + "/smsc.port", "--log", dir_ + "/smsc.jsonl",
                                     "--password", kSmscPassword, "--delivered", "0.90", "--undelivered", "0.05",
                                     "--expired", "0", "--silent", "0.05", "--receipt-delay-ms", "200"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    smsc_ = std::make_unique<testing::ChildProcess>(argv, dir_ + "/smsc.log");
    ASSERT_TRUE(smsc_->Start().ok());
    ASSERT_TRUE(testing::WaitForFile(dir_ + "/smsc.port", absl::Seconds(20), &smsc_port_).ok());
  }

  // Kannel in front of the simulator; its sendsms settings.
  std::map<std::string, std::string> StartKannel() {
    const std::string cmd =
        absl::StrCat("bash '", FOREWARN_SOURCE_DIR, "/scripts/kannel.sh' start '", dir_, "' --smsc 127.0.0.1:",
                     smsc_port_, " --system-id forewarn --password ", kSmscPassword, " >'", dir_, "/kannel.out' 2>>'",
                     dir_, "/kannel.sh.log'");
    kannel_ = true;
    EXPECT_EQ(std::system(cmd.c_str()), 0) << "see " << dir_ << "/kannel.sh.log";
    std::map<std::string, std::string> env;
    std::ifstream in(dir_ + "/kannel.env");
    for (std::string line; std::getline(in, line);) {
      std::pair<std::string, std::string> kv = absl::StrSplit(line, absl::MaxSplits('=', 1));
      env[kv.first] = std::string(absl::StripAsciiWhitespace(kv.second));
    }
    std::ofstream(dir_ + "/kannel.password") << env["SENDSMS_PASSWORD"] << "\n";
    return env;
  }

  void StartServices(std::vector<std::string> sms_args) {
    testing::ServiceStack::Options options;
    options.notifiers = 1;
    options.intake_args = {"--receipt-secret-file", dir_ + "/receipt.key", "--public-port-file", "{dir}/public.port"};
    options.notifier_args = std::move(sms_args);
    // A notice without a receipt after 30 s goes to email.
    options.notifier_args.insert(options.notifier_args.end(), {"--receipt-timeout", "sms=30s"});
    StartStack(Customers(), options);
  }

  int64_t Count(const std::string& where) {
    int64_t n = 0;
    EXPECT_TRUE(absl::SimpleAtoi(stack_.db().Exec(absl::StrCat("SELECT count(*) FROM notice_ledger WHERE ", where)), &n));
    return n;
  }

  // Waits for `sql` (a count) to reach `want`; fails naming the logs.
  void Await(const std::string& sql, int64_t want, absl::Duration timeout = absl::Seconds(120)) {
    ASSERT_TRUE(stack_.WaitForCount(sql, want, timeout))
        << sql << " never reached " << want << "; logs in " << stack_.dir() << " and " << dir_ << "; receipts "
        << stack_.db().Exec("SELECT string_agg(o || ':' || n, ' ') FROM (SELECT coalesce(outcome, 'pending') o, "
                            "count(*) n FROM notice_receipts GROUP BY 1) x")
        << "; ledger " << stack_.db().Exec("SELECT string_agg(s || ':' || n, ' ') FROM (SELECT channel || '/' || "
                                           "state s, count(*) n FROM notice_ledger GROUP BY 1) x")
        << "; sent without a receipt: "
        << stack_.db().Exec("SELECT string_agg(customer_id || '=' || coalesce(provider_id, '-'), ' ') FROM (SELECT "
                            "* FROM notice_ledger WHERE channel = 'sms' AND state = 'sent' LIMIT 20) x");
  }

  // Runs the outage and checks every notice's end against the simulator.
  void OutageEndsDeliveredEscalatedOrUndeliverable() {
    auto incident = stack_.CreateIncident(testing::OutageRequest("receipts-1", "power", "riyadh", "Cable fault",
                                                                 "عطل في الكابل", absl::Hours(3)));
    ASSERT_TRUE(incident.ok()) << incident.status();
    ASSERT_NO_FATAL_FAILURE(Await("SELECT count(*) FROM notice_ledger WHERE channel = 'sms' AND state IN "
                                  "('delivered', 'undelivered', 'sent')",
                                  kCustomers, absl::Seconds(240)));
    // Every receipt the simulator sent has settled its notice, and every
    // notice not delivered was escalated (its timer stopped) and its email sent.
    SmscLog smsc;
    for (int i = 0; i < 100 && smsc.submits_to.size() < static_cast<size_t>(kCustomers); ++i) {
      smsc = ReadSmscLog(dir_ + "/smsc.jsonl");
      absl::SleepFor(absl::Milliseconds(100));
    }
    ASSERT_NO_FATAL_FAILURE(Await("SELECT count(*) FROM notice_ledger WHERE channel = 'sms' AND state IN "
                                  "('delivered', 'undelivered')",
                                  smsc.outcomes["delivered"] + smsc.outcomes["undelivered"]));
    ASSERT_NO_FATAL_FAILURE(Await("SELECT count(*) FROM notice_ledger WHERE channel = 'sms' AND "
                                  "(state = 'delivered' OR escalated_at IS NOT NULL) AND receipt_due_at IS NULL",
                                  kCustomers));
    const int64_t escalated = Count("channel = 'sms' AND escalated_to = 'email'");
    ASSERT_NO_FATAL_FAILURE(Await("SELECT count(*) FROM notice_ledger WHERE channel = 'email' AND state = 'sent'",
                                  escalated, absl::Seconds(60)));
    absl::SleepFor(absl::Seconds(2));  // a duplicate would show now

    // The SMSC saw each customer's SMS exactly once.
    smsc = ReadSmscLog(dir_ + "/smsc.jsonl");
    EXPECT_EQ(smsc.submits_to.size(), static_cast<size_t>(kCustomers));
    for (const auto& [to, n] : smsc.submits_to) EXPECT_EQ(n, 1) << to;
    // The ledger's ends are the simulator's own outcomes.
    EXPECT_EQ(Count("channel = 'sms' AND state = 'delivered'"), smsc.outcomes["delivered"]);
    EXPECT_EQ(Count("channel = 'sms' AND state = 'undelivered'"), smsc.outcomes["undelivered"]);
    EXPECT_EQ(Count("channel = 'sms' AND state = 'sent'"), smsc.outcomes["silent"]);
    EXPECT_GT(smsc.outcomes["undelivered"], 50);
    EXPECT_GT(smsc.outcomes["silent"], 50);
    // Every SMS not delivered went to email, once; nobody is undeliverable
    // here (everyone has an email address). A receipt later than the timeout
    // (none expected) would add a delivered SMS that was escalated too.
    EXPECT_EQ(Count("channel = 'sms' AND state <> 'delivered' AND escalated_to IS DISTINCT FROM 'email'"), 0);
    EXPECT_EQ(Count("channel = 'email'"), escalated);
    EXPECT_EQ(escalated, smsc.outcomes["undelivered"] + smsc.outcomes["silent"])
        << Count("channel = 'sms' AND state = 'delivered' AND escalated_at IS NOT NULL")
        << " delivered SMS were escalated: their receipts came after the timeout";
    // The email outbox holds each escalated customer's email once.
    std::map<int64_t, int> emails;
    for (const auto& d : stack_.ReadOutbox()) {
      if (d.channel == "email") ++emails[d.customer_id];
    }
    EXPECT_EQ(static_cast<int64_t>(emails.size()), escalated);
    for (const auto& [customer, n] : emails) EXPECT_EQ(n, 1) << customer;
    ExpectReportMatches(incident->id(), smsc);
  }

  // The delivery report (GetDeliveryReport) counts what the simulator did.
  void ExpectReportMatches(const std::string& id, SmscLog& smsc) {
    v1::GetDeliveryReportRequest req;
    req.set_incident_id(id);
    v1::DeliveryReport report;
    auto status = stack_.stub().GetDeliveryReport(stack_.Ctx().get(), req, &report);
    ASSERT_TRUE(status.ok()) << status.error_message();
    std::map<std::pair<v1::Channel, v1::NoticeState>, int64_t> counts;
    for (const auto& c : report.counts()) counts[{c.channel(), c.state()}] += c.count();
    EXPECT_EQ((counts[{v1::SMS, v1::DELIVERED}]), smsc.outcomes.at("delivered"));
    EXPECT_EQ((counts[{v1::SMS, v1::UNDELIVERED}]), smsc.outcomes.at("undelivered"));
    EXPECT_EQ((counts[{v1::SMS, v1::SENT}]), smsc.outcomes.at("silent"));
    EXPECT_EQ((counts[{v1::EMAIL, v1::SENT}]), smsc.outcomes.at("undelivered") + smsc.outcomes.at("silent"));
    // Each customer was reached or escalated: nobody is uninformed.
    EXPECT_EQ(report.uninformed_customers(), 0);
  }

  std::string dir_, smsc_port_;
  std::unique_ptr<testing::ChildProcess> smsc_;
  bool kannel_ = false;
};

TEST_F(SmsReceiptsE2eTest, ThroughKannelEveryNoticeEndsDeliveredEscalatedOrUndeliverable) {
  if (std::system("test -x /usr/sbin/bearerbox") != 0) GTEST_SKIP() << "Kannel (bearerbox) is not installed";
  ASSERT_NO_FATAL_FAILURE(StartSmsc({"--dc0", "gsm"}));
  std::map<std::string, std::string> kannel = StartKannel();
  ASSERT_FALSE(kannel["SENDSMS_URL"].empty()) << "see " << dir_ << "/kannel.sh.log";
  ASSERT_NO_FATAL_FAILURE(StartServices(
      {"--sms-provider", "kannel", "--kannel-url", kannel["SENDSMS_URL"], "--kannel-user", kannel["SENDSMS_USER"],
       "--kannel-password-file", dir_ + "/kannel.password", "--receipt-url", "http://127.0.0.1:{public_port}",
       "--receipt-secret-file", dir_ + "/receipt.key"}));
  OutageEndsDeliveredEscalatedOrUndeliverable();
}

TEST_F(SmsReceiptsE2eTest, ThroughTheSmppChannelWithThrottlingEveryNoticeEndsTheSameWay) {
  // One submit in ten refused as throttled, and at most 400 a second.
  ASSERT_NO_FATAL_FAILURE(StartSmsc({"--throttle-share", "0.1", "--max-tps", "400"}));
  ASSERT_NO_FATAL_FAILURE(StartServices({"--sms-provider", "smpp", "--smpp-host",
                                         absl::StrCat("127.0.0.1:", smsc_port_), "--smpp-system-id", "forewarn",
                                         "--smpp-password-file", dir_ + "/smpp.password"}));
  OutageEndsDeliveredEscalatedOrUndeliverable();
  std::ifstream in(dir_ + "/smsc.jsonl");
  int throttled = 0;
  for (std::string line; std::getline(in, line);) throttled += line.find("\"throttled\"") != std::string::npos;
  EXPECT_GT(throttled, 50) << "the simulator throttled too little to test it";
}

// Proof of notice for a maintenance three days ahead: 300 customers who
// chose SMS for maintenance get the 48-hour reminder through the SMPP
// channel; what the simulator never delivered is escalated to email before
// the deadline; once the deadline has passed the proof shows every
// delivered customer's reminder delivered before it and flags exactly the
// customers the simulator never delivered.
TEST_F(SmsReceiptsE2eTest, ProofOfNoticeForAMaintenanceThreeDaysAheadFlagsExactlyTheUndelivered) {
  constexpr int kMaintenanceCustomers = 300;
  ASSERT_NO_FATAL_FAILURE(StartSmsc({}));
  testing::ServiceStack::Options options;
  options.notifiers = 1;
  options.intake_args = {"--receipt-secret-file", dir_ + "/receipt.key"};
  options.notifier_args = {"--sms-provider", "smpp", "--smpp-host", absl::StrCat("127.0.0.1:", smsc_port_),
                           "--smpp-system-id", "forewarn", "--smpp-password-file", dir_ + "/smpp.password",
                           "--receipt-timeout", "sms=20s"};
  StartStack(absl::StrCat("INSERT INTO services VALUES ('power','Electricity','الكهرباء');"
                          "INSERT INTO regions VALUES ('riyadh','Riyadh','الرياض');"
                          "INSERT INTO customers (id, name, locale, time_zone, phone, email, channels_maintenance) "
                          "SELECT g, 'Customer ' || g, CASE WHEN g % 2 = 0 THEN 'ar' ELSE 'en' END, 'Asia/Riyadh', "
                          "  '+96650' || lpad(g::text, 7, '0'), 'c' || g || '@example.com', 1 "
                          "FROM generate_series(1, ", kMaintenanceCustomers, ") g;",
                          "INSERT INTO customer_services SELECT 'power', 'riyadh', g FROM generate_series(1, ",
                          kMaintenanceCustomers, ") g;"),
             options);
  if (HasFatalFailure()) return;
  // 06:00 in Riyadh: the reminder is released 12 h before its deadline, at
  // 18:00 there, inside the customers' 09:00-22:00 window.
  const absl::CivilDay today = absl::ToCivilDay(absl::Now(), absl::UTCTimeZone());
  const absl::Time now = absl::FromCivil(absl::CivilHour(absl::CivilHour(today + 1) + 3), absl::UTCTimeZone());
  stack_.SetTimeOffset(now - absl::Now());
  absl::SleepFor(absl::Milliseconds(300));
  v1::ScheduleMaintenanceRequest req;
  req.set_idempotency_key("proof-1");
  req.add_services("power");
  req.add_regions("riyadh");
  req.mutable_reason()->set_en("Transformer upgrade");
  req.mutable_reason()->set_ar("تحديث المحول");
  const absl::Time start = now + absl::Hours(72);
  req.mutable_starts_at()->set_seconds(absl::ToUnixSeconds(start));
  req.mutable_ends_at()->set_seconds(absl::ToUnixSeconds(start + absl::Hours(4)));
  v1::Incident m;
  auto status = stack_.stub().ScheduleMaintenance(stack_.Ctx().get(), req, &m);
  ASSERT_TRUE(status.ok()) << status.error_message();

  // The reminder goes out; receipts come back; what was not delivered goes
  // to email.
  stack_.SetTimeOffset(now + absl::Hours(12) + absl::Minutes(1) - absl::Now());
  ASSERT_NO_FATAL_FAILURE(Await("SELECT count(*) FROM notice_ledger WHERE channel = 'sms' AND "
                                "(state = 'delivered' OR escalated_at IS NOT NULL) AND receipt_due_at IS NULL",
                                kMaintenanceCustomers, absl::Seconds(180)));
  const int64_t escalated = Count("channel = 'sms' AND escalated_to = 'email'");
  ASSERT_NO_FATAL_FAILURE(Await("SELECT count(*) FROM notice_ledger WHERE channel = 'email' AND state = 'sent'",
                                escalated, absl::Seconds(60)));
  const SmscLog smsc = ReadSmscLog(dir_ + "/smsc.jsonl");
  std::set<int64_t> never_delivered;
  std::ifstream in(dir_ + "/smsc.jsonl");
  for (std::string line; std::getline(in, line);) {
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_discarded() || j.value("event", "") != "submit" || j.value("outcome", "") == "delivered") continue;
    const std::string to = j.value("to", "");
    never_delivered.insert(std::stoll(to.substr(to.size() - 7)));
  }
  ASSERT_FALSE(never_delivered.empty());

  // After the deadline (the start minus 48 h), the proof.
  stack_.SetTimeOffset(now + absl::Hours(24) + absl::Minutes(1) - absl::Now());
  absl::SleepFor(absl::Milliseconds(300));
  v1::ProveNoticeRequest proof_req;
  proof_req.set_incident_id(m.id());
  proof_req.set_notice_kind("maintenance_reminder");
  proof_req.set_occasion("lead-48h");
  auto ctx = stack_.Ctx();
  auto reader = stack_.stub().ProveNotice(ctx.get(), proof_req);
  v1::ProveNoticeChunk chunk;
  std::set<int64_t> missed, met;
  v1::ProofSummary summary;
  const int64_t deadline = absl::ToUnixSeconds(start - absl::Hours(48));
  while (reader->Read(&chunk)) {
    for (const auto& p : chunk.proofs()) {
      EXPECT_EQ(p.deadline().seconds(), deadline);
      (p.met() ? met : missed).insert(p.customer_id());
      ASSERT_GE(p.channels_size(), 1);
      EXPECT_EQ(p.channels(0).channel(), v1::SMS);
      if (p.met()) {
        EXPECT_EQ(p.channels(0).state(), v1::DELIVERED);
        EXPECT_LE(p.channels(0).delivered_at().seconds(), deadline);
        EXPECT_TRUE(p.channels(0).met());
      } else {
        // Escalated to email before the deadline: sent there (email reports
        // no delivery here, so it cannot prove one).
        ASSERT_EQ(p.channels_size(), 2) << p.customer_id();
        EXPECT_EQ(p.channels(1).channel(), v1::EMAIL);
        EXPECT_TRUE(p.channels(1).escalation());
        EXPECT_LT(p.channels(1).sent_at().seconds(), deadline);
      }
    }
    if (chunk.last()) summary = chunk.summary();
  }
  ASSERT_TRUE(reader->Finish().ok());
  EXPECT_EQ(missed, never_delivered);
  EXPECT_EQ(static_cast<int64_t>(met.size()), smsc.outcomes.at("delivered"));
  EXPECT_EQ(summary.customers(), kMaintenanceCustomers);
  EXPECT_EQ(summary.met(), static_cast<int64_t>(met.size()));
  EXPECT_EQ(summary.missed(), static_cast<int64_t>(never_delivered.size()));
  EXPECT_EQ(summary.pending(), 0);
}

}  // namespace
}  // namespace forewarn
