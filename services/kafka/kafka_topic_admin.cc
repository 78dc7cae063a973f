#include "services/kafka/kafka_topic_admin.h"

#include <algorithm>
#include <mutex>
#include <string>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "services/kafka/rdkafka_util.h"
#include "spdlog/spdlog.h"

namespace forewarn {
namespace {

// Extra time to wait for an Admin API result beyond the request timeout
// given to librdkafka, which answers with a timeout error itself.
constexpr absl::Duration kResultGrace = absl::Seconds(2);
// Slice of WaitUntilReachable: how often `stop` is looked at.
constexpr absl::Duration kWaitSlice = absl::Seconds(1);
// How long a topic the metadata does not list is asked for again before it
// counts as missing (a new topic reaches every broker's metadata in well
// under a second), and the pause between two questions.
constexpr absl::Duration kMetadataSettle = absl::Seconds(3);
constexpr absl::Duration kAskAgainPause = absl::Milliseconds(250);

std::string SettingsSummary(int partitions, int replication_factor, std::optional<int> min_isr,
                            std::optional<int64_t> retention_ms) {
  std::string out = absl::StrCat(partitions, " partitions, replication factor ", replication_factor);
  if (min_isr) absl::StrAppend(&out, ", min.insync.replicas ", *min_isr);
  if (retention_ms) absl::StrAppend(&out, ", retention.ms ", *retention_ms);
  return out;
}

// What an Ok report says: the topic as it is, and what was not compared.
std::string OkDetail(const TopicSettings& wanted, const TopicState& actual) {
  std::string out = SettingsSummary(actual.partitions, actual.replication_factor, actual.min_insync_replicas,
                                    actual.retention_ms);
  if (actual.partitions > wanted.partitions) {
    absl::StrAppend(&out, " (", wanted.partitions, " partitions configured: more are fine)");
  }
  if (!actual.min_insync_replicas) {
    absl::StrAppend(&out, "; min.insync.replicas not verified: the broker does not describe topic configs");
  }
  if (actual.retention_ms && *actual.retention_ms != wanted.retention_ms) {
    absl::StrAppend(&out, "; retention.ms differs from the configured ", wanted.retention_ms, " (left as is)");
  }
  return out;
}

absl::StatusOr<rdk::AdminOptionsPtr> AdminOptions(rd_kafka_t* rk, rd_kafka_admin_op_t op, absl::Duration timeout) {
  rdk::AdminOptionsPtr options(rd_kafka_AdminOptions_new(rk, op));
  char errstr[512];
  const int ms = rdk::ToTimeoutMs(timeout);
  if (rd_kafka_AdminOptions_set_request_timeout(options.get(), ms, errstr, sizeof(errstr)) !=
      RD_KAFKA_RESP_ERR_NO_ERROR) {
    return absl::InvalidArgumentError(absl::StrCat("kafka admin request timeout: ", errstr));
  }
  if (op == RD_KAFKA_ADMIN_OP_CREATETOPICS &&
      rd_kafka_AdminOptions_set_operation_timeout(options.get(), ms, errstr, sizeof(errstr)) !=
          RD_KAFKA_RESP_ERR_NO_ERROR) {
    return absl::InvalidArgumentError(absl::StrCat("kafka admin operation timeout: ", errstr));
  }
  return options;
}

// Waits for the one result event of an Admin API call on `queue`; a
// request-level error (unsupported by the broker, timed out) as a status.
absl::StatusOr<rdk::EventPtr> AwaitResult(rd_kafka_queue_t* queue, absl::Duration timeout, const std::string& what) {
  rdk::EventPtr event(rd_kafka_queue_poll(queue, rdk::ToTimeoutMs(timeout + kResultGrace)));
  if (!event) return absl::DeadlineExceededError(absl::StrCat(what, ": no answer within ", absl::FormatDuration(timeout)));
  const rd_kafka_resp_err_t err = rd_kafka_event_error(event.get());
  if (err == RD_KAFKA_RESP_ERR__UNSUPPORTED_FEATURE) {
    return absl::UnimplementedError(absl::StrCat(what, ": ", rd_kafka_event_error_string(event.get())));
  }
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return rdk::ToStatus(err, absl::StrCat(what, " (", rd_kafka_event_error_string(event.get()), ")"));
  }
  return event;
}

// A topic-level error of a metadata answer as a status.
absl::Status TopicError(rd_kafka_resp_err_t err, const std::string& topic) {
  switch (err) {
    case RD_KAFKA_RESP_ERR_NO_ERROR:
      return absl::OkStatus();
    case RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART:
      return absl::NotFoundError(absl::StrCat("kafka topic ", topic, " does not exist"));
    case RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED:
      return absl::PermissionDeniedError(absl::StrCat(
          "kafka topic ", topic, ": not authorised to describe it (grant this principal Describe on the topic)"));
    default:
      return rdk::ToStatus(err, absl::StrCat("kafka topic ", topic));
  }
}

// A CreateTopics result for one topic as a status.
absl::Status CreateError(rd_kafka_resp_err_t err, const char* reason, const std::string& topic) {
  const std::string why = absl::StrCat("create kafka topic ", topic, ": ", rd_kafka_err2name(err), ": ",
                                       reason != nullptr && *reason != '\0' ? reason : rd_kafka_err2str(err));
  switch (err) {
    case RD_KAFKA_RESP_ERR_NO_ERROR:
      return absl::OkStatus();
    case RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS:
      return absl::AlreadyExistsError(why);
    case RD_KAFKA_RESP_ERR_INVALID_REPLICATION_FACTOR:
    case RD_KAFKA_RESP_ERR_INVALID_PARTITIONS:
    case RD_KAFKA_RESP_ERR_INVALID_CONFIG:
    case RD_KAFKA_RESP_ERR_INVALID_REQUEST:
    case RD_KAFKA_RESP_ERR_POLICY_VIOLATION:
    case RD_KAFKA_RESP_ERR_TOPIC_EXCEPTION:
      return absl::InvalidArgumentError(why);
    case RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_CLUSTER_AUTHORIZATION_FAILED:
      return absl::PermissionDeniedError(absl::StrCat(why, " (grant this principal Create on the topic or cluster)"));
    default:
      return rdk::ToStatus(err, why);
  }
}

// Sends DescribeConfigs for one topic and waits for its result event.
absl::StatusOr<rdk::EventPtr> DescribeTopicConfigs(rd_kafka_t* rk, const std::string& topic, absl::Duration timeout) {
  auto options = AdminOptions(rk, RD_KAFKA_ADMIN_OP_DESCRIBECONFIGS, timeout);
  if (!options.ok()) return options.status();
  rdk::ConfigResourcePtr resource(rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, topic.c_str()));
  rd_kafka_ConfigResource_t* resources[] = {resource.get()};
  rdk::QueuePtr queue(rd_kafka_queue_new(rk));
  rd_kafka_DescribeConfigs(rk, resources, 1, options->get(), queue.get());
  return AwaitResult(queue.get(), timeout, absl::StrCat("describe configs of kafka topic ", topic));
}

