#pragma once

// Connection settings shared by Forewarn's Kafka producers and consumers.
// Plain data, filled once in main() from flags/environment.

#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace forewarn {

struct KafkaConfig {
  // Comma-separated host:port list ("bootstrap.servers").
  std::string bootstrap_servers;
  std::string client_id = "forewarn";
  // Producer: how long librdkafka keeps retrying one message before its
  // delivery report fails ("message.timeout.ms").
  std::chrono::milliseconds message_timeout{30000};
  // Consumer group liveness ("session.timeout.ms", "heartbeat.interval.ms").
  std::chrono::milliseconds session_timeout{10000};
  std::chrono::milliseconds heartbeat_interval{1000};
  // Any librdkafka property (security.protocol, sasl.*, ssl.*, ...). Applied
  // last, so it overrides the defaults chosen by the producer and consumer.
  std::map<std::string, std::string> extra;
};

// Builds a config from the command line: `props` are librdkafka
// "key=value" settings (e.g. security.protocol=SASL_SSL); INVALID_ARGUMENT
// names a malformed one.
absl::StatusOr<KafkaConfig> KafkaConfigFrom(std::string bootstrap_servers, std::string client_id,
                                            const std::vector<std::string>& props);

}  // namespace forewarn
