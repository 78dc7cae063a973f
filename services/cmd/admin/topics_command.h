#pragma once

// forewarn-admin topics: creates the events, notices, retry and dead-letter
// topics as configured (or, with --check, only verifies them).

#include <cstdint>
#include <string>

#include "services/runtime/service_flags.h"

namespace CLI {
class App;
}

namespace forewarn {

struct TopicsConfig {
  KafkaFlags kafka;
  // Names: the same flags and defaults as the services.
  std::string events_topic = "forewarn.events";
  std::string notices_topic = "forewarn.notices";
  std::string retry_topic = "forewarn.notices.retry";
  std::string dlq_topic = "forewarn.notices.dlq";
  int events_partitions = 4;
  int notices_partitions = 12;
  int retry_partitions = 12;
  int dlq_partitions = 4;
  int replication_factor = 3;
  int min_insync_replicas = 2;
  int64_t retention_ms = int64_t{7} * 24 * 3600 * 1000;       // 7 days
  int64_t dlq_retention_ms = int64_t{30} * 24 * 3600 * 1000;  // 30 days: waits for an operator
  bool check_only = false;
  int wait_ms = 60000;
  int timeout_ms = 30000;
};

void AddTopicsFlags(CLI::App& cmd, TopicsConfig& cfg);

// Prints one line per topic; the exit code: 0 when every topic is as
// configured, 1 when one is not or the broker cannot be reached, 2 for bad
// usage.
int RunTopics(const TopicsConfig& cfg);

}  // namespace forewarn
