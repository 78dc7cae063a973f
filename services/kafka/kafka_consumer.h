#pragma once

// Consumer-group member with at-least-once semantics: offsets are committed
// only for messages the caller marked done with StoreOffsets().

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "services/consumer/message_source.h"
#include "services/kafka/kafka_config.h"

namespace forewarn {

// The consumed message and partition of the MessageSource port.
using KafkaMessage = ConsumedMessage;
using KafkaPartition = TopicPartition;

// Thread-compatible: use from one thread at a time. Rebalances are handled
// inside Poll(), so the assignment never changes between Poll() and
// StoreOffsets(). When partitions are taken away, their stored offsets are
// committed so the next owner resumes after the finished work; if that
// commit fails, the next owner gets some messages again (at-least-once:
// consumers must be idempotent, e.g. via the notice ledger).
class KafkaConsumer final : public MessageSource {
 public:
  // Joins `group_id` subscribed to `topics` (enable.auto.commit=true,
  // enable.auto.offset.store=false, auto.offset.reset=earliest, the range
  // assignor (each topic split across members); with cooperative-sticky set
  // through config.extra a rebalance moves only the partitions that change
  // owner, the others keep being fetched, paused or rewound as they were;
  // group.instance.id from config.group_instance_id when set). The
  // group is joined asynchronously by Poll(). INVALID_ARGUMENT for bad config.
  // `fetch_wait`: how long the broker may hold a fetch to fill it
  // (fetch.wait.max.ms, with fetch.min.bytes 256 KiB); zero keeps
  // librdkafka's answer-at-once (fetch.min.bytes 1), for consumers that
  // want each message as soon as it exists.
  static absl::StatusOr<std::unique_ptr<KafkaConsumer>> Create(
      const KafkaConfig& config, std::string group_id, std::vector<std::string> topics,
      std::chrono::milliseconds fetch_wait = std::chrono::milliseconds(0));
  // Close()s if not yet closed.
  ~KafkaConsumer() override;
  KafkaConsumer(const KafkaConsumer&) = delete;
  KafkaConsumer& operator=(const KafkaConsumer&) = delete;

  // Up to `max_messages`: waits up to `timeout` for the first one, then takes
  // only what is already available. An empty vector means nothing arrived.
  // Partition EOF and transient errors are logged and skipped; INTERNAL for
  // a fatal client error, FAILED_PRECONDITION after Close().
  absl::StatusOr<std::vector<KafkaMessage>> Poll(int max_messages, absl::Duration timeout) override;

  // Marks these messages done: stores offset+1 of the highest offset per
  // partition, to be committed automatically, on rebalance, on Close() or
  // by Commit(). Partitions no longer assigned (lost in a rebalance) are
  // ignored: their messages will be redelivered to the new owner.
  absl::Status StoreOffsets(const std::vector<KafkaMessage>& done) override;

  // Synchronously commits the stored offsets. OK when there is nothing to
  // commit; UNAVAILABLE when the broker cannot be reached (retry later).
  absl::Status Commit() override;

  // Stops fetching `partition` and rewinds it to `offset`: after Resume()
  // the message at `offset` comes again (a retry that is not yet due).
  // Nothing at or after `offset` may have been stored with StoreOffsets().
  // Not OK: the partition was neither rewound nor left paused.
  absl::Status PauseAt(const KafkaPartition& partition, int64_t offset) override;
  // Fetches a paused partition again. OK when it is no longer assigned.
  absl::Status Resume(const KafkaPartition& partition) override;

  // Partitions currently assigned to this member.
  absl::StatusOr<std::vector<KafkaPartition>> Assignment();

  // The group's rebalance protocol: "COOPERATIVE" (incremental assignment,
  // the default assignor), "EAGER" (every rebalance revokes everything; a
  // range or roundrobin assignor set with --kafka-prop), or "NONE" before
  // the first assignment.
  std::string RebalanceProtocol();

  // Commits stored offsets (synchronously) and leaves the group. Idempotent.
  void Close() override;

 private:
  struct Impl;
  explicit KafkaConsumer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace forewarn
