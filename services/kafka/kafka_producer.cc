#include "services/kafka/kafka_producer.h"

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <utility>

#include "absl/strings/str_cat.h"
#include "services/kafka/codec.h"
#include "services/kafka/rdkafka_util.h"
#include "spdlog/spdlog.h"

namespace forewarn {

// Delivery accounting. Every message carries the generation (the number of
// Flush() calls so far) as its opaque; reports for older generations were
// already answered for and are ignored. Reports are served on the thread
// that calls Produce()/Flush(), the mutex only guards against misuse.
struct KafkaProducer::Impl {
  std::chrono::milliseconds message_timeout{30000};

  std::mutex mu;
  uint64_t generation = 1;
  int64_t produced = 0;
  int64_t acked = 0;
  int64_t failed = 0;
  std::string first_error;

  // Topic handles by name, made on first use: naming the topic in each
  // produce call looked it up (and copied its name) per message.
  std::map<std::string, rd_kafka_topic_t*, std::less<>> topics;

  // Declared last: destroyed first, while the state above is still alive.
  rdk::HandlePtr rk;

  // Runs before any member goes: the topics before the client handle.
  ~Impl() {
    for (auto& [name, topic] : topics) rd_kafka_topic_destroy(topic);
  }

  rd_kafka_topic_t* Topic(std::string_view name) {
    if (auto it = topics.find(name); it != topics.end()) return it->second;
    rd_kafka_topic_t* topic = rd_kafka_topic_new(rk.get(), std::string(name).c_str(), nullptr);
    if (topic != nullptr) topics.emplace(std::string(name), topic);
    return topic;
  }

  static void OnDelivery(rd_kafka_t* /*rk*/, const rd_kafka_message_t* msg, void* opaque) {
    auto* self = static_cast<Impl*>(opaque);
    const auto gen = static_cast<uint64_t>(reinterpret_cast<uintptr_t>(msg->_private));
    std::lock_guard lock(self->mu);
    if (gen != self->generation) {
      if (msg->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        spdlog::debug("kafka: late delivery failure for an earlier batch: {}",
                      rd_kafka_err2str(msg->err));
      }
      return;
    }
    if (msg->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      ++self->acked;
      return;
    }
    ++self->failed;
    if (self->first_error.empty()) {
      // Topic, partition and error only: payloads hold personal data.
      self->first_error = absl::StrCat(rd_kafka_topic_name(msg->rkt), " [", msg->partition,
                                       "]: ", rd_kafka_err2name(msg->err), ": ",
                                       rd_kafka_err2str(msg->err));
      spdlog::warn("kafka: delivery failed: {}", self->first_error);
    }
  }
};

KafkaProducer::KafkaProducer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

KafkaProducer::~KafkaProducer() {
  if (!impl_ || !impl_->rk) return;
  rd_kafka_flush(impl_->rk.get(), 5000);
  if (const int left = rd_kafka_outq_len(impl_->rk.get()); left > 0) {
    spdlog::warn("kafka producer: closing with {} undelivered messages", left);
  }
}

absl::StatusOr<std::unique_ptr<KafkaProducer>> KafkaProducer::Create(const KafkaConfig& config,
                                                                     std::chrono::milliseconds linger) {
  auto impl = std::make_unique<Impl>();
  impl->message_timeout = config.message_timeout;
  const rdk::Properties defaults = {
      {"acks", "all"},
      {"enable.idempotence", "true"},
      // Topics are provisioned (forewarn-admin topics), never created by a
      // producer with the broker's defaults (one partition, its replication).
      {"allow.auto.create.topics", "false"},
      {"linger.ms", std::to_string(linger.count())},
      {"batch.num.messages", "10000"},
      // The local queue of messages not yet acknowledged: bounds a producer's
      // memory. librdkafka's 100,000 let the resolver's RSS grow with the
      // size of a fan-out (40-50 MiB at 1M customers, 61 at 10M: it
      // produces three times faster than the notifiers consume); Produce
      // waits for room when it is full.
      {"queue.buffering.max.messages", "20000"},
      {"compression.codec", "lz4"},
      {"message.timeout.ms", std::to_string(config.message_timeout.count())},
  };
  auto conf = rdk::BuildConf(config, defaults);
  if (!conf.ok()) return conf.status();
  rd_kafka_conf_set_opaque(conf->get(), impl.get());
  rd_kafka_conf_set_dr_msg_cb(conf->get(), &Impl::OnDelivery);
  auto rk = rdk::NewHandle(RD_KAFKA_PRODUCER, std::move(*conf));
  if (!rk.ok()) return rk.status();
  impl->rk = std::move(*rk);
  spdlog::info("kafka producer {} created (bootstrap {})", rd_kafka_name(impl->rk.get()),
               config.bootstrap_servers);
  return std::unique_ptr<KafkaProducer>(new KafkaProducer(std::move(impl)));
}

absl::Status KafkaProducer::Produce(std::string_view topic, std::string_view key,
                                    std::string_view value) {
  rd_kafka_t* rk = impl_->rk.get();
  rd_kafka_topic_t* rkt = impl_->Topic(topic);
  if (rkt == nullptr) {
    return rdk::ToStatus(rd_kafka_last_error(), absl::StrCat("kafka topic ", std::string(topic)));
  }
  uint64_t gen;
  {
    std::lock_guard lock(impl_->mu);
    gen = impl_->generation;
  }
  const auto deadline = std::chrono::steady_clock::now() + impl_->message_timeout;
  for (;;) {
    const rd_kafka_resp_err_t err = rd_kafka_producev(
        rk, RD_KAFKA_V_RKT(rkt), RD_KAFKA_V_KEY(key.data(), key.size()),
        RD_KAFKA_V_VALUE(const_cast<char*>(value.data()), value.size()),
        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
        RD_KAFKA_V_OPAQUE(reinterpret_cast<void*>(static_cast<uintptr_t>(gen))), RD_KAFKA_V_END);
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      {
        std::lock_guard lock(impl_->mu);
        ++impl_->produced;
      }
      rd_kafka_poll(rk, 0);  // serve delivery reports
      return absl::OkStatus();
    }
    if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
      return rdk::ToStatus(err, absl::StrCat("kafka produce to ", std::string(topic)));
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      return absl::UnavailableError(
          absl::StrCat("kafka produce to ", std::string(topic), ": local queue full for ",
                       impl_->message_timeout.count(), " ms"));
    }
    rd_kafka_poll(rk, 100);  // make room: serve delivery reports
  }
}