// min.insync.replicas and retention.ms of one DescribeConfigs result.
absl::Status ReadTopicConfigs(const rd_kafka_ConfigResource_t* result, const std::string& topic, TopicState& state) {
  const rd_kafka_resp_err_t err = rd_kafka_ConfigResource_error(result);
  if (err == RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED) {
    return absl::PermissionDeniedError(absl::StrCat("kafka topic ", topic, ": not authorised to describe its "
                                                    "configuration (grant this principal DescribeConfigs on it)"));
  }
  if (auto s = TopicError(err, topic); !s.ok()) return s;
  size_t entries = 0;
  const rd_kafka_ConfigEntry_t** configs = rd_kafka_ConfigResource_configs(result, &entries);
  for (size_t e = 0; e < entries; ++e) {
    const std::string_view name = rd_kafka_ConfigEntry_name(configs[e]);
    const char* value = rd_kafka_ConfigEntry_value(configs[e]);
    int64_t number = 0;
    if (value == nullptr || !absl::SimpleAtoi(value, &number)) continue;
    if (name == "min.insync.replicas") state.min_insync_replicas = static_cast<int>(number);
    if (name == "retention.ms") state.retention_ms = number;
  }
  return absl::OkStatus();
}

bool BrokerNotAnswering(const absl::Status& status) {
  return absl::IsUnavailable(status) || absl::IsDeadlineExceeded(status);
}

}  // namespace

