#pragma once

// Forewarn's topics are provisioned, never auto-created: `forewarn-admin
// topics` creates them with chosen partitions, replication factor,
// min.insync.replicas and retention (and verifies existing ones), and every
// service checks at start-up that the topics it uses exist.

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "services/kafka/kafka_config.h"

namespace forewarn {

// What a topic should be.
struct TopicSettings {
  std::string name;
  int partitions = 1;
  int replication_factor = 3;
  int min_insync_replicas = 2;
  // retention.ms given to a created topic; -1 keeps messages forever. An
  // existing topic's retention is reported, never compared or changed.
  int64_t retention_ms = int64_t{7} * 24 * 3600 * 1000;
};

// INVALID_ARGUMENT naming the setting at fault: a count below 1,
// min.insync.replicas above the replication factor (no acks=all write could
// ever succeed), a retention neither -1 nor positive, an empty name.
absl::Status ValidateTopicSettings(const TopicSettings& settings);

// What a topic is, as the cluster describes it.
struct TopicState {
  std::string name;
  int partitions = 0;
  int replication_factor = 0;  // the lowest over its partitions
  // From the topic's configuration; nullopt when not asked for or when the
  // broker cannot describe configurations (librdkafka's mock cluster,
  // i.e. forewarn-devkafka).
  std::optional<int> min_insync_replicas;
  std::optional<int64_t> retention_ms;
};

// The ways `actual` differs from `wanted`, one phrase each; empty when it
// fits. The rule: at least the configured partitions (Kafka cannot remove
// any), exactly the configured replication factor, and exactly the
// configured min.insync.replicas when the broker reports it.
std::vector<std::string> TopicMismatches(const TopicSettings& wanted, const TopicState& actual);

// One topic's line of `forewarn-admin topics`.
struct TopicReport {
  enum class Outcome {
    kCreated,   // did not exist; created as configured
    kOk,        // exists and fits
    kMismatch,  // exists and does not fit (detail says how)
    kMissing,   // does not exist (check only)
    kFailed,    // did not exist; the broker refused to create it
  };
  std::string topic;
  Outcome outcome = Outcome::kOk;
  std::string detail;
};
// "created", "ok", "mismatch", "missing", "failed".
std::string_view OutcomeName(TopicReport::Outcome outcome);
// True when the outcome leaves the topic usable as configured.
bool IsGood(TopicReport::Outcome outcome);

// Kafka Admin API and metadata over one client handle (which never asks
// for a topic to be auto-created, whatever --kafka-prop says).
// Thread-compatible.
class KafkaTopicAdmin {
 public:
  // INVALID_ARGUMENT for a bad configuration. Does not contact the broker.
  static absl::StatusOr<std::unique_ptr<KafkaTopicAdmin>> Create(const KafkaConfig& config);
  ~KafkaTopicAdmin();
  KafkaTopicAdmin(const KafkaTopicAdmin&) = delete;
  KafkaTopicAdmin& operator=(const KafkaTopicAdmin&) = delete;

  // Returns once a broker answers a metadata request. Retries (librdkafka
  // reconnects by itself) for up to `wait`; UNAVAILABLE after that, naming
  // the bootstrap servers; CANCELLED when `stop` is set first;
  // UNAUTHENTICATED at once when a broker refused the credentials (SASL) or
  // the TLS handshake failed, with librdkafka's reason (never a secret).
  absl::Status WaitUntilReachable(absl::Duration wait, const std::atomic<bool>& stop);

  // Partitions and replication factor from metadata (what any client that
  // may use the topic is allowed to see). NOT_FOUND: no such topic.
  // PERMISSION_DENIED: this principal may not describe it. UNAVAILABLE or
  // DEADLINE_EXCEEDED: no answer within `timeout`, or no leader yet.
  absl::StatusOr<TopicState> DescribePartitions(const std::string& topic, absl::Duration timeout);

  // DescribePartitions plus min.insync.replicas and retention.ms from the
  // topic's configuration (DescribeConfigs); those stay unset when the
  // broker does not implement DescribeConfigs. Errors as DescribePartitions.
  absl::StatusOr<TopicState> Describe(const std::string& topic, absl::Duration timeout);

  // Describe (with `configs`) or DescribePartitions, asked again while the
  // topic is not listed, for up to `settle`: a topic created a moment ago
  // may not be in every broker's metadata yet.
  absl::StatusOr<TopicState> DescribeSettled(const std::string& topic, bool configs, absl::Duration settle,
                                             absl::Duration timeout);

  // Creates the topic as configured; the broker answers once it exists.
  // ALREADY_EXISTS; INVALID_ARGUMENT with the broker's reason (e.g. a
  // replication factor above the number of brokers); PERMISSION_DENIED;
  // UNIMPLEMENTED when the broker has no CreateTopics (librdkafka's mock
  // cluster); UNAVAILABLE or DEADLINE_EXCEEDED.
  absl::Status CreateTopic(const TopicSettings& settings, absl::Duration timeout);

  // Per topic, in order: describe it; when it does not exist create it
  // (kCreated or kFailed), or with `check_only` report it kMissing; when it
  // exists compare it (kOk or kMismatch). Existing topics are never
  // changed. Not OK only when a topic could not be described (broker
  // unreachable, not authorised) or a setting is invalid.
  absl::StatusOr<std::vector<TopicReport>> Provision(const std::vector<TopicSettings>& topics, bool check_only,
                                                     absl::Duration timeout);

  // The configuration (name -> value, defaults included) of one broker of
  // the cluster, the lowest id the metadata lists, and that id.
  // UNIMPLEMENTED: the cluster takes no admin requests (librdkafka's mock
  // cluster). PERMISSION_DENIED: this principal may not DescribeConfigs on
  // the cluster. UNAVAILABLE or DEADLINE_EXCEEDED.
  struct BrokerConfig {
    int32_t broker_id = -1;
    std::map<std::string, std::string> values;
  };
  absl::StatusOr<BrokerConfig> DescribeBrokerConfig(absl::Duration timeout);

 private:
  struct Impl;
  explicit KafkaTopicAdmin(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// A topic a service uses, and the service's flag that names it.
struct RequiredTopic {
  std::string flag;  // e.g. "--notices-topic"
  std::string name;
};

// A service's start-up check: waits up to `wait` for a broker to answer,
// then checks (metadata only) that every topic exists. FAILED_PRECONDITION
// naming each missing topic, its flag and the `forewarn-admin topics`
// command that creates it; PERMISSION_DENIED; UNAVAILABLE when no broker
// answered; CANCELLED when `stop` was set.
absl::Status CheckTopicsExist(const KafkaConfig& config, const std::vector<RequiredTopic>& topics,
                              const std::atomic<bool>& stop, absl::Duration wait);

// CheckTopicsExist for a service's main(), with a 60 s wait for the broker.
// Logs the outcome (event=kafka_topics_present, or event=startup_failed
// with the reason) and returns the process exit code: 0 when every topic
// exists, 2 when one is missing or may not be described or the credentials
// are refused (configuration), 1
// when no broker answered or the service was stopped.
int RequireTopics(const KafkaConfig& config, const std::vector<RequiredTopic>& topics,
                  const std::atomic<bool>& stop);

}  // namespace forewarn
