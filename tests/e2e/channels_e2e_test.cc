// End-to-end over real delivery protocols: the notifier sends email to a
// real SMTP server (aiosmtpd) and SMS to a local HTTP gateway that fails
// first (500, then a timeout, then 400): retry topic, retry topic, permanent
// failure and the email fallback. An invalid mobile number is reported and falls back
// to email too. A gateway refusing the credentials pauses SMS (circuit open,
// not ready) without using up attempts or falling back, until it accepts them.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>

#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"
#include "tests/e2e/stack.h"

namespace forewarn {
namespace {

namespace v1 = forewarn::v1;
using nlohmann::json;

std::string Peer(const char* script) { return absl::StrCat(FOREWARN_CHANNEL_PEERS_DIR, "/", script); }

class ChannelsE2eTest : public testing::StackTest {
 protected:
  void SetUp() override {
    SkipWithoutPostgres();
    if (IsSkipped()) return;
    dir_ = testing::MakeTempDir("forewarn-channels-");
    smtp_ = std::make_unique<testing::ChildProcess>(
        std::vector<std::string>{"/usr/bin/python3", Peer("smtp_sink.py"), "--port-file", dir_ + "/smtp.port",
                                 "--out-dir", dir_ + "/mail"},
        dir_ + "/smtp.log");
    gateway_ = std::make_unique<testing::ChildProcess>(
        std::vector<std::string>{"/usr/bin/python3", Peer("sms_gateway.py"), "--port-file", dir_ + "/sms.port",
                                 "--log", dir_ + "/sms-requests.jsonl", "--script-file", dir_ + "/sms-script",
                                 "--timeout-sleep", "3"},
        dir_ + "/gateway.log");
    ASSERT_TRUE(smtp_->Start().ok());
    ASSERT_TRUE(gateway_->Start().ok());
    std::string smtp_port, sms_port;
    ASSERT_TRUE(testing::WaitForFile(dir_ + "/smtp.port", absl::Seconds(20), &smtp_port).ok());
    ASSERT_TRUE(testing::WaitForFile(dir_ + "/sms.port", absl::Seconds(20), &sms_port).ok());

    testing::ServiceStack::Options options;
    options.notifiers = 1;
    options.notifier_args = {"--smtp-url", absl::StrCat("smtp://127.0.0.1:", smtp_port), "--smtp-tls", "none",
                             "--smtp-from", "notices@forewarn.example", "--smtp-from-name", "Forewarn",
                             "--sms-url", absl::StrCat("http://127.0.0.1:", sms_port, "/sms"),
                             "--sms-auth-header", "Authorization: Bearer test-token", "--sms-timeout-ms", "1000",
                             "--retry-backoff-ms", "200",
                             "--http-listen", "127.0.0.1:0", "--http-port-file", dir_ + "/notifier-metrics.port"};
    StartStack(
        "INSERT INTO services VALUES ('water','Water','المياه');"
        "INSERT INTO regions VALUES ('jeddah','Jeddah','جدة');"
        "INSERT INTO customers (id, name, locale, time_zone, phone, email, channels_unplanned, "
        "  channels_maintenance, channels_banking) VALUES "
        " (1,'Sam Carter','en','Asia/Riyadh','+966512345671','sam@example.com',1,1,1),"
        " (2,'ليلى الحربي','ar','Asia/Riyadh',NULL,'layla@example.com',2,2,2),"
        " (3,'Omar','en','Asia/Riyadh','+96600000','omar@example.com',1,1,1),"
        " (4,'Not affected','en','Asia/Riyadh','+966512345674','no@example.com',3,3,3);"
        "INSERT INTO customer_services VALUES ('water','jeddah',1),('water','jeddah',2),('water','jeddah',3);",
        options);
  }
  void TearDown() override {
    stack_.Stop();
    if (gateway_) gateway_->Stop();
    if (smtp_) smtp_->Stop();
  }

  // The gateway's next answers (then 200 for every request).
  void ScriptGateway(const std::string& items) {
    std::ofstream(dir_ + "/sms-script.tmp") << items;
    std::filesystem::rename(dir_ + "/sms-script.tmp", dir_ + "/sms-script");
  }
  std::vector<json> GatewayRequests() const {
    std::ifstream log(dir_ + "/sms-requests.jsonl");
    std::vector<json> requests;
    for (std::string line; std::getline(log, line);) requests.push_back(json::parse(line));
    return requests;
  }
  int MetricsPort() {
    std::string port;
    EXPECT_TRUE(testing::WaitForFile(dir_ + "/notifier-metrics.port", absl::Seconds(5), &port).ok());
    return port.empty() ? 0 : std::stoi(port);
  }
  v1::Incident CreateOutage(const std::string& key) {
    auto incident = stack_.CreateIncident(testing::OutageRequest(
        key, "water", "jeddah", "A main pipe burst on King Road", "انفجار خط رئيسي في طريق الملك", absl::Hours(5)));
    EXPECT_TRUE(incident.ok()) << incident.status();
    return incident.ok() ? *std::move(incident) : v1::Incident();
  }