absl::Status ValidateTopicSettings(const TopicSettings& s) {
  const std::string topic = s.name.empty() ? std::string("topic") : absl::StrCat("topic ", s.name);
  if (s.name.empty()) return absl::InvalidArgumentError("topic name: must not be empty");
  if (s.partitions < 1) return absl::InvalidArgumentError(absl::StrCat(topic, ": partitions must be at least 1"));
  if (s.replication_factor < 1) {
    return absl::InvalidArgumentError(absl::StrCat(topic, ": replication factor must be at least 1"));
  }
  if (s.min_insync_replicas < 1) {
    return absl::InvalidArgumentError(absl::StrCat(topic, ": min.insync.replicas must be at least 1"));
  }
  if (s.min_insync_replicas > s.replication_factor) {
    return absl::InvalidArgumentError(absl::StrCat(topic, ": min.insync.replicas ", s.min_insync_replicas,
                                                   " exceeds the replication factor ", s.replication_factor,
                                                   ": no write with acks=all could ever succeed"));
  }
  if (s.retention_ms != -1 && s.retention_ms <= 0) {
    return absl::InvalidArgumentError(absl::StrCat(topic, ": retention.ms must be positive, or -1 for unlimited"));
  }
  return absl::OkStatus();
}

std::vector<std::string> TopicMismatches(const TopicSettings& wanted, const TopicState& actual) {
  std::vector<std::string> out;
  if (actual.partitions < wanted.partitions) {
    out.push_back(absl::StrCat(actual.partitions, " partitions, fewer than the ", wanted.partitions,
                               " configured (kafka-topics.sh --alter --topic ", wanted.name, " --partitions ",
                               wanted.partitions, " adds them, and moves keys to other partitions; or configure ",
                               actual.partitions, ")"));
  }
  if (actual.replication_factor != wanted.replication_factor) {
    out.push_back(absl::StrCat("replication factor ", actual.replication_factor, ", not the ",
                               wanted.replication_factor, " configured"));
  }
  if (actual.min_insync_replicas && *actual.min_insync_replicas != wanted.min_insync_replicas) {
    out.push_back(absl::StrCat("min.insync.replicas ", *actual.min_insync_replicas, ", not the ",
                               wanted.min_insync_replicas, " configured (kafka-configs.sh --alter --entity-type topics "
                               "--entity-name ", wanted.name, " --add-config min.insync.replicas=",
                               wanted.min_insync_replicas, ")"));
  }
  return out;
}

std::string_view OutcomeName(TopicReport::Outcome outcome) {
  switch (outcome) {
    case TopicReport::Outcome::kCreated:
      return "created";
    case TopicReport::Outcome::kOk:
      return "ok";
    case TopicReport::Outcome::kMismatch:
      return "mismatch";
    case TopicReport::Outcome::kMissing:
      return "missing";
    case TopicReport::Outcome::kFailed:
      return "failed";
  }
  return "unknown";
}

bool IsGood(TopicReport::Outcome outcome) {
  return outcome == TopicReport::Outcome::kCreated || outcome == TopicReport::Outcome::kOk;
}

// Every metadata request asks for all topics. One that names a topic can
// create it: brokers answering Metadata below v4 (librdkafka's mock cluster
// among them) auto-create every topic named, whatever the client asks, and
// librdkafka's "topics this client knows" request allows auto-creation
// whenever all of them are cached, negative entries included.
struct KafkaTopicAdmin::Impl {
  std::string bootstrap;
  rdk::HandlePtr rk;
  bool controller_known = false;
  bool configs_unknown_logged = false;
  // The last authentication failure librdkafka reported (SASL credentials or
  // mechanism, TLS handshake); empty while there was none. librdkafka only
  // retries such a connection, so waiting on would only repeat it.
  std::mutex mu;
  std::string auth_failure;

  static void OnError(rd_kafka_t* rk, int err, const char* reason, void* opaque) {
    rdk::LogClientError(rk, err, reason);
    if (err != RD_KAFKA_RESP_ERR__AUTHENTICATION && err != RD_KAFKA_RESP_ERR__SSL) return;
    auto* self = static_cast<Impl*>(opaque);
    std::lock_guard lock(self->mu);
    self->auth_failure = reason;
  }

