// End-to-end one-click unsubscribe (RFC 8058) and STOP by SMS: a maintenance
// email received by a real SMTP server (aiosmtpd) carries List-Unsubscribe;
// the test POSTs List-Unsubscribe=One-Click to that link over real HTTP at
// the intake's public endpoint; the preference is stored in PostgreSQL and
// the next maintenance sends that customer no email (SMS still). A tampered
// link is 404. STOP through the gateway's inbound webhook turns SMS off for
// maintenance; an unplanned outage still reaches the customer.
#include <gtest/gtest.h>
#include <httplib.h>

#include <filesystem>
#include <fstream>
#include <map>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "nlohmann/json.hpp"
#include "tests/e2e/stack.h"

namespace forewarn {
namespace {

namespace v1 = forewarn::v1;
using nlohmann::json;

constexpr char kLinkBase[] = "https://forewarn.example/u/";
constexpr char kGatewayKey[] = "inbound-gateway-secret-1234";

class UnsubscribeE2eTest : public testing::StackTest {
 protected:
  void SetUp() override {
    SkipWithoutPostgres();
    if (IsSkipped()) return;
    dir_ = testing::MakeTempDir("forewarn-unsub-");
    std::ofstream(dir_ + "/unsubscribe.key") << "1 " << std::string(48, 'u') << "\n";
    std::ofstream(dir_ + "/inbound.key") << kGatewayKey << "\n";
    smtp_ = std::make_unique<testing::ChildProcess>(
        std::vector<std::string>{"/usr/bin/python3", absl::StrCat(FOREWARN_CHANNEL_PEERS_DIR, "/smtp_sink.py"),
                                 "--port-file", dir_ + "/smtp.port", "--out-dir", dir_ + "/mail"},
        dir_ + "/smtp.log");
    ASSERT_TRUE(smtp_->Start().ok());
    std::string smtp_port;
    ASSERT_TRUE(testing::WaitForFile(dir_ + "/smtp.port", absl::Seconds(20), &smtp_port).ok());

    testing::ServiceStack::Options options;
    options.notifiers = 1;
    options.intake_args = {"--unsubscribe-secret-file", dir_ + "/unsubscribe.key", "--inbound-sms-secret-file",
                           dir_ + "/inbound.key", "--public-port-file", dir_ + "/public.port",
                           "--http-listen", "127.0.0.1:0", "--http-port-file", dir_ + "/intake-metrics.port"};
    options.notifier_args = {"--smtp-url", absl::StrCat("smtp://127.0.0.1:", smtp_port), "--smtp-tls", "none",
                             "--smtp-from", "notices@forewarn.example", "--unsubscribe-url", kLinkBase,
                             "--unsubscribe-secret-file", dir_ + "/unsubscribe.key"};
    // Sam: SMS and email; Layla: email only; Omar: SMS only. Not yet
    // imported through the directory, but named by an external id.
    StartStack(
        "INSERT INTO services VALUES ('water','Water','المياه');"
        "INSERT INTO regions VALUES ('jeddah','Jeddah','جدة');"
        "INSERT INTO customers (id, external_id, name, locale, time_zone, phone, email) VALUES "
        " (1,'crm-1','Sam Carter','en','Asia/Riyadh','+966512345671','sam@example.com'),"
        " (2,'crm-2','ليلى الحربي','ar','Asia/Riyadh',NULL,'layla@example.com'),"
        " (3,'crm-3','عمر','ar','Asia/Riyadh','+966512345673',NULL);"
        "INSERT INTO customer_services VALUES ('water','jeddah',1),('water','jeddah',2),('water','jeddah',3);",
        options);
    std::string port;
    ASSERT_TRUE(testing::WaitForFile(dir_ + "/public.port", absl::Seconds(20), &port).ok());
    public_ = std::make_unique<httplib::Client>("127.0.0.1", std::stoi(std::string(absl::StripAsciiWhitespace(port))));
    public_->set_read_timeout(10, 0);
    // Daytime in Riyadh, so maintenance notices are not held for quiet hours.
    const absl::CivilDay today = absl::ToCivilDay(absl::Now(), absl::UTCTimeZone());
    now_ = absl::FromCivil(absl::CivilHour(absl::CivilHour(today + 1) + 9), absl::UTCTimeZone());
    stack_.SetTimeOffset(now_ - absl::Now());
    absl::SleepFor(absl::Milliseconds(300));  // the services re-read the clock file
  }
  void TearDown() override {
    stack_.Stop();
    if (smtp_) smtp_->Stop();
  }

