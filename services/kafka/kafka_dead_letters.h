#pragma once

// DeadLetterSource over the dead-letter topic.

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "services/core/ports.h"
#include "services/kafka/kafka_config.h"

namespace forewarn {

// Reads the whole topic, every partition from its first to its last
// message, with a short-lived consumer that joins no group and commits
// nothing (listing never moves anything). Thread-safe: each call has its own
// client.
class KafkaDeadLetterReader final : public DeadLetterSource {
 public:
  KafkaDeadLetterReader(KafkaConfig config, std::string topic, absl::Duration timeout = absl::Seconds(30))
      : config_(std::move(config)), topic_(std::move(topic)), timeout_(timeout) {}
  // UNAVAILABLE when the broker cannot be reached or the topic is not read
  // to its end within the timeout. Undecodable messages are logged and
  // skipped.
  absl::StatusOr<std::vector<NoticeJob>> ReadAll() override;

 private:
  KafkaConfig config_;
  std::string topic_;
  absl::Duration timeout_;
};

}  // namespace forewarn
