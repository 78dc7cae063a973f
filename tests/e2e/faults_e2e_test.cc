// Infrastructure failures during a fan-out: the Kafka broker goes down and
// fails produce requests; an Apache Kafka node is killed and restarted;
// PostgreSQL restarts as after a crash. The services recover by themselves and
// every notice is delivered exactly once.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <map>

#include "absl/strings/str_cat.h"
#include "tests/e2e/stack.h"

namespace forewarn {
namespace {

namespace v1 = forewarn::v1;

constexpr int kCustomers = 5000;

std::string SeedSql() {
  return absl::StrCat(
      "INSERT INTO services VALUES ('water','Water','المياه');"
      "INSERT INTO regions VALUES ('dammam','Dammam','الدمام');"
      "INSERT INTO customers (id, name, locale, time_zone, phone, email, notify_sms, notify_email) "
      "SELECT i, 'Customer ' || i, CASE WHEN i % 2 = 0 THEN 'ar' ELSE 'en' END, 'Asia/Riyadh', "
      "  '+96655' || lpad(i::text, 7, '0'), 'c' || i || '@example.com', i % 3 <> 1, i % 3 <> 0 "
      "FROM generate_series(1, ", kCustomers, ") i;"
      "INSERT INTO customer_services SELECT 'water', 'dammam', i FROM generate_series(1, ", kCustomers, ") i;");
}

int64_t ExpectedNotices() {
  int64_t n = 0;
  for (int i = 1; i <= kCustomers; ++i) n += (i % 3 != 1) + (i % 3 != 0);
  return n;
}

class FaultsE2eTest : public ::testing::Test {
 protected:
  void StartStack(testing::StackKafka kafka = testing::StackKafka::kShared,
                  std::vector<std::string> devkafka_args = {},
                  std::vector<std::string> notifier_args = {"--sms-rate", "800", "--email-rate", "800"}) {
    if (testing::TestPgUri().empty()) GTEST_SKIP() << "FOREWARN_TEST_PG_URI not set";
    testing::ServiceStack::Options options;
    options.notifier_args = std::move(notifier_args);  // provider rates stretch the fan-out
    options.kafka = kafka;
    options.devkafka_args = std::move(devkafka_args);
    auto s = stack_.Start(SeedSql(), options);
    ASSERT_TRUE(s.ok()) << s << " (logs in " << stack_.dir() << ")";
  }

  std::string Create(const std::string& key) {
    v1::CreateIncidentRequest req;
    req.set_idempotency_key(key);
    req.set_kind(v1::UNPLANNED_OUTAGE);
    req.add_services("water");
    req.add_regions("dammam");
    req.mutable_reason()->set_en("Pump station failure");
    req.mutable_reason()->set_ar("عطل في محطة الضخ");
    req.mutable_expected_restoration_at()->set_seconds(absl::ToUnixSeconds(absl::Now() + absl::Hours(4)));
    v1::Incident incident;
    auto status = stack_.stub().CreateIncident(stack_.Ctx().get(), req, &incident);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return incident.id();
  }

  std::string SentSql(const std::string& id) {
    return absl::StrCat("SELECT count(*) FROM notice_ledger WHERE incident_id = '", id, "' AND state = 'sent'");
  }

  // Everyone exactly once: in the ledger and at the provider.
  void ExpectDeliveredExactlyOnce(const std::string& id) {
    const int64_t expected = ExpectedNotices();
    EXPECT_TRUE(stack_.WaitForCount(SentSql(id), expected, absl::Seconds(240)))
        << stack_.db().Exec(SentSql(id)) << " of " << expected << " (logs in " << stack_.dir() << ")";
    absl::SleepFor(absl::Seconds(1));
    EXPECT_EQ(std::stoll(stack_.db().Exec(SentSql(id))), expected);
    std::map<std::string, int> seen;
    for (const auto& d : stack_.ReadOutbox()) ++seen[d.line.at("message_id").get<std::string>()];
    int duplicates = 0;
    for (const auto& [mid, n] : seen) duplicates += n - 1;
    EXPECT_EQ(static_cast<int64_t>(seen.size()), expected);
    EXPECT_EQ(duplicates, 0);
  }

