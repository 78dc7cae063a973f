#include "tests/support/kafka_topics.h"

#include <librdkafka/rdkafka.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <memory>
#include <random>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"

namespace forewarn::testing {
namespace {

struct HandleDeleter {
  void operator()(rd_kafka_t* rk) const { rd_kafka_destroy(rk); }
};
struct QueueDeleter {
  void operator()(rd_kafka_queue_t* q) const { rd_kafka_queue_destroy(q); }
};
struct EventDeleter {
  void operator()(rd_kafka_event_t* ev) const { rd_kafka_event_destroy(ev); }
};
struct OptionsDeleter {
  void operator()(rd_kafka_AdminOptions_t* o) const { rd_kafka_AdminOptions_destroy(o); }
};
struct TopicDeleter {
  void operator()(rd_kafka_topic_t* t) const { rd_kafka_topic_destroy(t); }
};
struct MetadataDeleter {
  void operator()(const rd_kafka_metadata_t* md) const { rd_kafka_metadata_destroy(md); }
};
using HandlePtr = std::unique_ptr<rd_kafka_t, HandleDeleter>;
using QueuePtr = std::unique_ptr<rd_kafka_queue_t, QueueDeleter>;
using EventPtr = std::unique_ptr<rd_kafka_event_t, EventDeleter>;
using OptionsPtr = std::unique_ptr<rd_kafka_AdminOptions_t, OptionsDeleter>;

int Ms(absl::Duration d) { return static_cast<int>(absl::ToInt64Milliseconds(d)); }

absl::StatusOr<HandlePtr> AdminHandle(const std::string& bootstrap) {
  char errstr[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  if (rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap.c_str(), errstr, sizeof(errstr)) != RD_KAFKA_CONF_OK ||
      rd_kafka_conf_set(conf, "client.id", "forewarn-test-admin", errstr, sizeof(errstr)) != RD_KAFKA_CONF_OK) {
    rd_kafka_conf_destroy(conf);
    return absl::InvalidArgumentError(errstr);
  }
  HandlePtr rk(rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr)));
  if (!rk) {
    rd_kafka_conf_destroy(conf);
    return absl::InternalError(absl::StrCat("rd_kafka_new: ", errstr));
  }
  return rk;
}

// Runs one admin request (`start` queues it on the queue it is given) and
// returns its result event, or an error for the request as a whole.
template <typename Start>
absl::StatusOr<EventPtr> RunAdmin(rd_kafka_t* rk, rd_kafka_admin_op_t op, absl::Duration timeout, Start start) {
  char errstr[512];
  OptionsPtr options(rd_kafka_AdminOptions_new(rk, op));
  if (rd_kafka_AdminOptions_set_request_timeout(options.get(), Ms(timeout), errstr, sizeof(errstr)) ||
      rd_kafka_AdminOptions_set_operation_timeout(options.get(), Ms(timeout), errstr, sizeof(errstr))) {
    return absl::InvalidArgumentError(errstr);
  }
  QueuePtr queue(rd_kafka_queue_new(rk));
  start(options.get(), queue.get());
  EventPtr ev(rd_kafka_queue_poll(queue.get(), Ms(timeout + absl::Seconds(5))));
  if (!ev) return absl::DeadlineExceededError("kafka admin request: no answer");
  if (rd_kafka_event_error(ev.get()) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return absl::UnavailableError(absl::StrCat("kafka admin request: ", rd_kafka_event_error_string(ev.get())));
  }
  return ev;
}

// Per-topic results: OK, or the first error not in `fine`.
absl::Status CheckResults(const rd_kafka_topic_result_t** results, size_t n, rd_kafka_resp_err_t fine,
                          const char* what) {
  for (size_t i = 0; i < n; ++i) {
    const rd_kafka_resp_err_t err = rd_kafka_topic_result_error(results[i]);
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR || err == fine) continue;
    const char* msg = rd_kafka_topic_result_error_string(results[i]);
    return absl::UnavailableError(absl::StrCat(what, " ", rd_kafka_topic_result_name(results[i]), ": ",
                                               rd_kafka_err2name(err), msg != nullptr ? absl::StrCat(" (", msg, ")") : ""));
  }
  return absl::OkStatus();
}