  v1::Incident Maintenance(const std::string& key, absl::Duration starts_in) {
    v1::ScheduleMaintenanceRequest req;
    req.set_idempotency_key(key);
    req.add_services("water");
    req.add_regions("jeddah");
    req.mutable_reason()->set_en("Valve replacement");
    req.mutable_reason()->set_ar("استبدال صمام");
    req.mutable_starts_at()->set_seconds(absl::ToUnixSeconds(now_ + starts_in));
    req.mutable_ends_at()->set_seconds(absl::ToUnixSeconds(now_ + starts_in + absl::Hours(2)));
    v1::Incident m;
    auto status = stack_.stub().ScheduleMaintenance(stack_.Ctx().get(), req, &m);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return m;
  }
  // The customers sent a notice of `incident` by `channel`, once `want` are.
  std::set<int64_t> SentTo(const std::string& incident, const std::string& channel, int64_t want) {
    const std::string where = absl::StrCat("FROM notice_ledger WHERE incident_id = '", incident, "' AND channel = '",
                                           channel, "' AND state = 'sent'");
    EXPECT_TRUE(stack_.WaitForCount(absl::StrCat("SELECT count(*) ", where), want))
        << channel << " of " << incident << "; logs in " << stack_.dir();
    absl::SleepFor(absl::Milliseconds(500));  // anything more would show now
    std::set<int64_t> out;
    const std::string ids = stack_.db().Exec(absl::StrCat("SELECT string_agg(customer_id::text, ',') ", where));
    for (absl::string_view id : absl::StrSplit(ids, ',', absl::SkipEmpty())) out.insert(std::stoll(std::string(id)));
    return out;
  }
  // Customer `id`'s stored channel bits for a category column (1 SMS, 2 email).
  int Channels(int id, const std::string& column) {
    return std::stoi(stack_.db().Exec(absl::StrCat("SELECT ", column, " FROM customers WHERE id = ", id)));
  }
  // The one-click link in the email to `address` about `incident`.
  json MailTo(const std::string& address, const std::string& incident) {
    for (const json& m : testing::JsonFilesIn(dir_ + "/mail")) {
      if (absl::StrContains(m.value("to", ""), address) && absl::StrContains(m.value("message_id", ""), incident)) {
        return m;
      }
    }
    ADD_FAILURE() << "no mail to " << address << " about " << incident;
    return json::object();
  }