  testing::ServiceStack stack_;
};

// The mock broker (forewarn-devkafka), not Apache Kafka: a real broker cannot
// be told to fail the next N produce requests with a retryable error, nor to
// refuse connections while it keeps its data. The real-broker outage is the
// next test.
TEST_F(FaultsE2eTest, BrokerDownAndFailingProducesDuringAFanOutLoseNothing) {
  const std::string dir = testing::MakeTempDir("forewarn-faults-");
  const std::string fault = dir + "/fault";
  StartStack(testing::StackKafka::kMock, {"--fault-file", fault});
  auto inject = [&](const std::string& what) {
    std::ofstream(fault + ".tmp") << what << "\n";
    std::rename((fault + ".tmp").c_str(), fault.c_str());
    absl::SleepFor(absl::Milliseconds(300));  // the broker polls every 100 ms
  };
  inject("errors 8");  // the relay's and the resolver's first produces fail
  const std::string id = Create("faults-broker");
  ASSERT_TRUE(stack_.WaitForCount(SentSql(id), ExpectedNotices() / 5, absl::Seconds(120)));
  inject("down");
  absl::SleepFor(absl::Seconds(4));
  inject("up");
  ExpectDeliveredExactlyOnce(id);
}

// Apache Kafka of the stack's own: SIGKILL the node mid fan-out, start it again
// 4 s later (on the same port, with the same data). Producers and consumers
// reconnect by themselves. The notifiers send slower and read ahead little
// (64 KiB), so they still fetch from the broker when it goes.
TEST_F(FaultsE2eTest, BrokerKilledAndRestartedDuringAFanOutLosesNothing) {
  if (!testing::ServiceStack::KafkaNodeAvailable()) GTEST_SKIP() << "no Apache Kafka under test (--kafka mock)";
  StartStack(testing::StackKafka::kOwnNode, {},
             {"--sms-rate", "300", "--email-rate", "300", "--kafka-prop", "queued.max.messages.kbytes=64",
              "--kafka-prop", "max.partition.fetch.bytes=8192"});
  const std::string id = Create("faults-broker-restart");
  ASSERT_TRUE(stack_.WaitForCount(SentSql(id), ExpectedNotices() / 5, absl::Seconds(120)));
  auto killed = stack_.KafkaNode("kill-node");
  ASSERT_TRUE(killed.ok()) << killed;
  const int64_t sent_when_killed = std::stoll(stack_.db().Exec(SentSql(id)));
  absl::SleepFor(absl::Seconds(4));
  auto started = stack_.KafkaNode("start-node");
  ASSERT_TRUE(started.ok()) << started;
  EXPECT_LT(sent_when_killed, ExpectedNotices()) << "the fan-out finished before the broker went down";
  ExpectDeliveredExactlyOnce(id);
}

TEST_F(FaultsE2eTest, PostgresRestartDuringAFanOutLosesNothing) {
  const char* pg_dir = std::getenv("FOREWARN_TEST_PG_DIR");
  if (pg_dir == nullptr) GTEST_SKIP() << "FOREWARN_TEST_PG_DIR not set";
  StartStack();
  const std::string id = Create("faults-postgres");
  ASSERT_TRUE(stack_.WaitForCount(SentSql(id), ExpectedNotices() / 5, absl::Seconds(120)));
  const std::string restart = absl::StrCat("bash ", FOREWARN_SOURCE_DIR, "/scripts/pg.sh restart ", pg_dir);
  ASSERT_EQ(std::system(restart.c_str()), 0) << restart;
  ExpectDeliveredExactlyOnce(id);
}

}  // namespace
}  // namespace forewarn
