// forewarn-admin: operator commands against Forewarn's infrastructure.
//
//   forewarn-admin topics --kafka BOOTSTRAP [--check] ...
//
// creates the events, notices, retry and dead-letter topics as configured
// (or, with --check, only verifies them) and prints one line per topic:
// "created", "ok", "mismatch", "missing" or "failed", with the details.
// Existing topics are never changed. Exit 0 when every topic is as
// configured, 1 when one is not or the broker cannot be reached, 2 for bad
// usage. Logs (key=value) go to stderr, the report to stdout.
#include <algorithm>
#include <atomic>
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "services/kafka/kafka_topic_admin.h"
#include "services/runtime/runtime.h"
#include "spdlog/spdlog.h"

namespace {

struct TopicsConfig {
  std::string kafka_bootstrap;
  std::vector<std::string> kafka_props;  // key=value, passed to librdkafka
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

void AddTopicsFlags(CLI::App& cmd, TopicsConfig& cfg) {
  cmd.add_option("--kafka", cfg.kafka_bootstrap, "Kafka bootstrap servers")->envname("FOREWARN_KAFKA")->required();
  cmd.add_option("--kafka-prop", cfg.kafka_props, "extra librdkafka property key=value (repeatable): SASL, TLS, ...");
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

std::vector<forewarn::TopicSettings> TopicSettingsOf(const TopicsConfig& cfg) {
  const auto topic = [&cfg](const std::string& name, int partitions, int64_t retention_ms) {
    return forewarn::TopicSettings{name, partitions, cfg.replication_factor, cfg.min_insync_replicas, retention_ms};
  };
  return {topic(cfg.events_topic, cfg.events_partitions, cfg.retention_ms),
          topic(cfg.notices_topic, cfg.notices_partitions, cfg.retention_ms),
          topic(cfg.retry_topic, cfg.retry_partitions, cfg.retention_ms),
          topic(cfg.dlq_topic, cfg.dlq_partitions, cfg.dlq_retention_ms)};
}

// One aligned line per topic on stdout; true when every topic is usable.
bool PrintReports(const std::vector<forewarn::TopicReport>& reports) {
  size_t width = 0;
  for (const auto& r : reports) width = std::max(width, r.topic.size());
  bool good = true;
  for (const auto& r : reports) {
    std::printf("%-8s %-*s  %s\n", std::string(forewarn::OutcomeName(r.outcome)).c_str(), static_cast<int>(width),
                r.topic.c_str(), r.detail.c_str());
    good = good && forewarn::IsGood(r.outcome);
  }
  std::fflush(stdout);
  return good;
}

int RunTopics(const TopicsConfig& cfg) {
  const std::vector<forewarn::TopicSettings> topics = TopicSettingsOf(cfg);
  for (const auto& t : topics) {
    if (auto s = forewarn::ValidateTopicSettings(t); !s.ok()) {
      std::cerr << "error: " << s.message() << " (--partitions-*, --replication-factor, --min-insync-replicas, "
                << "--retention-ms, --dlq-retention-ms)\n";
      return 2;
    }
  }
  auto kafka = forewarn::KafkaConfigFrom(cfg.kafka_bootstrap, "forewarn-admin", cfg.kafka_props);
  if (!kafka.ok()) {
    std::cerr << "error: " << kafka.status().message() << "\n";
    return 2;
  }
  auto admin = forewarn::KafkaTopicAdmin::Create(*kafka);
  if (!admin.ok()) {
    std::cerr << "error: " << admin.status().message() << "\n";
    return 2;
  }
  const auto& stop = forewarn::InstallStopSignals();
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

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"forewarn-admin: operator commands against Forewarn's infrastructure"};
  app.require_subcommand(1);
  TopicsConfig topics;
  CLI::App* topics_cmd = app.add_subcommand(
      "topics",
      "create the events, notices, retry and dead-letter topics as configured, verify existing ones "
      "(exit 1 on a mismatch)");
  AddTopicsFlags(*topics_cmd, topics);
  CLI11_PARSE(app, argc, argv);
  forewarn::SetupLogging("admin");
  return RunTopics(topics);
}
