// The rules of `forewarn-admin topics`: which settings are valid and when an
// existing topic does not fit them. No broker here (see
// tests/integration/kafka_topic_admin_test.cc for the adapter itself).

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/kafka/kafka_topic_admin.h"

namespace forewarn {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

TopicSettings Notices() { return {"forewarn.notices", 12, 3, 2, 604800000}; }

TopicState Actual(int partitions, int replication, std::optional<int> min_isr) {
  TopicState s;
  s.name = "forewarn.notices";
  s.partitions = partitions;
  s.replication_factor = replication;
  s.min_insync_replicas = min_isr;
  return s;
}

TEST(TopicMismatches, NoneWhenTheTopicIsAsConfigured) {
  EXPECT_THAT(TopicMismatches(Notices(), Actual(12, 3, 2)), IsEmpty());
}

TEST(TopicMismatches, MorePartitionsThanConfiguredAreFine) {
  EXPECT_THAT(TopicMismatches(Notices(), Actual(24, 3, 2)), IsEmpty());
}

TEST(TopicMismatches, FewerPartitionsAreNamedWithBothCounts) {
  EXPECT_THAT(TopicMismatches(Notices(), Actual(4, 3, 2)),
              ElementsAre(HasSubstr("4 partitions, fewer than the 12 configured (kafka-topics.sh --alter "
                                    "--topic forewarn.notices --partitions 12 adds them")));
}

TEST(TopicMismatches, AnotherReplicationFactorEitherWayIsAMismatch) {
  EXPECT_THAT(TopicMismatches(Notices(), Actual(12, 1, 2)),
              ElementsAre(HasSubstr("replication factor 1, not the 3 configured")));
  EXPECT_THAT(TopicMismatches(Notices(), Actual(12, 5, 2)),
              ElementsAre(HasSubstr("replication factor 5, not the 3 configured")));
}

TEST(TopicMismatches, AnotherMinInsyncReplicasIsAMismatchWithTheCommandToFixIt) {
  EXPECT_THAT(TopicMismatches(Notices(), Actual(12, 3, 1)),
              ElementsAre(HasSubstr("min.insync.replicas 1, not the 2 configured (kafka-configs.sh --alter "
                                    "--entity-type topics --entity-name forewarn.notices --add-config "
                                    "min.insync.replicas=2)")));
}

TEST(TopicMismatches, AnUnknownMinInsyncReplicasIsNotAMismatch) {
  // The dev broker (librdkafka's mock cluster) cannot describe configs.
  EXPECT_THAT(TopicMismatches(Notices(), Actual(12, 3, std::nullopt)), IsEmpty());
}

TEST(TopicMismatches, EveryDifferenceIsListed) {
  EXPECT_EQ(TopicMismatches(Notices(), Actual(6, 1, 1)).size(), 3u);
}

TEST(ValidateTopicSettings, AcceptsProductionAndSingleBrokerSettings) {
  EXPECT_TRUE(ValidateTopicSettings(Notices()).ok());
  EXPECT_TRUE(ValidateTopicSettings({"t", 1, 1, 1, -1}).ok());  // forever
}

TEST(ValidateTopicSettings, RefusesMinInsyncReplicasAboveTheReplicationFactor) {
  const absl::Status s = ValidateTopicSettings({"forewarn.events", 4, 2, 3, 1000});
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(s.message()),
              HasSubstr("topic forewarn.events: min.insync.replicas 3 exceeds the replication factor 2"));
}

TEST(ValidateTopicSettings, NamesTheSettingAtFault) {
  const std::vector<std::pair<TopicSettings, std::string>> cases = {
      {{"", 4, 3, 2, 1000}, "topic name: must not be empty"},
      {{"t", 0, 3, 2, 1000}, "topic t: partitions must be at least 1"},
      {{"t", 4, 0, 1, 1000}, "topic t: replication factor must be at least 1"},
      {{"t", 4, 3, 0, 1000}, "topic t: min.insync.replicas must be at least 1"},
      {{"t", 4, 3, 2, 0}, "topic t: retention.ms must be positive, or -1 for unlimited"},
      {{"t", 4, 3, 2, -2}, "topic t: retention.ms must be positive, or -1 for unlimited"},
  };
  for (const auto& [settings, message] : cases) {
    const absl::Status s = ValidateTopicSettings(settings);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << message;
    EXPECT_EQ(s.message(), message);
  }
}

TEST(TopicReport, OnlyCreatedAndOkAreGood) {
  EXPECT_TRUE(IsGood(TopicReport::Outcome::kCreated));
  EXPECT_TRUE(IsGood(TopicReport::Outcome::kOk));
  EXPECT_FALSE(IsGood(TopicReport::Outcome::kMismatch));
  EXPECT_FALSE(IsGood(TopicReport::Outcome::kMissing));
  EXPECT_FALSE(IsGood(TopicReport::Outcome::kFailed));
  EXPECT_EQ(OutcomeName(TopicReport::Outcome::kMismatch), "mismatch");
}

}  // namespace
}  // namespace forewarn
