// KafkaTopicAdmin and the services' start-up topic check against the broker
// the test command started (FOREWARN_TEST_KAFKA): Apache Kafka, or
// forewarn-devkafka (librdkafka's mock cluster). A test that needs what only
// one of them does says so and is skipped on the other, naming the reason.

#include <atomic>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/kafka/kafka_topic_admin.h"
#include "tests/integration/kafka_test_topics.h"

namespace forewarn {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr absl::Duration kTimeout = absl::Seconds(30);

class KafkaTopicAdminTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto config = testing::TestKafkaConfig("forewarn-topic-admin-test");
    if (!config) GTEST_SKIP() << "FOREWARN_TEST_KAFKA not set (run through scripts/test.sh)";
    config_ = *std::move(config);
    auto admin = KafkaTopicAdmin::Create(config_);
    ASSERT_TRUE(admin.ok()) << admin.status();
    admin_ = std::move(*admin);
    ASSERT_TRUE(admin_->WaitUntilReachable(kTimeout, never_).ok());
  }

  // Topic names unique to this test and run: the broker is shared.
  static std::string Unique(std::string_view what) { return testing::UniqueTestKafkaName(what); }

  void ExpectMissing(const std::string& topic) {
    auto state = admin_->DescribePartitions(topic, kTimeout);
    EXPECT_EQ(state.status().code(), absl::StatusCode::kNotFound) << topic << ": " << state.status();
  }

  KafkaConfig config_;
  std::unique_ptr<KafkaTopicAdmin> admin_;
  std::atomic<bool> never_{false};
};

TEST_F(KafkaTopicAdminTest, DescribingAMissingTopicIsNotFoundAndCreatesNothing) {
  const std::string topic = Unique("missing");
  auto partitions = admin_->DescribePartitions(topic, kTimeout);
  EXPECT_EQ(partitions.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(partitions.status().message()), HasSubstr(absl::StrCat("kafka topic ", topic, " does not exist")));
  EXPECT_EQ(admin_->Describe(topic, kTimeout).status().code(), absl::StatusCode::kNotFound);
  absl::SleepFor(absl::Milliseconds(500));
  ExpectMissing(topic);  // asking did not auto-create it
}

TEST_F(KafkaTopicAdminTest, DescribeReportsPartitionsAndReplicationOfAnExistingTopic) {
  const std::string topic = Unique("existing");
  auto created = testing::CreateTestTopic(config_, topic, 3);
  ASSERT_TRUE(created.ok()) << created.status();
  // Every broker's metadata lists a new topic only a moment after it exists.
  auto state = admin_->DescribeSettled(topic, /*configs=*/true, kTimeout, kTimeout);
  ASSERT_TRUE(state.ok()) << state.status();
  EXPECT_EQ(state->name, topic);
  EXPECT_EQ(state->partitions, created->partitions);
  EXPECT_EQ(state->replication_factor, 1);
  if (created->admin) {  // a real broker describes the configuration it was created with
    EXPECT_EQ(state->min_insync_replicas, 1);
    EXPECT_EQ(state->retention_ms, 3600000);
  } else {  // the mock cluster cannot
    EXPECT_FALSE(state->min_insync_replicas.has_value());
  }
}

TEST_F(KafkaTopicAdminTest, CheckTopicsExistNamesEveryMissingTopicItsFlagAndTheCommand) {
  const std::string events = Unique("events"), notices = Unique("notices"), dlq = Unique("dlq");
  ASSERT_TRUE(testing::CreateTestTopic(config_, notices, 2).ok());
  const absl::Status s = CheckTopicsExist(
      config_, {{"--events-topic", events}, {"--notices-topic", notices}, {"--dlq-topic", dlq}}, never_, kTimeout);
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition) << s;
  EXPECT_THAT(std::string(s.message()),
              AllOf(HasSubstr(absl::StrCat("kafka topics ", events, " (--events-topic), ", dlq,
                                           " (--dlq-topic) do not exist and topics are never auto-created")),
                    HasSubstr(absl::StrCat("forewarn-admin topics --kafka ", config_.bootstrap_servers,
                                           " --events-topic ", events, " --dlq-topic ", dlq)),
                    Not(HasSubstr(notices))));
  ExpectMissing(events);
  ExpectMissing(dlq);
  EXPECT_TRUE(CheckTopicsExist(config_, {{"--notices-topic", notices}}, never_, kTimeout).ok());
}

