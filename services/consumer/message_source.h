#pragma once

// The port a consume loop reads through: a consumer-group member's
// partitions, with offsets stored only for finished messages. The Kafka
// adapter (services/kafka/kafka_consumer.h) implements it; unit tests use a
// fake. No broker client headers here.

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace forewarn {

struct ConsumedMessage {
  std::string topic;
  int32_t partition = 0;
  int64_t offset = 0;
  std::string key;    // empty when the message has no key
  std::string value;  // never log: holds personal data
  int64_t timestamp_ms = -1;  // producer create time; -1 when unavailable
};

struct TopicPartition {
  std::string topic;
  int32_t partition = 0;
  bool operator==(const TopicPartition&) const = default;
  auto operator<=>(const TopicPartition&) const = default;
};

class MessageSource {
 public:
  virtual ~MessageSource() = default;
  // Up to `max_messages`, waiting up to `timeout` for the first; empty when
  // nothing arrived. Not OK: the source cannot be read right now.
  virtual absl::StatusOr<std::vector<ConsumedMessage>> Poll(int max_messages, absl::Duration timeout) = 0;
  // Marks these messages done (offset+1 of the highest per partition).
  virtual absl::Status StoreOffsets(const std::vector<ConsumedMessage>& done) = 0;
  // Stops fetching `partition` and rewinds it to `offset`: after Resume()
  // the message at `offset` comes again. Not OK: neither rewound nor paused.
  virtual absl::Status PauseAt(const TopicPartition& partition, int64_t offset) = 0;
  // Fetches a paused partition again.
  virtual absl::Status Resume(const TopicPartition& partition) = 0;
  // Commits the stored offsets now.
  virtual absl::Status Commit() = 0;
  // Commits and leaves. Idempotent.
  virtual void Close() = 0;
};

}  // namespace forewarn
