#include "services/kafka/kafka_consumer.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <map>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "services/kafka/rdkafka_util.h"
#include "spdlog/spdlog.h"

namespace forewarn {
namespace {

// With a fetch wait: the broker answers once this much is there (or the
// wait is over). A fan-out's consumers otherwise fetch as fast as the
// broker answers, a few messages a time, and each fetch costs the broker
// as much as a full one.
constexpr int kFetchMinBytes = 256 * 1024;

std::string Describe(const rd_kafka_topic_partition_list_t* parts) {
  std::string out;
  for (int i = 0; i < parts->cnt; ++i) {
    absl::StrAppend(&out, i == 0 ? "" : ",", parts->elems[i].topic, "[",
                    parts->elems[i].partition, "]");
  }
  return out.empty() ? "(none)" : out;
}

// Runs inside rd_kafka_consumer_poll(), i.e. inside Poll(), so the
// assignment never changes between Poll() and StoreOffsets().
void OnRebalance(rd_kafka_t* rk, rd_kafka_resp_err_t err,
                 rd_kafka_topic_partition_list_t* parts, void* /*opaque*/) {
  const bool cooperative = std::strcmp(rd_kafka_rebalance_protocol(rk), "COOPERATIVE") == 0;
  if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
    spdlog::info("kafka consumer {}: assigned {}", rd_kafka_name(rk), Describe(parts));
    if (cooperative) {
      rdk::ErrorPtr error(rd_kafka_incremental_assign(rk, parts));
      if (error) spdlog::error("kafka: incremental assign: {}", rd_kafka_error_string(error.get()));
    } else if (const auto e = rd_kafka_assign(rk, parts); e != RD_KAFKA_RESP_ERR_NO_ERROR) {
      spdlog::error("kafka: assign: {}", rd_kafka_err2str(e));
    }
    return;
  }
  if (err == RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS) {
    spdlog::info("kafka consumer {}: revoked {}{}", rd_kafka_name(rk), Describe(parts),
                 rd_kafka_assignment_lost(rk) ? " (lost)" : "");
    // With enable.auto.commit, unassigning commits the stored offsets of
    // the revoked partitions, handing finished work over to the next owner.
  } else {
    spdlog::error("kafka consumer {}: rebalance error: {}", rd_kafka_name(rk),
                  rd_kafka_err2str(err));
  }
  if (cooperative) {
    rdk::ErrorPtr error(rd_kafka_incremental_unassign(rk, parts));
    if (error) spdlog::error("kafka: incremental unassign: {}", rd_kafka_error_string(error.get()));
  } else {
    rd_kafka_assign(rk, nullptr);
  }
}

}  // namespace

struct KafkaConsumer::Impl {
  std::string group_id;
  bool closed = false;
  rdk::HandlePtr rk;
};

KafkaConsumer::KafkaConsumer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

KafkaConsumer::~KafkaConsumer() { Close(); }

absl::StatusOr<std::unique_ptr<KafkaConsumer>> KafkaConsumer::Create(const KafkaConfig& config,
                                                                     std::string group_id,
                                                                     std::vector<std::string> topics,
                                                                     std::chrono::milliseconds fetch_wait) {
  if (group_id.empty()) return absl::InvalidArgumentError("kafka consumer: empty group id");
  if (topics.empty()) return absl::InvalidArgumentError("kafka consumer: no topics");
  rdk::Properties defaults = {
      {"group.id", group_id},
      // Eager range assignment by default: it splits each topic across the
      // members. cooperative-sticky (incremental rebalancing; OnRebalance
      // handles it, --kafka-prop partition.assignment.strategy=...) balances
      // the total partition count instead, and gave one of two notifiers all
      // of forewarn.notices and the other only the retry topic: half the
      // workers idle during a fan-out.
      {"partition.assignment.strategy", "range,roundrobin"},
      {"enable.auto.commit", "true"},
      {"enable.auto.offset.store", "false"},
      {"auto.offset.reset", "earliest"},
      {"enable.partition.eof", "false"},
      {"session.timeout.ms", std::to_string(config.session_timeout.count())},
      {"heartbeat.interval.ms", std::to_string(config.heartbeat_interval.count())},
      // Bounded read-ahead: a worker far behind its producer must not buffer
      // the backlog in memory (the default is 64 MiB per client).
      {"queued.max.messages.kbytes", "8192"},
  };
  if (fetch_wait.count() > 0) {
    defaults.emplace_back("fetch.wait.max.ms", std::to_string(fetch_wait.count()));
    defaults.emplace_back("fetch.min.bytes", std::to_string(kFetchMinBytes));
  }
  if (!config.group_instance_id.empty()) defaults.emplace_back("group.instance.id", config.group_instance_id);
  auto conf = rdk::BuildConf(config, defaults);
  if (!conf.ok()) return conf.status();
  rd_kafka_conf_set_rebalance_cb(conf->get(), &OnRebalance);
  auto rk = rdk::NewHandle(RD_KAFKA_CONSUMER, std::move(*conf));
  if (!rk.ok()) return rk.status();

  // Route all events to the consumer queue served by rd_kafka_consumer_poll.
  if (auto e = rd_kafka_poll_set_consumer(rk->get()); e != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return rdk::ToStatus(e, "kafka poll_set_consumer");
  }
  rdk::PartitionListPtr subscription(
      rd_kafka_topic_partition_list_new(static_cast<int>(topics.size())));
  for (const std::string& topic : topics) {
    rd_kafka_topic_partition_list_add(subscription.get(), topic.c_str(), RD_KAFKA_PARTITION_UA);
  }
  if (auto e = rd_kafka_subscribe(rk->get(), subscription.get()); e != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return rdk::ToStatus(e, "kafka subscribe");
  }
  spdlog::info("kafka consumer {} joining group {} for {} (instance id: {})", rd_kafka_name(rk->get()), group_id,
               absl::StrJoin(topics, ","), config.group_instance_id.empty() ? "none, dynamic" : config.group_instance_id);
  auto impl = std::make_unique<Impl>();
  impl->group_id = std::move(group_id);
  impl->rk = std::move(*rk);
  return std::unique_ptr<KafkaConsumer>(new KafkaConsumer(std::move(impl)));
}