  std::string AuthFailure() {
    std::lock_guard lock(mu);
    return auth_failure;
  }

  // Admin requests (CreateTopics, DescribeConfigs) go to the controller the
  // brokers name in their metadata. librdkafka's mock cluster names none of
  // its brokers, so librdkafka would wait for one until the timeout:
  // UNIMPLEMENTED instead, at once.
  absl::Status RequireController(absl::Duration timeout) {
    if (controller_known) return absl::OkStatus();
    const rd_kafka_metadata_t* raw = nullptr;
    const rd_kafka_resp_err_t err = rd_kafka_metadata(rk.get(), 1, nullptr, &raw, rdk::ToTimeoutMs(timeout));
    rdk::MetadataPtr md(raw);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) return rdk::ToStatus(err, "kafka metadata");
    const int32_t controller = rd_kafka_controllerid(rk.get(), 0);
    for (int i = 0; i < md->broker_cnt; ++i) controller_known = controller_known || md->brokers[i].id == controller;
    if (controller_known) return absl::OkStatus();
    return absl::UnimplementedError(absl::StrCat(
        "the cluster names no controller among its brokers (controller id ", controller,
        "), so it takes no admin requests; librdkafka's mock cluster (forewarn-devkafka) is such a cluster: "
        "give it its topics with --topic NAME:PARTITIONS"));
  }
};

KafkaTopicAdmin::KafkaTopicAdmin(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
KafkaTopicAdmin::~KafkaTopicAdmin() = default;

absl::StatusOr<std::unique_ptr<KafkaTopicAdmin>> KafkaTopicAdmin::Create(const KafkaConfig& config) {
  auto conf = rdk::BuildConf(config, {});
  if (!conf.ok()) return conf.status();
  // After the user's properties: describing a topic must never create it.
  char errstr[512];
  if (rd_kafka_conf_set(conf->get(), "allow.auto.create.topics", "false", errstr, sizeof(errstr)) !=
      RD_KAFKA_CONF_OK) {
    return absl::InternalError(absl::StrCat("kafka property allow.auto.create.topics: ", errstr));
  }
  auto impl = std::make_unique<Impl>();
  rd_kafka_conf_set_opaque(conf->get(), impl.get());
  rd_kafka_conf_set_error_cb(conf->get(), &Impl::OnError);
  auto rk = rdk::NewHandle(RD_KAFKA_PRODUCER, std::move(*conf));
  if (!rk.ok()) return rk.status();
  impl->bootstrap = config.bootstrap_servers;
  impl->rk = std::move(*rk);
  return std::unique_ptr<KafkaTopicAdmin>(new KafkaTopicAdmin(std::move(impl)));
}

absl::Status KafkaTopicAdmin::WaitUntilReachable(absl::Duration wait, const std::atomic<bool>& stop) {
  const absl::Time deadline = absl::Now() + wait;
  rd_kafka_resp_err_t last = RD_KAFKA_RESP_ERR__TRANSPORT;
  do {
    if (stop.load()) return absl::CancelledError("stopping: gave up waiting for a Kafka broker");
    const absl::Duration slice = std::clamp(deadline - absl::Now(), absl::Milliseconds(100), kWaitSlice);
    const rd_kafka_metadata_t* raw = nullptr;
    last = rd_kafka_metadata(impl_->rk.get(), 1, nullptr, &raw, rdk::ToTimeoutMs(slice));
    rdk::MetadataPtr md(raw);
    if (last == RD_KAFKA_RESP_ERR_NO_ERROR) return absl::OkStatus();
    rd_kafka_poll(impl_->rk.get(), 0);  // serves the error callback (OnError)
    if (const std::string failure = impl_->AuthFailure(); !failure.empty()) {
      return absl::UnauthenticatedError(absl::StrCat(
          "kafka: the brokers of ", impl_->bootstrap, " refused this client's credentials: ", failure,
          " (check --kafka-prop security.protocol, sasl.mechanism, sasl.username and sasl.password, or the ssl.* "
          "settings)"));
    }
  } while (absl::Now() < deadline);
  return absl::UnavailableError(absl::StrCat("kafka: no broker of ", impl_->bootstrap, " answered within ",
                                             absl::FormatDuration(wait), " (", rd_kafka_err2name(last),
                                             "; see the kafka log lines for connection, TLS or SASL errors)"));
}

absl::StatusOr<TopicState> KafkaTopicAdmin::DescribePartitions(const std::string& topic, absl::Duration timeout) {
  const rd_kafka_metadata_t* raw = nullptr;
  const rd_kafka_resp_err_t err = rd_kafka_metadata(impl_->rk.get(), 1, nullptr, &raw, rdk::ToTimeoutMs(timeout));
  rdk::MetadataPtr md(raw);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) return rdk::ToStatus(err, absl::StrCat("kafka metadata for ", topic));
  for (int i = 0; i < md->topic_cnt; ++i) {
    const rd_kafka_metadata_topic_t& t = md->topics[i];
    if (topic != t.topic) continue;
    if (auto s = TopicError(t.err, topic); !s.ok()) return s;
    TopicState state;
    state.name = topic;
    state.partitions = t.partition_cnt;
    state.replication_factor = t.partition_cnt > 0 ? t.partitions[0].replica_cnt : 0;
    for (int p = 1; p < t.partition_cnt; ++p) {
      state.replication_factor = std::min(state.replication_factor, t.partitions[p].replica_cnt);
    }
    return state;
  }
  return absl::NotFoundError(
      absl::StrCat("kafka topic ", topic, " does not exist (or this principal may not Describe it)"));
}