  std::string dir_;
  absl::Time now_;
  std::unique_ptr<testing::ChildProcess> smtp_;
  std::unique_ptr<httplib::Client> public_;
};

TEST_F(UnsubscribeE2eTest, OneClickFromARealEmailStopsTheNextMaintenanceEmailOnly) {
  const v1::Incident first = Maintenance("unsub-m1", absl::Hours(3));
  ASSERT_FALSE(first.id().empty());
  EXPECT_EQ(SentTo(first.id(), "email", 2), (std::set<int64_t>{1, 2}));
  EXPECT_EQ(SentTo(first.id(), "sms", 2), (std::set<int64_t>{1, 3}));

  // The email as the SMTP server parsed it: RFC 8058 headers, the link in
  // the text and the HTML footer.
  const json mail = MailTo("sam@example.com", first.id());
  const std::string header = mail.value("list_unsubscribe", "");
  ASSERT_TRUE(absl::StartsWith(header, absl::StrCat("<", kLinkBase)) && absl::EndsWith(header, ">")) << mail.dump();
  EXPECT_EQ(mail.value("list_unsubscribe_post", ""), "List-Unsubscribe=One-Click");
  const std::string url = header.substr(1, header.size() - 2);
  EXPECT_NE(mail.value("text", "").find(url), std::string::npos);
  EXPECT_NE(mail.value("html", "").find(absl::StrCat("href=\"", url, "\"")), std::string::npos);
  const std::string path = url.substr(std::string(kLinkBase).size() - 3);  // "/u/TOKEN"
  ASSERT_TRUE(absl::StartsWith(path, "/u/")) << path;

  // A mail scanner's GET changes nothing; a tampered link is 404.
  auto page = public_->Get(path);
  ASSERT_TRUE(page) << httplib::to_string(page.error());
  EXPECT_EQ(page->status, 200);
  EXPECT_NE(page->body.find("Stop these emails?"), std::string::npos);
  EXPECT_EQ(Channels(1, "channels_maintenance"), 3);
  std::string tampered = path;
  tampered[4] = tampered[4] == 'A' ? 'B' : 'A';
  auto forged = public_->Post(tampered, "List-Unsubscribe=One-Click", "application/x-www-form-urlencoded");
  ASSERT_TRUE(forged);
  EXPECT_EQ(forged->status, 404);
  EXPECT_EQ(Channels(1, "channels_maintenance"), 3);

  // The mail program's one-click POST, twice (idempotent).
  for (int i = 0; i < 2; ++i) {
    auto done = public_->Post(path, "List-Unsubscribe=One-Click", "application/x-www-form-urlencoded");
    ASSERT_TRUE(done) << httplib::to_string(done.error());
    EXPECT_EQ(done->status, 200) << done->body;
  }
  EXPECT_EQ(Channels(1, "channels_maintenance"), 1);  // SMS only
  EXPECT_EQ(Channels(1, "channels_unplanned"), 3);
  EXPECT_EQ(Channels(2, "channels_maintenance"), 3);

  const v1::Incident second = Maintenance("unsub-m2", absl::Hours(4));
  ASSERT_FALSE(second.id().empty());
  EXPECT_EQ(SentTo(second.id(), "email", 1), (std::set<int64_t>{2}));
  EXPECT_EQ(SentTo(second.id(), "sms", 2), (std::set<int64_t>{1, 3}));

  std::string metrics_port;
  ASSERT_TRUE(testing::WaitForFile(dir_ + "/intake-metrics.port", absl::Seconds(5), &metrics_port).ok());
  const std::string metrics = testing::HttpGet(std::stoi(metrics_port), "/metrics");
  EXPECT_NE(metrics.find(R"(forewarn_unsubscribes_total{category="planned_maintenance",outcome="unsubscribed"} 2)"),
            std::string::npos)
      << metrics;
  EXPECT_NE(metrics.find("forewarn_unsubscribe_invalid_tokens_total 1"), std::string::npos) << metrics;
}

TEST_F(UnsubscribeE2eTest, StopByTextSilencesMaintenanceButNotAnOutage) {
  auto refused = public_->Post("/sms/inbound?key=wrong", "from=%2B966512345673&text=STOP",
                               "application/x-www-form-urlencoded");
  ASSERT_TRUE(refused) << httplib::to_string(refused.error());
  EXPECT_EQ(refused->status, 401);
  auto stop = public_->Post(absl::StrCat("/sms/inbound?key=", kGatewayKey),
                            R"({"from":"+966512345673","text":"إيقاف"})", "application/json");
  ASSERT_TRUE(stop);
  EXPECT_EQ(stop->status, 200);
  EXPECT_NE(stop->body.find("أرسل بدء"), std::string::npos) << stop->body;  // Omar reads Arabic
  // Bit 1 is SMS (the email bit of a customer without an address means nothing).
  EXPECT_EQ(Channels(3, "channels_maintenance") & 1, 0);
  EXPECT_EQ(Channels(3, "channels_unplanned") & 1, 1);  // no email to fall back on: SMS stays
  auto stranger = public_->Post(absl::StrCat("/sms/inbound?key=", kGatewayKey), "from=%2B966512349999&text=STOP",
                                "application/x-www-form-urlencoded");
  ASSERT_TRUE(stranger);
  EXPECT_EQ(stranger->status, 200);

  const v1::Incident maintenance = Maintenance("stop-m1", absl::Hours(3));
  ASSERT_FALSE(maintenance.id().empty());
  EXPECT_EQ(SentTo(maintenance.id(), "sms", 1), (std::set<int64_t>{1}));
  EXPECT_EQ(SentTo(maintenance.id(), "email", 2), (std::set<int64_t>{1, 2}));

  auto outage = stack_.CreateIncident(testing::OutageRequest("stop-o1", "water", "jeddah", "A main pipe burst",
                                                             "انفجار خط رئيسي",
                                                             (now_ - absl::Now()) + absl::Hours(5)));
  ASSERT_TRUE(outage.ok()) << outage.status();
  EXPECT_EQ(SentTo(outage->id(), "sms", 2), (std::set<int64_t>{1, 3}));

  stack_.Stop();
  testing::ExpectNoPersonalDataInLogs(stack_.dir());
}

}  // namespace
}  // namespace forewarn