absl::StatusOr<std::vector<KafkaMessage>> KafkaConsumer::Poll(int max_messages,
                                                              absl::Duration timeout) {
  if (impl_->closed) return absl::FailedPreconditionError("kafka consumer is closed");
  std::vector<KafkaMessage> out;
  if (max_messages <= 0) return out;
  rd_kafka_t* rk = impl_->rk.get();
  const auto deadline =
      std::chrono::steady_clock::now() +
      std::chrono::milliseconds(std::max(0, rdk::ToTimeoutMs(timeout == absl::InfiniteDuration()
                                                                 ? absl::Hours(24 * 365)
                                                                 : timeout)));
  while (static_cast<int>(out.size()) < max_messages) {
    int wait_ms = 0;
    if (out.empty()) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      wait_ms = static_cast<int>(std::max<int64_t>(0, left.count()));
    }
    rdk::MessagePtr msg(rd_kafka_consumer_poll(rk, wait_ms));
    if (!msg) {
      if (!out.empty() || wait_ms == 0) break;
      continue;  // woke early (e.g. rebalance) while still waiting for the first
    }
    if (msg->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      if (msg->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) continue;
      if (msg->err == RD_KAFKA_RESP_ERR__FATAL) {
        char reason[512];
        const auto orig = rd_kafka_fatal_error(rk, reason, sizeof(reason));
        return absl::InternalError(
            absl::StrCat("kafka consumer fatal: ", rd_kafka_err2name(orig), ": ", reason));
      }
      spdlog::warn("kafka consumer {}: {}{}", rd_kafka_name(rk), rd_kafka_err2name(msg->err),
                   msg->rkt ? absl::StrCat(" (", rd_kafka_topic_name(msg->rkt), ")") : "");
      if (out.empty() && std::chrono::steady_clock::now() < deadline) continue;
      break;
    }
    KafkaMessage& m = out.emplace_back();
    m.topic = rd_kafka_topic_name(msg->rkt);
    m.partition = msg->partition;
    m.offset = msg->offset;
    m.timestamp_ms = rd_kafka_message_timestamp(msg.get(), nullptr);
    if (msg->key != nullptr) m.key.assign(static_cast<const char*>(msg->key), msg->key_len);
    if (msg->payload != nullptr) {
      m.value.assign(static_cast<const char*>(msg->payload), msg->len);
    }
  }
  return out;
}

absl::Status KafkaConsumer::StoreOffsets(const std::vector<KafkaMessage>& done) {
  if (done.empty()) return absl::OkStatus();
  if (impl_->closed) return absl::FailedPreconditionError("kafka consumer is closed");
  std::map<std::pair<std::string, int32_t>, int64_t> next;
  for (const KafkaMessage& m : done) {
    int64_t& o = next[{m.topic, m.partition}];
    o = std::max(o, m.offset + 1);
  }
  rdk::PartitionListPtr list(rd_kafka_topic_partition_list_new(static_cast<int>(next.size())));
  for (const auto& [tp, offset] : next) {
    rd_kafka_topic_partition_list_add(list.get(), tp.first.c_str(), tp.second)->offset = offset;
  }
  const rd_kafka_resp_err_t err = rd_kafka_offsets_store(impl_->rk.get(), list.get());
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR && err != RD_KAFKA_RESP_ERR__STATE &&
      err != RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION) {
    return rdk::ToStatus(err, "kafka offsets_store");
  }
  for (int i = 0; i < list->cnt; ++i) {
    const auto& p = list->elems[i];
    if (p.err == RD_KAFKA_RESP_ERR_NO_ERROR) continue;
    if (p.err == RD_KAFKA_RESP_ERR__STATE || p.err == RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION) {
      spdlog::info("kafka consumer: not storing offset {} for {}[{}]: no longer assigned",
                   p.offset, p.topic, p.partition);
      continue;
    }
    return rdk::ToStatus(p.err, absl::StrCat("kafka offsets_store ", p.topic, "[", p.partition, "]"));
  }
  return absl::OkStatus();
}

