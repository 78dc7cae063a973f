#include "services/cmd/admin/topics_command.h"

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "services/kafka/kafka_topic_admin.h"
#include "services/runtime/runtime.h"

namespace forewarn {
namespace {

std::vector<TopicSettings> TopicSettingsOf(const TopicsConfig& cfg) {
  const auto topic = [&cfg](const std::string& name, int partitions, int64_t retention_ms) {
    return TopicSettings{name, partitions, cfg.replication_factor, cfg.min_insync_replicas, retention_ms};
  };
  return {topic(cfg.events_topic, cfg.events_partitions, cfg.retention_ms),
          topic(cfg.notices_topic, cfg.notices_partitions, cfg.retention_ms),
          topic(cfg.retry_topic, cfg.retry_partitions, cfg.retention_ms),
          topic(cfg.dlq_topic, cfg.dlq_partitions, cfg.dlq_retention_ms)};
}

// One aligned line per topic on stdout; true when every topic is usable.
bool PrintReports(const std::vector<TopicReport>& reports) {
  size_t width = 0;
  for (const auto& r : reports) width = std::max(width, r.topic.size());
  bool good = true;
  for (const auto& r : reports) {
    std::printf("%-8s %-*s  %s\n", std::string(OutcomeName(r.outcome)).c_str(), static_cast<int>(width),
                r.topic.c_str(), r.detail.c_str());
    good = good && IsGood(r.outcome);
  }
  std::fflush(stdout);
  return good;
}

}  // namespace

void AddTopicsFlags(CLI::App& cmd, TopicsConfig& cfg) {
  AddKafkaFlags(cmd, cfg.kafka);
  cmd.add_option("--events-topic", cfg.events_topic)->envname("FOREWARN_EVENTS_TOPIC")->capture_default_str();
  cmd.add_option("--notices-topic", cfg.notices_topic)->envname("FOREWARN_NOTICES_TOPIC")->capture_default_str();
  cmd.add_option("--retry-topic", cfg.retry_topic)->envname("FOREWARN_RETRY_TOPIC")->capture_default_str();
  cmd.add_option("--dlq-topic", cfg.dlq_topic)->envname("FOREWARN_DLQ_TOPIC")->capture_default_str();
  const auto partitions = CLI::Range(1, 100000);
  cmd.add_option("--partitions-events", cfg.events_partitions, "partitions of the events topic (resolver parallelism)")
      ->envname("FOREWARN_EVENTS_PARTITIONS")->capture_default_str()->check(partitions);
  cmd.add_option("--partitions-notices", cfg.notices_partitions,
                 "partitions of the notices topic (the most notifiers that get work)")
      ->envname("FOREWARN_NOTICES_PARTITIONS")->capture_default_str()->check(partitions);
  cmd.add_option("--partitions-retry", cfg.retry_partitions, "partitions of the retry topic")
      ->envname("FOREWARN_RETRY_PARTITIONS")->capture_default_str()->check(partitions);
  cmd.add_option("--partitions-dlq", cfg.dlq_partitions, "partitions of the dead-letter topic")
      ->envname("FOREWARN_DLQ_PARTITIONS")->capture_default_str()->check(partitions);
  cmd.add_option("--replication-factor", cfg.replication_factor, "copies of every partition (1 on a single broker)")
      ->envname("FOREWARN_TOPIC_REPLICATION_FACTOR")->capture_default_str()->check(CLI::Range(1, 100));
  cmd.add_option("--min-insync-replicas", cfg.min_insync_replicas,
                 "copies that must have a write before an acks=all producer gets its acknowledgement")
      ->envname("FOREWARN_TOPIC_MIN_INSYNC_REPLICAS")->capture_default_str()->check(CLI::Range(1, 100));
  cmd.add_option("--retention-ms", cfg.retention_ms, "retention of a created events, notices or retry topic (-1: forever)")
      ->envname("FOREWARN_TOPIC_RETENTION_MS")->capture_default_str();
  cmd.add_option("--dlq-retention-ms", cfg.dlq_retention_ms, "retention of a created dead-letter topic (-1: forever)")
      ->envname("FOREWARN_DLQ_RETENTION_MS")->capture_default_str();
  cmd.add_flag("--check", cfg.check_only, "only verify: create nothing, report missing topics");
  cmd.add_option("--wait-ms", cfg.wait_ms, "wait this long for an unreachable broker")
      ->envname("FOREWARN_KAFKA_WAIT_MS")->capture_default_str()->check(CLI::Range(0, 3600000));
  cmd.add_option("--timeout-ms", cfg.timeout_ms, "per request to the cluster")
      ->capture_default_str()->check(CLI::Range(100, 600000));
}

int RunTopics(const TopicsConfig& cfg) {
  const std::vector<TopicSettings> topics = TopicSettingsOf(cfg);
  for (const auto& t : topics) {
    if (auto s = ValidateTopicSettings(t); !s.ok()) {
      std::cerr << "error: " << s.message() << " (--partitions-*, --replication-factor, --min-insync-replicas, "
                << "--retention-ms, --dlq-retention-ms)\n";
      return 2;
    }
  }
  auto kafka = ToKafkaConfig(cfg.kafka, "forewarn-admin");
  if (!kafka.ok()) {
    std::cerr << "error: " << kafka.status().message() << "\n";
    return 2;
  }
  auto admin = KafkaTopicAdmin::Create(*kafka);
  if (!admin.ok()) {
    std::cerr << "error: " << admin.status().message() << "\n";
    return 2;
  }
  const auto& stop = InstallStopSignals();
  if (auto s = (*admin)->WaitUntilReachable(absl::Milliseconds(cfg.wait_ms), stop); !s.ok()) {
    std::cerr << "error: " << s.message() << "\n";
    return 1;
  }
  auto reports = (*admin)->Provision(topics, cfg.check_only, absl::Milliseconds(cfg.timeout_ms));
  if (!reports.ok()) {
    std::cerr << "error: " << reports.status().message() << "\n";
    return 1;
  }
  return PrintReports(*reports) ? 0 : 1;
}


}  // namespace forewarn
