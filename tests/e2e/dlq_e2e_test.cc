// Retries and dead letters end to end: the SMS gateway fails 30 % of the
// requests during a first fan-out, then is down for a while during a second
// one, then works. Every notice ends sent or dead-lettered (never lost, never
// twice at the gateway); the dead ones are listed by `forewarn dlq list`,
// counted by the intake's forewarn_dlq_size gauge, and `forewarn dlq replay`
// delivers each of them exactly once.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "nlohmann/json.hpp"
#include "tests/e2e/stack.h"

namespace forewarn {
namespace {

using nlohmann::json;

constexpr int kCustomers = 300;
constexpr int kMaxAttempts = 3;

std::string Phone(int customer) { return absl::StrCat("+9665123", 10000 + customer); }

class DlqE2eTest : public testing::StackTest {
 protected:
  void SetUp() override {
    SkipWithoutPostgres();
    if (IsSkipped()) return;
    dir_ = testing::MakeTempDir("forewarn-dlq-");
    mode_file_ = dir_ + "/gateway.mode";
    gateway_ = std::make_unique<testing::ChildProcess>(
        std::vector<std::string>{"/usr/bin/python3", absl::StrCat(FOREWARN_CHANNEL_PEERS_DIR, "/sms_gateway.py"),
                                 "--port-file", dir_ + "/sms.port", "--log", dir_ + "/sms-requests.jsonl",
                                 "--fail-rate", "0.3", "--seed", "5", "--mode-file", mode_file_},
        dir_ + "/gateway.log");
    ASSERT_TRUE(gateway_->Start().ok());
    std::string sms_port;
    ASSERT_TRUE(testing::WaitForFile(dir_ + "/sms.port", absl::Seconds(20), &sms_port).ok());

    testing::ServiceStack::Options options;
    options.notifier_args = {"--sms-url", absl::StrCat("http://127.0.0.1:", sms_port, "/sms"),
                             "--sms-timeout-ms", "2000", "--max-attempts", absl::StrCat(kMaxAttempts),
                             "--retry-backoff-ms", "300", "--retry-backoff-max-ms", "1500"};
    options.intake_args = {"--http-listen", "127.0.0.1:0", "--http-port-file", "{dir}/intake.http",
                           "--backlog-refresh-seconds", "1"};
    StartStack(absl::StrCat("INSERT INTO services VALUES ('electricity','Electricity','الكهرباء'),"
                            "  ('water','Water','المياه');"
                            "INSERT INTO regions VALUES ('riyadh','Riyadh','الرياض');"
                            "INSERT INTO customers (id, name, locale, time_zone, phone, email, channels_unplanned, "
                            "  channels_maintenance, channels_banking) "
                            "SELECT g, 'Customer ' || g, CASE WHEN g % 2 = 0 THEN 'ar' ELSE 'en' END, "
                            "  'Asia/Riyadh', '+9665123' || (10000 + g), NULL, 1, 1, 1 "
                            "FROM generate_series(1, ", kCustomers, ") g;"
                            "INSERT INTO customer_services SELECT s, 'riyadh', g "
                            "FROM generate_series(1, ", kCustomers, ") g, unnest('{electricity,water}'::text[]) s;"),
               options);
    if (HasFatalFailure()) return;
    cli_ = absl::StrCat(FOREWARN_BIN_DIR, "/services/cmd/cli/forewarn --target ", stack_.intake_target());
  }
  void TearDown() override {
    stack_.Stop();
    if (gateway_) gateway_->Stop();
  }

  void SetGatewayMode(const std::string& mode) {
    std::ofstream(mode_file_ + ".tmp") << mode;
    std::filesystem::rename(mode_file_ + ".tmp", mode_file_);
  }

  // Successful (200) gateway answers per message reference, and all requests.
  std::map<std::string, int> Delivered(int* requests = nullptr) {
    std::map<std::string, int> ok;
    std::ifstream log(dir_ + "/sms-requests.jsonl");
    int n = 0;
    for (std::string line; std::getline(log, line);) {
      const json r = json::parse(line);
      ++n;
      if (r.value("answer", "") == "200") ++ok[json::parse(r.value("body", "{}")).value("reference", "")];
    }
    if (requests) *requests = n;
    return ok;
  }

  // The ledger's notices as "message reference" -> state.
  std::map<std::string, std::string> Ledger() {
    std::map<std::string, std::string> out;
    const std::string rows = stack_.db().Exec(
        "SELECT string_agg('<' || incident_id || '.v' || incident_version || '.' || notice_kind || '.c' || "
        "customer_id || '.' || channel || '@forewarn>' || ' ' || state, E'\\n') FROM notice_ledger");
    std::istringstream in(rows);
    for (std::string line; std::getline(in, line);) {
      const auto space = line.rfind(' ');
      out[line.substr(0, space)] = line.substr(space + 1);
    }
    return out;
  }

  std::string Submit(const std::string& key, const std::string& service) {
    const auto incident = stack_.CreateIncident(testing::OutageRequest(
        key, service, "riyadh", "Feeder fault in the northern grid", "عطل في مغذي الشبكة الشمالية", absl::Hours(3)));
    EXPECT_TRUE(incident.ok()) << incident.status();
    return incident.ok() ? incident->id() : "";
  }

  // Waits until every notice of the incident is sent or dead.
  bool Settled(const std::string& incident) {
    return stack_.WaitForCount(absl::StrCat("SELECT count(*) FROM notice_ledger WHERE incident_id = '", incident,
                                            "' AND state IN ('sent', 'dead')"),
                               kCustomers);
  }

