#pragma once

// Kafka producer and the two ports it backs: EventPublisher (topic
// forewarn.events) and NoticeSink (topic forewarn.notices).

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "services/core/model.h"
#include "services/core/ports.h"
#include "services/kafka/kafka_config.h"

namespace forewarn {

// How long a producer lets a partition's batch fill before sending it
// ("linger.ms"). 5 ms suits events and requeued notices: a few messages,
// each wanted at once. A fan-out writes a million keyed jobs over every
// partition of forewarn.notices: at 5 ms a batch held ~7 messages and the
// broker spent 8 µs of CPU per notice on batches; at 100 ms they hold
// hundreds and it spends half as much (bench/, README). `--kafka-prop
// linger.ms=` still overrides either.
inline constexpr std::chrono::milliseconds kEventLinger{5};
inline constexpr std::chrono::milliseconds kFanOutLinger{100};

// An idempotent producer (acks=all, enable.idempotence=true, lz4 batches)
// that never asks the broker to auto-create a topic
// (allow.auto.create.topics=false): a message for a missing topic fails.
// Thread-compatible: use from one thread at a time.
class KafkaProducer {
 public:
  // INVALID_ARGUMENT for a bad configuration. Does not contact the broker.
  static absl::StatusOr<std::unique_ptr<KafkaProducer>> Create(const KafkaConfig& config,
                                                               std::chrono::milliseconds linger = kEventLinger);
  // Waits briefly for outstanding messages, then drops the rest (call Flush
  // first when delivery matters).
  ~KafkaProducer();
  KafkaProducer(const KafkaProducer&) = delete;
  KafkaProducer& operator=(const KafkaProducer&) = delete;

  // Queues one message (payload copied). Blocks while the local queue is
  // full, up to the message timeout (then UNAVAILABLE). Acceptance here is
  // NOT delivery: only Flush() says whether the broker has it.
  absl::Status Produce(std::string_view topic, std::string_view key, std::string_view value);

  // Waits until every message produced since the previous Flush() has a
  // delivery report. OK only if all of them were acknowledged by the broker;
  // otherwise UNAVAILABLE with the first error (also when `timeout` expires
  // first). Either way the next Flush() only accounts for later messages.
  absl::Status Flush(absl::Duration timeout);

 private:
  struct Impl;
  explicit KafkaProducer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// EventPublisher: key = incident id, value = EncodeEvent(). Publish()
// returns OK only once the broker acknowledged every event.
class KafkaEventPublisher final : public EventPublisher {
 public:
  // `producer` is not owned and must outlive this object.
  KafkaEventPublisher(KafkaProducer& producer, std::string topic,
                      absl::Duration flush_timeout = absl::Seconds(30));
  absl::Status Publish(const std::vector<IncidentEvent>& events) override;

 private:
  KafkaProducer& producer_;
  std::string topic_;
  absl::Duration flush_timeout_;
};

// NoticeSink: key = decimal customer id (so one customer's notices stay in
// order on one partition), value = EncodeJob().
class KafkaNoticeSink final : public NoticeSink {
 public:
  // `producer` is not owned and must outlive this object.
  KafkaNoticeSink(KafkaProducer& producer, std::string topic,
                  absl::Duration flush_timeout = absl::Seconds(30));
  absl::Status Enqueue(const NoticeJob& job) override;
  absl::Status Flush() override;

 private:
  KafkaProducer& producer_;
  std::string topic_;
  absl::Duration flush_timeout_;
  std::string payload_;  // the job being produced, its capacity kept
};

// NoticeRequeue: the retry and dead-letter topics, keyed like the notices
// topic. Each call returns OK once the broker acknowledged every job.
class KafkaNoticeRequeue final : public NoticeRequeue {
 public:
  // `producer` is not owned and must outlive this object.
  KafkaNoticeRequeue(KafkaProducer& producer, std::string retry_topic, std::string dead_letter_topic)
      : retry_(producer, std::move(retry_topic)), dead_(producer, std::move(dead_letter_topic)) {}
  absl::Status Retry(const std::vector<NoticeJob>& jobs) override { return Put(retry_, jobs); }
  absl::Status DeadLetter(const std::vector<NoticeJob>& jobs) override { return Put(dead_, jobs); }

 private:
  static absl::Status Put(KafkaNoticeSink& sink, const std::vector<NoticeJob>& jobs);
  KafkaNoticeSink retry_, dead_;
};

}  // namespace forewarn
