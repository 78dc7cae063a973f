#pragma once

// Topics for the Kafka integration tests, on either broker FOREWARN_TEST_KAFKA
// may be: Apache Kafka, where a test creates its topic through
// KafkaTopicAdmin, or forewarn-devkafka (librdkafka's mock cluster), which
// takes no admin requests but creates every topic a metadata request names,
// with kMockPartitions partitions, on first use.

#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "services/kafka/kafka_producer.h"
#include "services/kafka/kafka_topic_admin.h"
#include "gtest/gtest.h"
#include "tests/support/kafka_topics.h"
#include "tests/support/test_db.h"

namespace forewarn::testing {

inline constexpr int kMockPartitions = 4;
// The value of the message that makes the mock cluster create a topic.
inline constexpr char kTopicCreatedMarker[] = "test-topic-created";

// The test command's broker (FOREWARN_TEST_KAFKA) for a client named
// `client_id`; nullopt when there is none (the test skips).
inline std::optional<KafkaConfig> TestKafkaConfig(std::string client_id) {
  if (TestKafkaBootstrap().empty()) return std::nullopt;
  KafkaConfig config;
  config.bootstrap_servers = TestKafkaBootstrap();
  config.client_id = std::move(client_id);
  return config;
}

// A topic or group name unique to the running test and this run ("test.TEST.WHAT.PID.RUN.N"): the
// broker is shared.
inline std::string UniqueTestKafkaName(std::string_view what) {
  return UniqueKafkaName(absl::StrCat("test.", ::testing::UnitTest::GetInstance()->current_test_info()->name(), ".",
                                      absl::string_view(what.data(), what.size())));
}

struct TestTopic {
  int partitions = 0;
  bool admin = false;  // created through the Admin API (a real broker)
};

// Creates `name` (replication factor 1, min.insync.replicas 1) with
// `partitions` partitions. On the mock cluster, which cannot, produces one
// kTopicCreatedMarker message to it, which creates it with kMockPartitions:
// the result says which partitions the topic has.
inline absl::StatusOr<TestTopic> CreateTestTopic(const KafkaConfig& config, const std::string& name, int partitions) {
  auto admin = KafkaTopicAdmin::Create(config);
  if (!admin.ok()) return admin.status();
  const absl::Status created = (*admin)->CreateTopic({name, partitions, 1, 1, 3600000}, absl::Seconds(30));
  if (created.ok()) {
    for (int i = 0; i < 100; ++i) {  // until the brokers' metadata lists it
      if ((*admin)->DescribePartitions(name, absl::Seconds(5)).ok()) return TestTopic{partitions, true};
      absl::SleepFor(absl::Milliseconds(100));
    }
    return absl::DeadlineExceededError(absl::StrCat("topic ", name, " created but never listed"));
  }
  if (!absl::IsUnimplemented(created)) return created;
  KafkaConfig auto_create = config;
  auto_create.extra["allow.auto.create.topics"] = "true";
  auto producer = KafkaProducer::Create(auto_create);
  if (!producer.ok()) return producer.status();
  if (auto s = (*producer)->Produce(name, "", kTopicCreatedMarker); !s.ok()) return s;
  if (auto s = (*producer)->Flush(absl::Seconds(30)); !s.ok()) return s;
  return TestTopic{kMockPartitions, false};
}

}  // namespace forewarn::testing
