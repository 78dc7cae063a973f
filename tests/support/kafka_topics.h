#pragma once

// Topics on the test command's Kafka broker. Real Kafka creates no topic on
// demand (auto.create.topics.enable=false, as in production): a test creates
// the topics it uses, under names of its own, and deletes them when done.
// The mock broker (scripts/test.sh --kafka mock) creates topics on first use
// and serves no admin requests: there these calls do nothing.

#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace forewarn::testing {

// True when the test command started the mock broker (FOREWARN_TEST_KAFKA_KIND=mock).
bool TestKafkaIsMock();

struct TopicSpec {
  std::string name;
  int partitions = 1;
};

// Creates the topics that do not exist yet (the broker's default replication
// factor), then waits until the broker's metadata shows every partition with
// a leader. OK when all exist at the end; a no-op with the mock broker.
absl::Status CreateTestTopics(const std::string& bootstrap, const std::vector<TopicSpec>& topics,
                              absl::Duration timeout = absl::Seconds(60));

// Deletes the topics (missing ones are fine); a no-op with the mock broker.
absl::Status DeleteTestTopics(const std::string& bootstrap, const std::vector<std::string>& names,
                              absl::Duration timeout = absl::Seconds(30));

// A name unique to this process and call: PREFIX.PID.RANDOM.COUNTER, of Kafka's
// topic characters only.
std::string UniqueKafkaName(const std::string& prefix);

}  // namespace forewarn::testing