// True when the broker's metadata shows `topic` with `partitions` partitions, each with a leader.
bool TopicReady(rd_kafka_t* rk, const TopicSpec& topic) {
  std::unique_ptr<rd_kafka_topic_t, TopicDeleter> handle(rd_kafka_topic_new(rk, topic.name.c_str(), nullptr));
  const rd_kafka_metadata_t* raw = nullptr;
  if (rd_kafka_metadata(rk, 0, handle.get(), &raw, 5000) != RD_KAFKA_RESP_ERR_NO_ERROR) return false;
  std::unique_ptr<const rd_kafka_metadata_t, MetadataDeleter> md(raw);
  if (md->topic_cnt != 1 || md->topics[0].err != RD_KAFKA_RESP_ERR_NO_ERROR ||
      md->topics[0].partition_cnt != topic.partitions) {
    return false;
  }
  for (int p = 0; p < md->topics[0].partition_cnt; ++p) {
    if (md->topics[0].partitions[p].leader < 0) return false;
  }
  return true;
}

}  // namespace

bool TestKafkaIsMock() {
  const char* kind = std::getenv("FOREWARN_TEST_KAFKA_KIND");
  return kind != nullptr && std::string(kind) == "mock";
}

absl::Status CreateTestTopics(const std::string& bootstrap, const std::vector<TopicSpec>& topics,
                              absl::Duration timeout) {
  if (TestKafkaIsMock() || topics.empty()) return absl::OkStatus();
  auto rk = AdminHandle(bootstrap);
  if (!rk.ok()) return rk.status();
  std::vector<rd_kafka_NewTopic_t*> news;
  char errstr[512];
  for (const TopicSpec& t : topics) {
    // Replication factor -1: the broker's default.replication.factor.
    rd_kafka_NewTopic_t* nt = rd_kafka_NewTopic_new(t.name.c_str(), t.partitions, -1, errstr, sizeof(errstr));
    if (nt == nullptr) {
      rd_kafka_NewTopic_destroy_array(news.data(), news.size());
      return absl::InvalidArgumentError(absl::StrCat("topic ", t.name, ": ", errstr));
    }
    news.push_back(nt);
  }
  auto ev = RunAdmin(rk->get(), RD_KAFKA_ADMIN_OP_CREATETOPICS, timeout,
                     [&](rd_kafka_AdminOptions_t* o, rd_kafka_queue_t* q) {
                       rd_kafka_CreateTopics(rk->get(), news.data(), news.size(), o, q);
                     });
  rd_kafka_NewTopic_destroy_array(news.data(), news.size());
  if (!ev.ok()) return ev.status();
  size_t n = 0;
  const rd_kafka_topic_result_t** results =
      rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev->get()), &n);
  if (auto s = CheckResults(results, n, RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS, "create topic"); !s.ok()) return s;
  const absl::Time deadline = absl::Now() + timeout;
  for (const TopicSpec& t : topics) {
    while (!TopicReady(rk->get(), t)) {
      if (absl::Now() >= deadline) return absl::DeadlineExceededError(absl::StrCat("topic ", t.name, " has no leaders"));
      absl::SleepFor(absl::Milliseconds(50));
    }
  }
  return absl::OkStatus();
}

absl::Status DeleteTestTopics(const std::string& bootstrap, const std::vector<std::string>& names,
                              absl::Duration timeout) {
  if (TestKafkaIsMock() || names.empty()) return absl::OkStatus();
  auto rk = AdminHandle(bootstrap);
  if (!rk.ok()) return rk.status();
  std::vector<rd_kafka_DeleteTopic_t*> dels;
  for (const std::string& name : names) dels.push_back(rd_kafka_DeleteTopic_new(name.c_str()));
  auto ev = RunAdmin(rk->get(), RD_KAFKA_ADMIN_OP_DELETETOPICS, timeout,
                     [&](rd_kafka_AdminOptions_t* o, rd_kafka_queue_t* q) {
                       rd_kafka_DeleteTopics(rk->get(), dels.data(), dels.size(), o, q);
                     });
  rd_kafka_DeleteTopic_destroy_array(dels.data(), dels.size());
  if (!ev.ok()) return ev.status();
  size_t n = 0;
  const rd_kafka_topic_result_t** results =
      rd_kafka_DeleteTopics_result_topics(rd_kafka_event_DeleteTopics_result(ev->get()), &n);
  return CheckResults(results, n, RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART, "delete topic");
}

std::string UniqueKafkaName(const std::string& prefix) {
  static std::atomic<int> counter{0};
  static const uint32_t run = std::random_device{}();
  return absl::StrCat(prefix, ".", ::getpid(), ".", run, ".", counter++);
}

}  // namespace forewarn::testing