absl::StatusOr<TopicState> KafkaTopicAdmin::Describe(const std::string& topic, absl::Duration timeout) {
  auto state = DescribePartitions(topic, timeout);
  if (!state.ok()) return state;
  const absl::Status controller = impl_->RequireController(timeout);
  absl::StatusOr<rdk::EventPtr> event =
      controller.ok() ? DescribeTopicConfigs(impl_->rk.get(), topic, timeout) : controller;
  if (absl::IsUnimplemented(event.status())) {
    if (impl_->configs_unknown_logged) return state;
    impl_->configs_unknown_logged = true;
    spdlog::warn("event=topic_configs_unknown first_topic={} reason=\"{}\"", topic, std::string(event.status().message()));
    return state;
  }
  if (!event.ok()) return event.status();
  size_t count = 0;
  const rd_kafka_ConfigResource_t** results =
      rd_kafka_DescribeConfigs_result_resources(rd_kafka_event_DescribeConfigs_result(event->get()), &count);
  for (size_t i = 0; i < count; ++i) {
    if (auto s = ReadTopicConfigs(results[i], topic, *state); !s.ok()) return s;
  }
  return state;
}

absl::Status KafkaTopicAdmin::CreateTopic(const TopicSettings& settings, absl::Duration timeout) {
  if (auto s = ValidateTopicSettings(settings); !s.ok()) return s;
  rd_kafka_t* rk = impl_->rk.get();
  char errstr[512];
  rdk::NewTopicPtr topic(rd_kafka_NewTopic_new(settings.name.c_str(), settings.partitions,
                                               settings.replication_factor, errstr, sizeof(errstr)));
  if (!topic) return absl::InvalidArgumentError(absl::StrCat("kafka topic ", settings.name, ": ", errstr));
  const std::pair<const char*, std::string> configs[] = {
      {"min.insync.replicas", std::to_string(settings.min_insync_replicas)},
      {"retention.ms", std::to_string(settings.retention_ms)}};
  for (const auto& [name, value] : configs) {
    if (auto e = rd_kafka_NewTopic_set_config(topic.get(), name, value.c_str()); e != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return rdk::ToStatus(e, absl::StrCat("kafka topic ", settings.name, " config ", name));
    }
  }
  if (auto s = impl_->RequireController(timeout); !s.ok()) {
    return absl::Status(s.code(), absl::StrCat("create kafka topic ", settings.name, ": ", s.message()));
  }
  auto options = AdminOptions(rk, RD_KAFKA_ADMIN_OP_CREATETOPICS, timeout);
  if (!options.ok()) return options.status();
  rd_kafka_NewTopic_t* topics[] = {topic.get()};
  rdk::QueuePtr queue(rd_kafka_queue_new(rk));
  rd_kafka_CreateTopics(rk, topics, 1, options->get(), queue.get());
  auto event = AwaitResult(queue.get(), timeout, absl::StrCat("create kafka topic ", settings.name));
  if (!event.ok()) return event.status();
  size_t count = 0;
  const rd_kafka_topic_result_t** results =
      rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(event->get()), &count);
  for (size_t i = 0; i < count; ++i) {
    if (auto s = CreateError(rd_kafka_topic_result_error(results[i]), rd_kafka_topic_result_error_string(results[i]),
                             settings.name);
        !s.ok()) {
      return s;
    }
  }
  spdlog::info("event=topic_created topic={} {}", settings.name,
               SettingsSummary(settings.partitions, settings.replication_factor, settings.min_insync_replicas,
                               settings.retention_ms));
  return absl::OkStatus();
}

