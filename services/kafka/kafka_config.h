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
  // Consumer: static group membership ("group.instance.id", e.g. the pod
  // name). A member that comes back under the same id within the session
  // timeout gets its partitions back without a rebalance; a static member
  // that stops does not leave the group, so its partitions wait out the
  // session timeout. Empty: dynamic membership. Must be unique within the
  // group (a second member with the same id fences the first for good).
  std::string group_instance_id;
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