absl::Status KafkaProducer::Flush(absl::Duration timeout) {
  const rd_kafka_resp_err_t err = rd_kafka_flush(impl_->rk.get(), rdk::ToTimeoutMs(timeout));
  int64_t produced, acked, failed;
  std::string first_error;
  {
    std::lock_guard lock(impl_->mu);
    produced = impl_->produced;
    acked = impl_->acked;
    failed = impl_->failed;
    first_error = std::move(impl_->first_error);
    ++impl_->generation;
    impl_->produced = impl_->acked = impl_->failed = 0;
    impl_->first_error.clear();
  }
  if (failed > 0) {
    return absl::UnavailableError(absl::StrCat("kafka: ", failed, " of ", produced,
                                               " messages not delivered; first: ", first_error));
  }
  if (acked != produced) {
    return absl::UnavailableError(absl::StrCat(
        "kafka: ", produced - acked, " of ", produced, " messages unacknowledged after ",
        absl::FormatDuration(timeout), " (", rd_kafka_err2name(err), ")"));
  }
  return absl::OkStatus();
}

KafkaEventPublisher::KafkaEventPublisher(KafkaProducer& producer, std::string topic,
                                         absl::Duration flush_timeout)
    : producer_(producer), topic_(std::move(topic)), flush_timeout_(flush_timeout) {}

absl::Status KafkaEventPublisher::Publish(const std::vector<IncidentEvent>& events) {
  if (events.empty()) return absl::OkStatus();
  for (const IncidentEvent& event : events) {
    if (auto st = producer_.Produce(topic_, event.incident_id, EncodeEvent(event)); !st.ok()) {
      // Close this batch's accounting so the caller's retry starts afresh;
      // messages already queued may still arrive (at-least-once).
      (void)producer_.Flush(absl::ZeroDuration());
      return st;
    }
  }
  return producer_.Flush(flush_timeout_);
}

KafkaNoticeSink::KafkaNoticeSink(KafkaProducer& producer, std::string topic,
                                 absl::Duration flush_timeout)
    : producer_(producer), topic_(std::move(topic)), flush_timeout_(flush_timeout) {}

absl::Status KafkaNoticeSink::Enqueue(const NoticeJob& job) {
  EncodeJobInto(job, payload_);
  return producer_.Produce(topic_, std::to_string(job.recipient.customer_id), payload_);
}

absl::Status KafkaNoticeSink::Flush() { return producer_.Flush(flush_timeout_); }

absl::Status KafkaNoticeRequeue::Put(KafkaNoticeSink& sink, const std::vector<NoticeJob>& jobs) {
  for (const NoticeJob& job : jobs) {
    if (auto s = sink.Enqueue(job); !s.ok()) return s;
  }
  return sink.Flush();
}

}  // namespace forewarn