  std::string dir_;
  std::unique_ptr<testing::ChildProcess> smtp_, gateway_;
};

TEST_F(ChannelsE2eTest, SmsRetriesThenFallsBackToEmailAndEmailArrivesOverSmtp) {
  ScriptGateway("500,timeout,400");
  const v1::Incident incident = CreateOutage("channels-1");
  ASSERT_FALSE(incident.id().empty());

  // Three emails: Layla's own, and the fallbacks for Sam and Omar.
  const std::string emails_sent = absl::StrCat("SELECT count(*) FROM notice_ledger WHERE incident_id = '",
                                               incident.id(), "' AND channel = 'email' AND state = 'sent'");
  ASSERT_TRUE(stack_.WaitForCount(emails_sent, 3)) << "logs in " << stack_.dir();

  std::map<int64_t, std::pair<std::string, std::string>> sms;  // customer -> state, error
  const std::string rows = stack_.db().Exec(absl::StrCat(
      "SELECT string_agg(customer_id || '|' || state || '|' || coalesce(error, ''), E'\\n' ORDER BY customer_id) "
      "FROM notice_ledger WHERE incident_id = '", incident.id(), "' AND channel = 'sms'"));
  EXPECT_NE(rows.find("1|failed|"), std::string::npos) << rows;
  EXPECT_NE(rows.find("400"), std::string::npos) << "the gateway's 400 is reported: " << rows;
  EXPECT_NE(rows.find("3|failed|invalid mobile number"), std::string::npos) << rows;

  // The gateway saw exactly three attempts for Sam (500, timeout, 400),
  // authenticated, with the text and a deterministic reference, the same
  // idempotency key on each.
  const std::vector<json> requests = GatewayRequests();
  ASSERT_EQ(requests.size(), 3u);
  const std::string sam_sms_id = absl::StrCat("<", incident.id(), ".v1.outage_started.c1.sms@forewarn>");
  for (const auto& r : requests) {
    EXPECT_NE(r.dump().find("Bearer test-token"), std::string::npos) << r.dump();
    EXPECT_EQ(r["headers"].value("idempotency-key", ""), sam_sms_id) << r.dump();
  }
  EXPECT_NE(requests[0].dump().find("King Road"), std::string::npos);

  // The SMTP server parsed three MIME messages.
  std::map<std::string, json> mail;
  for (auto& m : testing::JsonFilesIn(dir_ + "/mail")) mail[m.value("to", "")] = m;
  ASSERT_EQ(mail.size(), 3u);
  auto find = [&](const std::string& addr) -> const json& {
    for (const auto& [to, m] : mail) {
      if (to.find(addr) != std::string::npos) return m;
    }
    static const json kNone;
    ADD_FAILURE() << "no mail to " << addr;
    return kNone;
  };
  const json& layla = find("layla@example.com");
  EXPECT_EQ(layla.value("subject", ""), "انقطاع في خدمة المياه (جدة)");
  EXPECT_NE(layla.value("text", "").find("انفجار خط رئيسي في طريق الملك"), std::string::npos);
  EXPECT_NE(layla.value("html", "").find("dir=\"rtl\""), std::string::npos);
  const json& sam = find("sam@example.com");
  EXPECT_NE(sam.value("text", "").find("A main pipe burst on King Road"), std::string::npos);
  EXPECT_EQ(sam.value("message_id", ""),
            absl::StrCat("<", incident.id(), ".v1.outage_started.c1.email@forewarn>"));
  find("omar@example.com");
  for (const auto& [to, m] : mail) EXPECT_EQ(to.find("no@example.com"), std::string::npos);

  // The notifier's Prometheus endpoint counts what happened.
  const int metrics_port = MetricsPort();
  const std::string metrics = testing::HttpGet(metrics_port, "/metrics");
  EXPECT_NE(metrics.find(R"(forewarn_notices_total{channel="email",kind="outage_started",state="sent"} 3)"),
            std::string::npos)
      << metrics;
  EXPECT_NE(metrics.find(R"(forewarn_notices_total{channel="sms",kind="outage_started",state="failed"} 2)"),
            std::string::npos)
      << metrics;
  EXPECT_NE(metrics.find("forewarn_provider_latency_seconds_bucket"), std::string::npos);
  EXPECT_NE(metrics.find(R"(forewarn_notices_total{channel="sms",kind="outage_started",state="retrying"} 2)"),
            std::string::npos)
      << metrics;
  // The timeout was an ambiguous send (the gateway had the request).
  EXPECT_NE(metrics.find(R"(forewarn_ambiguous_sends_total{channel="sms"} 1)"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find(R"(forewarn_provider_faults_total{channel="sms",reason="auth"} 0)"), std::string::npos)
      << metrics;
  EXPECT_NE(testing::HttpGet(metrics_port, "/readyz").find("\r\n\r\nready"), std::string::npos);

  stack_.Stop();  // flush every log; the failures above were logged masked
  testing::ExpectNoPersonalDataInLogs(stack_.dir());
}

TEST_F(ChannelsE2eTest, RefusedCredentialsPauseSmsAndReadinessWithoutUsingAttempts) {
  const int metrics_port = MetricsPort();
  ASSERT_NE(testing::HttpGet(metrics_port, "/readyz").find("\r\n\r\nready"), std::string::npos);
  ScriptGateway("401,403");  // then the credentials are accepted again
  const v1::Incident incident = CreateOutage("channels-auth");
  ASSERT_FALSE(incident.id().empty());

  // The circuit opens on the first refusal: the notifier says it is not
  // ready, and why, while the SMS waits.
  bool not_ready_seen = false;
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  while (!not_ready_seen && absl::Now() < deadline) {
    not_ready_seen = testing::HttpGet(metrics_port, "/readyz").find("not ready") != std::string::npos;
    if (!not_ready_seen) absl::SleepFor(absl::Milliseconds(20));
  }
  EXPECT_TRUE(not_ready_seen) << "logs in " << stack_.dir();

  const std::string sms_sent = absl::StrCat("SELECT count(*) FROM notice_ledger WHERE incident_id = '",
                                            incident.id(), "' AND channel = 'sms' AND state = 'sent'");
  ASSERT_TRUE(stack_.WaitForCount(sms_sent, 1)) << "logs in " << stack_.dir();
  // Sent on its first attempt: the refusals were not the notice's failures.
  EXPECT_EQ(stack_.db().Exec(absl::StrCat("SELECT delivery_attempts || '|' || coalesce(error, '') FROM notice_ledger "
                                          "WHERE incident_id = '", incident.id(), "' AND customer_id = 1")),
            "0|");
  // No email fallback for Sam: the emails are Layla's and Omar's.
  const std::string emails_sent = absl::StrCat("SELECT count(*) FROM notice_ledger WHERE incident_id = '",
                                               incident.id(), "' AND channel = 'email' AND state = 'sent'");
  ASSERT_TRUE(stack_.WaitForCount(emails_sent, 2));
  EXPECT_EQ(stack_.db().Exec(absl::StrCat("SELECT count(*) FROM notice_ledger WHERE incident_id = '", incident.id(),
                                          "' AND customer_id = 1 AND channel = 'email'")),
            "0");

  // The gateway saw the refused requests and the accepted one, one key.
  const std::vector<json> requests = GatewayRequests();
  ASSERT_EQ(requests.size(), 3u);
  for (const auto& r : requests) {
    EXPECT_EQ(r["headers"].value("idempotency-key", ""),
              absl::StrCat("<", incident.id(), ".v1.outage_started.c1.sms@forewarn>"));
  }
  EXPECT_EQ(requests[0]["answer"], "401");
  EXPECT_EQ(requests[1]["answer"], "403");
  EXPECT_EQ(requests[2]["answer"], "200");

  const std::string metrics = testing::HttpGet(metrics_port, "/metrics");
  EXPECT_NE(metrics.find(R"(forewarn_provider_faults_total{channel="sms",reason="auth"} 2)"), std::string::npos)
      << metrics;
  EXPECT_EQ(metrics.find(R"(channel="sms",kind="outage_started",state="retrying")"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find(R"(channel="sms",kind="outage_started",state="failed"} 1)"), std::string::npos)
      << metrics;  // only Omar's invalid number failed
  EXPECT_NE(testing::HttpGet(metrics_port, "/readyz").find("\r\n\r\nready"), std::string::npos);

  stack_.Stop();
  const std::string log = testing::ReadFile(stack_.dir() + "/notifier-1.log");
  EXPECT_NE(log.find("event=provider_fault channel=sms reason=auth"), std::string::npos) << stack_.dir();
  testing::ExpectNoPersonalDataInLogs(stack_.dir());
}

}  // namespace
}  // namespace forewarn
