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

constexpr int kCustomers = 5000;

std::string SeedSql() {
  return absl::StrCat("INSERT INTO services VALUES ('water','Water','المياه');"
                      "INSERT INTO regions VALUES ('dammam','Dammam','الدمام');",
                      testing::GeneratedCustomersSql("water", "dammam", "+96655", kCustomers));
}

int64_t ExpectedNotices() { return testing::GeneratedCustomersNotices(kCustomers); }

class FaultsE2eTest : public testing::StackTest {
 protected:
  void StartStack(testing::StackKafka kafka = testing::StackKafka::kShared,
                  std::vector<std::string> devkafka_args = {},
                  std::vector<std::string> notifier_args = {"--sms-rate", "800", "--email-rate", "800"}) {
    testing::ServiceStack::Options options;
    options.notifier_args = std::move(notifier_args);  // provider rates stretch the fan-out
    options.kafka = kafka;
    options.devkafka_args = std::move(devkafka_args);
    testing::StackTest::StartStack(SeedSql(), options);
  }

  std::string Create(const std::string& key) {
    const auto incident = stack_.CreateIncident(testing::OutageRequest(
        key, "water", "dammam", "Pump station failure", "عطل في محطة الضخ", absl::Hours(4)));
    EXPECT_TRUE(incident.ok()) << incident.status();
    return incident.ok() ? incident->id() : "";
  }

  std::string SentSql(const std::string& id) { return testing::SentCountSql(id); }

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