TEST_F(KafkaTopicAdminTest, CheckTopicsExistGivesUpOnAnUnreachableBrokerAfterItsWait) {
  KafkaConfig nowhere = config_;
  nowhere.bootstrap_servers = "127.0.0.1:1";  // nothing listens there
  const absl::Time start = absl::Now();
  const absl::Status s = CheckTopicsExist(nowhere, {{"--notices-topic", "forewarn.notices"}}, never_,
                                          absl::Milliseconds(2500));
  const absl::Duration took = absl::Now() - start;
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable) << s;
  EXPECT_THAT(std::string(s.message()), HasSubstr("no broker of 127.0.0.1:1 answered within 2.5s"));
  EXPECT_GE(took, absl::Milliseconds(2400)) << "kept trying for the whole wait";
  EXPECT_LT(took, absl::Seconds(10)) << "and not much longer";
}

TEST_F(KafkaTopicAdminTest, CheckTopicsExistStopsWaitingWhenTheServiceIsStopped) {
  KafkaConfig nowhere = config_;
  nowhere.bootstrap_servers = "127.0.0.1:1";
  std::atomic<bool> stop{true};
  const absl::Time start = absl::Now();
  const absl::Status s = CheckTopicsExist(nowhere, {{"--notices-topic", "forewarn.notices"}}, stop, absl::Seconds(60));
  EXPECT_EQ(s.code(), absl::StatusCode::kCancelled) << s;
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
}

TEST_F(KafkaTopicAdminTest, ProvisionCheckOnlyReportsMissingTopicsAndCreatesNothing) {
  const std::string present = Unique("present"), absent = Unique("absent");
  auto created = testing::CreateTestTopic(config_, present, 2);
  ASSERT_TRUE(created.ok()) << created.status();
  auto reports = admin_->Provision({{present, created->partitions, 1, 1, 3600000}, {absent, 2, 1, 1, 3600000}},
                                   /*check_only=*/true, kTimeout);
  ASSERT_TRUE(reports.ok()) << reports.status();
  ASSERT_EQ(reports->size(), 2u);
  EXPECT_EQ((*reports)[0].topic, present);
  EXPECT_EQ((*reports)[0].outcome, TopicReport::Outcome::kOk) << (*reports)[0].detail;
  EXPECT_EQ((*reports)[1].topic, absent);
  EXPECT_EQ((*reports)[1].outcome, TopicReport::Outcome::kMissing);
  ExpectMissing(absent);
}

TEST_F(KafkaTopicAdminTest, ProvisionReportsTooFewPartitionsOrAnotherReplicationAsMismatchAndChangesNothing) {
  const std::string topic = Unique("small");
  auto created = testing::CreateTestTopic(config_, topic, 2);
  ASSERT_TRUE(created.ok()) << created.status();
  const int have = created->partitions;
  auto reports = admin_->Provision({{topic, have + 4, 1, 1, 3600000}, {topic, have, 2, 1, 3600000}}, false, kTimeout);
  ASSERT_TRUE(reports.ok()) << reports.status();
  ASSERT_EQ(reports->size(), 2u);
  EXPECT_EQ((*reports)[0].outcome, TopicReport::Outcome::kMismatch);
  EXPECT_THAT((*reports)[0].detail, HasSubstr(absl::StrCat(have, " partitions, fewer than the ", have + 4, " configured")));
  EXPECT_EQ((*reports)[1].outcome, TopicReport::Outcome::kMismatch);
  EXPECT_EQ((*reports)[1].detail, "replication factor 1, not the 2 configured");
  auto state = admin_->DescribeSettled(topic, /*configs=*/false, kTimeout, kTimeout);
  ASSERT_TRUE(state.ok()) << state.status();
  EXPECT_EQ(state->partitions, have) << "an existing topic is never changed";
}