absl::StatusOr<KafkaTopicAdmin::BrokerConfig> KafkaTopicAdmin::DescribeBrokerConfig(absl::Duration timeout) {
  if (auto s = impl_->RequireController(timeout); !s.ok()) return s;
  BrokerConfig out;
  {
    const rd_kafka_metadata_t* raw = nullptr;
    const rd_kafka_resp_err_t err = rd_kafka_metadata(impl_->rk.get(), 0, nullptr, &raw, rdk::ToTimeoutMs(timeout));
    rdk::MetadataPtr md(raw);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) return rdk::ToStatus(err, "kafka metadata");
    for (int i = 0; i < md->broker_cnt; ++i) {
      if (out.broker_id < 0 || md->brokers[i].id < out.broker_id) out.broker_id = md->brokers[i].id;
    }
  }
  if (out.broker_id < 0) return absl::UnavailableError("kafka metadata lists no broker");
  const std::string what = absl::StrCat("describe configs of kafka broker ", out.broker_id);
  rd_kafka_t* rk = impl_->rk.get();
  auto options = AdminOptions(rk, RD_KAFKA_ADMIN_OP_DESCRIBECONFIGS, timeout);
  if (!options.ok()) return options.status();
  rdk::ConfigResourcePtr resource(
      rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_BROKER, std::to_string(out.broker_id).c_str()));
  rd_kafka_ConfigResource_t* resources[] = {resource.get()};
  rdk::QueuePtr queue(rd_kafka_queue_new(rk));
  rd_kafka_DescribeConfigs(rk, resources, 1, options->get(), queue.get());
  auto event = AwaitResult(queue.get(), timeout, what);
  if (!event.ok()) return event.status();
  size_t count = 0;
  const rd_kafka_ConfigResource_t** results =
      rd_kafka_DescribeConfigs_result_resources(rd_kafka_event_DescribeConfigs_result(event->get()), &count);
  for (size_t i = 0; i < count; ++i) {
    const rd_kafka_resp_err_t err = rd_kafka_ConfigResource_error(results[i]);
    if (err == RD_KAFKA_RESP_ERR_CLUSTER_AUTHORIZATION_FAILED) {
      return absl::PermissionDeniedError(absl::StrCat(what, ": not authorised (DescribeConfigs on the cluster)"));
    }
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) return rdk::ToStatus(err, what);
    size_t entries = 0;
    const rd_kafka_ConfigEntry_t** configs = rd_kafka_ConfigResource_configs(results[i], &entries);
    for (size_t e = 0; e < entries; ++e) {
      const char* value = rd_kafka_ConfigEntry_value(configs[e]);
      if (value != nullptr) out.values[rd_kafka_ConfigEntry_name(configs[e])] = value;
    }
  }
  return out;
}

absl::StatusOr<TopicState> KafkaTopicAdmin::DescribeSettled(const std::string& topic, bool configs,
                                                            absl::Duration settle, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + settle;
  while (true) {
    auto state = configs ? Describe(topic, timeout) : DescribePartitions(topic, timeout);
    if (!absl::IsNotFound(state.status()) || absl::Now() >= deadline) return state;
    absl::SleepFor(kAskAgainPause);
  }
}