absl::Status KafkaConsumer::Commit() {
  if (impl_->closed) return absl::FailedPreconditionError("kafka consumer is closed");
  const rd_kafka_resp_err_t err = rd_kafka_commit(impl_->rk.get(), nullptr, 0);
  if (err == RD_KAFKA_RESP_ERR_NO_ERROR || err == RD_KAFKA_RESP_ERR__NO_OFFSET) {
    return absl::OkStatus();
  }
  return rdk::ToStatus(err, "kafka commit");
}

absl::Status KafkaConsumer::PauseAt(const KafkaPartition& partition, int64_t offset) {
  if (impl_->closed) return absl::FailedPreconditionError("kafka consumer is closed");
  rd_kafka_t* rk = impl_->rk.get();
  rdk::PartitionListPtr list(rd_kafka_topic_partition_list_new(1));
  rd_kafka_topic_partition_list_add(list.get(), partition.topic.c_str(), partition.partition);
  if (auto e = rd_kafka_pause_partitions(rk, list.get()); e != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return rdk::ToStatus(e, "kafka pause");
  }
  list->elems[0].offset = offset;
  rdk::ErrorPtr error(rd_kafka_seek_partitions(rk, list.get(), 5000));
  absl::Status status = absl::OkStatus();
  if (error) {
    status = absl::UnavailableError(absl::StrCat("kafka seek: ", rd_kafka_error_string(error.get())));
  } else if (const auto e = list->elems[0].err; e != RD_KAFKA_RESP_ERR_NO_ERROR) {
    status = rdk::ToStatus(e, absl::StrCat("kafka seek ", partition.topic, "[", partition.partition, "]"));
  }
  if (!status.ok()) rd_kafka_resume_partitions(rk, list.get());  // not rewound: do not leave it paused
  return status;
}

absl::Status KafkaConsumer::Resume(const KafkaPartition& partition) {
  if (impl_->closed) return absl::FailedPreconditionError("kafka consumer is closed");
  rdk::PartitionListPtr list(rd_kafka_topic_partition_list_new(1));
  rd_kafka_topic_partition_list_add(list.get(), partition.topic.c_str(), partition.partition);
  if (auto e = rd_kafka_resume_partitions(impl_->rk.get(), list.get()); e != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return rdk::ToStatus(e, "kafka resume");
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<KafkaPartition>> KafkaConsumer::Assignment() {
  if (impl_->closed) return absl::FailedPreconditionError("kafka consumer is closed");
  rd_kafka_topic_partition_list_t* raw = nullptr;
  if (auto e = rd_kafka_assignment(impl_->rk.get(), &raw); e != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return rdk::ToStatus(e, "kafka assignment");
  }
  rdk::PartitionListPtr list(raw);
  std::vector<KafkaPartition> out;
  out.reserve(list->cnt);
  for (int i = 0; i < list->cnt; ++i) {
    out.push_back({list->elems[i].topic, list->elems[i].partition});
  }
  return out;
}

std::string KafkaConsumer::RebalanceProtocol() {
  const char* protocol = rd_kafka_rebalance_protocol(impl_->rk.get());
  return protocol != nullptr ? protocol : "NONE";
}

void KafkaConsumer::Close() {
  if (!impl_ || impl_->closed) return;
  impl_->closed = true;
  rd_kafka_t* rk = impl_->rk.get();
  // Commit while still a stable member: the commit librdkafka makes while
  // leaving can be refused by a coordinator that is already rebalancing.
  if (auto e = rd_kafka_commit(rk, nullptr, 0);
      e != RD_KAFKA_RESP_ERR_NO_ERROR && e != RD_KAFKA_RESP_ERR__NO_OFFSET) {
    spdlog::warn("kafka consumer {}: commit before close: {}", rd_kafka_name(rk),
                 rd_kafka_err2str(e));
  }
  if (auto e = rd_kafka_consumer_close(rk); e != RD_KAFKA_RESP_ERR_NO_ERROR) {
    spdlog::warn("kafka consumer {}: close: {}", rd_kafka_name(rk), rd_kafka_err2str(e));
  } else {
    spdlog::info("kafka consumer {} left group {}", rd_kafka_name(rk), impl_->group_id);
  }
}

}  // namespace forewarn