  int64_t Count(const std::string& where) {
    int64_t n = -1;
    EXPECT_TRUE(absl::SimpleAtoi(
        stack_.db().Exec(absl::StrCat("SELECT count(*) FROM notice_ledger WHERE ", where)), &n));
    return n;
  }

  std::string dir_, mode_file_, cli_;
  std::unique_ptr<testing::ChildProcess> gateway_;
};

TEST_F(DlqE2eTest, FlakyThenDownProviderEverythingDeliveredOrDeadLetteredAndReplayedOnce) {
  // 1. The gateway fails 30 % of the requests: retries with backoff deliver
  //    most; some fail all their attempts.
  const std::string flaky = Submit("dlq-flaky", "electricity");
  ASSERT_TRUE(Settled(flaky)) << "logs in " << stack_.dir();
  EXPECT_GT(Count(absl::StrCat("incident_id = '", flaky, "' AND state = 'sent' AND delivery_attempts > 0")), 0)
      << "some were retried, then delivered";

  // 2. The gateway is down for a while during the next fan-out: the circuit
  //    opens and the notices wait; once it is back they are delivered.
  SetGatewayMode("down");
  const std::string down = Submit("dlq-down", "water");
  absl::SleepFor(absl::Seconds(4));
  for (const auto& [ref, n] : Delivered()) EXPECT_EQ(ref.find(down), std::string::npos) << "while down: " << ref;
  SetGatewayMode("ok");
  ASSERT_TRUE(Settled(down)) << "logs in " << stack_.dir();

  EXPECT_EQ(Count("true"), 2 * kCustomers);
  const int64_t dead = Count("state = 'dead'");
  EXPECT_GT(dead, 0) << "with 30 % failures and " << kMaxAttempts << " attempts some run out";
  EXPECT_EQ(Count(absl::StrCat("state = 'dead' AND delivery_attempts = ", kMaxAttempts, " AND error LIKE '%503%'")),
            dead);
  EXPECT_GT(Count(absl::StrCat("incident_id = '", down, "' AND state = 'sent'")), kCustomers * 9 / 10);

  // The gateway accepted each sent notice exactly once and no dead one.
  int requests = 0;
  auto ok = Delivered(&requests);
  EXPECT_GT(requests, 2 * kCustomers);
  for (const auto& [ref, state] : Ledger()) EXPECT_EQ(ok[ref], state == "sent" ? 1 : 0) << ref << " is " << state;

  // The operator sees the dead letters: CLI and the intake's gauge.
  const json listing = json::parse(testing::RunCommand(absl::StrCat(cli_, " --json dlq list --limit 1000")));
  EXPECT_EQ(listing.value("pending", -1), dead) << listing.dump();
  ASSERT_EQ(static_cast<int64_t>(listing["dead_letters"].size()), dead);
  for (const auto& d : listing["dead_letters"]) {
    EXPECT_EQ(d.value("attempts", 0), kMaxAttempts);
    EXPECT_NE(d.value("last_error", "").find("503"), std::string::npos) << d.dump();
    EXPECT_EQ(d.value("to", "").find(Phone(static_cast<int>(d.value("customer_id", 0)))), std::string::npos)
        << "masked: " << d.dump();
  }
  const std::string table = testing::RunCommand(absl::StrCat(cli_, " dlq list --incident ", flaky));
  EXPECT_NE(table.find("waiting for a replay"), std::string::npos) << table;
  std::string http_port;
  ASSERT_TRUE(testing::WaitForFile(stack_.dir() + "/intake.http", absl::Seconds(5), &http_port).ok());
  const std::string gauge = absl::StrCat("forewarn_dlq_size ", dead, "\n");
  bool seen = false;
  for (int i = 0; i < 50 && !seen; ++i, absl::SleepFor(absl::Milliseconds(100))) {
    seen = testing::HttpGet(std::stoi(http_port), "/metrics").find(gauge) != std::string::npos;
  }
  EXPECT_TRUE(seen) << testing::HttpGet(std::stoi(http_port), "/metrics");

  // 3. Replay: each dead notice is delivered once; the queue is empty after.
  const std::string replayed = testing::RunCommand(absl::StrCat(cli_, " dlq replay"));
  EXPECT_NE(replayed.find(absl::StrCat("Replayed ", dead, " dead-lettered")), std::string::npos) << replayed;
  ASSERT_TRUE(stack_.WaitForCount("SELECT count(*) FROM notice_ledger WHERE state = 'sent'", 2 * kCustomers))
      << "logs in " << stack_.dir();
  const std::string again = testing::RunCommand(absl::StrCat(cli_, " dlq replay"));
  EXPECT_NE(again.find("Replayed 0 dead-lettered"), std::string::npos) << again;
  absl::SleepFor(absl::Seconds(1));  // let a duplicate show up, if any
  ok = Delivered();
  const auto ledger = Ledger();
  EXPECT_EQ(ledger.size(), static_cast<size_t>(2 * kCustomers));
  for (const auto& [ref, state] : ledger) EXPECT_EQ(ok[ref], 1) << ref;
  EXPECT_EQ(json::parse(testing::RunCommand(absl::StrCat(cli_, " --json dlq list"))).value("pending", -1), 0);

  stack_.Stop();
  testing::ExpectNoPersonalDataInLogs(stack_.dir());
}

}  // namespace
}  // namespace forewarn