absl::StatusOr<std::vector<TopicReport>> KafkaTopicAdmin::Provision(const std::vector<TopicSettings>& topics,
                                                                    bool check_only, absl::Duration timeout) {
  for (const TopicSettings& settings : topics) {
    if (auto s = ValidateTopicSettings(settings); !s.ok()) return s;
  }
  std::vector<TopicReport> reports;
  for (const TopicSettings& wanted : topics) {
    TopicReport& report = reports.emplace_back();
    report.topic = wanted.name;
    auto state = Describe(wanted.name, timeout);
    if (absl::IsNotFound(state.status()) && !check_only) {
      absl::Status created = CreateTopic(wanted, timeout);
      if (!absl::IsAlreadyExists(created)) {  // else created meanwhile by someone else: compare it
        report.outcome = created.ok() ? TopicReport::Outcome::kCreated : TopicReport::Outcome::kFailed;
        report.detail = created.ok() ? SettingsSummary(wanted.partitions, wanted.replication_factor,
                                                       wanted.min_insync_replicas, wanted.retention_ms)
                                     : std::string(created.message());
        continue;
      }
      state = DescribeSettled(wanted.name, true, timeout, timeout);  // created meanwhile by someone else
    } else if (absl::IsNotFound(state.status())) {
      state = DescribeSettled(wanted.name, true, kMetadataSettle, timeout);
    }
    if (absl::IsNotFound(state.status())) {
      report.outcome = TopicReport::Outcome::kMissing;
      report.detail = "does not exist";
      continue;
    }
    if (!state.ok()) return state.status();
    const std::vector<std::string> mismatches = TopicMismatches(wanted, *state);
    report.outcome = mismatches.empty() ? TopicReport::Outcome::kOk : TopicReport::Outcome::kMismatch;
    report.detail = mismatches.empty() ? OkDetail(wanted, *state) : absl::StrJoin(mismatches, "; ");
  }
  return reports;
}

absl::Status CheckTopicsExist(const KafkaConfig& config, const std::vector<RequiredTopic>& topics,
                              const std::atomic<bool>& stop, absl::Duration wait) {
  auto admin = KafkaTopicAdmin::Create(config);
  if (!admin.ok()) return admin.status();
  if (auto s = (*admin)->WaitUntilReachable(wait, stop); !s.ok()) return s;
  std::vector<std::string> missing, flags;
  for (const RequiredTopic& topic : topics) {
    // A topic still being created or a broker restarting: ask again.
    absl::StatusOr<TopicState> state = absl::UnavailableError("not asked yet");
    const absl::Time deadline = absl::Now() + wait;
    while (true) {
      state = (*admin)->DescribeSettled(topic.name, false, kMetadataSettle, absl::Seconds(10));
      if (!BrokerNotAnswering(state.status()) || stop.load() || absl::Now() >= deadline) break;
      absl::SleepFor(kAskAgainPause);
    }
    if (absl::IsNotFound(state.status())) {
      missing.push_back(absl::StrCat(topic.name, " (", topic.flag, ")"));
      absl::StrAppend(&flags.emplace_back(), topic.flag, " ", topic.name);
    } else if (!state.ok()) {
      return state.status();
    }
  }
  if (missing.empty()) return absl::OkStatus();
  return absl::FailedPreconditionError(absl::StrCat(
      "kafka topic", missing.size() > 1 ? "s " : " ", absl::StrJoin(missing, ", "),
      missing.size() > 1 ? " do" : " does", " not exist and topics are never auto-created; create ",
      missing.size() > 1 ? "them" : "it", " with: forewarn-admin topics --kafka ", config.bootstrap_servers, " ",
      absl::StrJoin(flags, " "),
      " (plus this service's --kafka-prop settings; see forewarn-admin topics --help), or let the Helm chart's "
      "topics Job run"));
}

int RequireTopics(const KafkaConfig& config, const std::vector<RequiredTopic>& topics,
                  const std::atomic<bool>& stop) {
  const absl::Status s = CheckTopicsExist(config, topics, stop, absl::Seconds(60));
  if (s.ok()) {
    std::vector<std::string> names;
    for (const RequiredTopic& t : topics) names.push_back(t.name);
    spdlog::info("event=kafka_topics_present topics={}", absl::StrJoin(names, ","));
    return 0;
  }
  spdlog::error("event=startup_failed status=\"{}\"", s.ToString());
  const bool configuration = absl::IsFailedPrecondition(s) || absl::IsPermissionDenied(s) ||
                             absl::IsInvalidArgument(s) || absl::IsUnauthenticated(s);
  return configuration ? 2 : 1;
}

}  // namespace forewarn