TEST_F(KafkaTopicAdminTest, ProvisionCreatesMissingTopicsAsConfiguredThenFindsThemOk) {
  const std::string events = Unique("events"), dlq = Unique("dlq");
  const std::vector<TopicSettings> wanted = {{events, 3, 1, 1, 3600000}, {dlq, 2, 1, 1, -1}};
  auto first = admin_->Provision(wanted, false, kTimeout);
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_EQ(first->size(), 2u);
  if ((*first)[0].outcome == TopicReport::Outcome::kFailed &&
      absl::StrContains((*first)[0].detail, "takes no admin requests")) {
    GTEST_SKIP() << "the broker cannot create topics (librdkafka's mock cluster): " << (*first)[0].detail;
  }
  for (const TopicReport& r : *first) EXPECT_EQ(r.outcome, TopicReport::Outcome::kCreated) << r.topic << ": " << r.detail;
  EXPECT_EQ((*first)[0].detail, "3 partitions, replication factor 1, min.insync.replicas 1, retention.ms 3600000");
  auto state = admin_->DescribeSettled(dlq, /*configs=*/true, kTimeout, kTimeout);
  ASSERT_TRUE(state.ok()) << state.status();
  EXPECT_EQ(state->partitions, 2);
  EXPECT_EQ(state->replication_factor, 1);
  EXPECT_EQ(state->min_insync_replicas, 1);
  EXPECT_EQ(state->retention_ms, -1);

  auto second = admin_->Provision(wanted, false, kTimeout);
  ASSERT_TRUE(second.ok()) << second.status();
  for (const TopicReport& r : *second) EXPECT_EQ(r.outcome, TopicReport::Outcome::kOk) << r.topic << ": " << r.detail;
  EXPECT_EQ((*second)[0].detail, "3 partitions, replication factor 1, min.insync.replicas 1, retention.ms 3600000");
  EXPECT_EQ(admin_->CreateTopic(wanted[0], kTimeout).code(), absl::StatusCode::kAlreadyExists);
}

TEST_F(KafkaTopicAdminTest, ABrokerRefusingTheReplicationFactorFailsThatTopicWithItsReason) {
  const std::string topic = Unique("wide");
  auto reports = admin_->Provision({{topic, 2, 99, 1, 3600000}}, false, kTimeout);
  ASSERT_TRUE(reports.ok()) << reports.status();
  ASSERT_EQ(reports->size(), 1u);
  EXPECT_EQ((*reports)[0].outcome, TopicReport::Outcome::kFailed);
  if (absl::StrContains((*reports)[0].detail, "takes no admin requests")) {
    GTEST_SKIP() << "the broker cannot create topics (librdkafka's mock cluster): " << (*reports)[0].detail;
  }
  EXPECT_THAT((*reports)[0].detail, HasSubstr("INVALID_REPLICATION_FACTOR"));
  ExpectMissing(topic);
}

TEST_F(KafkaTopicAdminTest, TheDevBrokerTakesNoAdminRequestsAndSaysHowToGiveItTopics) {
  const std::string topic = Unique("dev");
  const absl::Time start = absl::Now();
  const absl::Status s = admin_->CreateTopic({topic, 2, 1, 1, 3600000}, kTimeout);
  if (s.ok()) GTEST_SKIP() << "the broker takes admin requests: it is not librdkafka's mock cluster";
  EXPECT_EQ(s.code(), absl::StatusCode::kUnimplemented) << s;
  EXPECT_THAT(std::string(s.message()),
              AllOf(HasSubstr(absl::StrCat("create kafka topic ", topic)), HasSubstr("forewarn-devkafka"),
                    HasSubstr("--topic NAME:PARTITIONS")));
  EXPECT_LT(absl::Now() - start, absl::Seconds(5)) << "known at once, not after the request timeout";
  ExpectMissing(topic);
}

}  // namespace
}  // namespace forewarn
