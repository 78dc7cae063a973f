#include "services/kafka/kafka_dead_letters.h"

#include <map>

#include "absl/strings/str_cat.h"
#include "services/kafka/codec.h"
#include "services/kafka/rdkafka_util.h"
#include "spdlog/spdlog.h"

namespace forewarn {
namespace {

struct MetadataDeleter {
  void operator()(const rd_kafka_metadata_t* md) const { rd_kafka_metadata_destroy(md); }
};
struct TopicDeleter {
  void operator()(rd_kafka_topic_t* t) const { rd_kafka_topic_destroy(t); }
};

}  // namespace

absl::StatusOr<std::vector<NoticeJob>> KafkaDeadLetterReader::ReadAll() {
  const rdk::Properties defaults = {
      {"group.id", "forewarn-dlq-reader"},  // required by the consumer API; never joined
      {"enable.auto.commit", "false"},
      {"enable.auto.offset.store", "false"},
      {"enable.partition.eof", "false"},
  };
  auto conf = rdk::BuildConf(config_, defaults);
  if (!conf.ok()) return conf.status();
  auto rk = rdk::NewHandle(RD_KAFKA_CONSUMER, std::move(*conf));
  if (!rk.ok()) return rk.status();
  rd_kafka_t* h = rk->get();
  rd_kafka_poll_set_consumer(h);
  const int timeout_ms = rdk::ToTimeoutMs(timeout_);

  std::unique_ptr<rd_kafka_topic_t, TopicDeleter> topic(rd_kafka_topic_new(h, topic_.c_str(), nullptr));
  const rd_kafka_metadata_t* raw = nullptr;
  if (auto e = rd_kafka_metadata(h, 0, topic.get(), &raw, timeout_ms); e != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return rdk::ToStatus(e, absl::StrCat("kafka metadata for ", topic_));
  }
  std::unique_ptr<const rd_kafka_metadata_t, MetadataDeleter> md(raw);
  if (md->topic_cnt != 1 || md->topics[0].err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return rdk::ToStatus(md->topic_cnt == 1 ? md->topics[0].err : RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC,
                         absl::StrCat("kafka topic ", topic_));
  }
  // Where each partition ends now: what arrives later is not waited for.
  std::map<int32_t, int64_t> last;  // partition -> offset of its last message
  rdk::PartitionListPtr assignment(rd_kafka_topic_partition_list_new(md->topics[0].partition_cnt));
  for (int i = 0; i < md->topics[0].partition_cnt; ++i) {
    const int32_t p = md->topics[0].partitions[i].id;
    int64_t low = 0, high = 0;
    if (auto e = rd_kafka_query_watermark_offsets(h, topic_.c_str(), p, &low, &high, timeout_ms);
        e != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return rdk::ToStatus(e, absl::StrCat("kafka watermarks of ", topic_, "[", p, "]"));
    }
    if (high <= low) continue;
    last[p] = high - 1;
    rd_kafka_topic_partition_list_add(assignment.get(), topic_.c_str(), p)->offset = low;
  }
  std::vector<NoticeJob> jobs;
  if (last.empty()) return jobs;
  if (auto e = rd_kafka_assign(h, assignment.get()); e != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return rdk::ToStatus(e, "kafka assign");
  }
  const absl::Time deadline = absl::Now() + timeout_;
  std::map<int32_t, std::vector<NoticeJob>> by_partition;
  while (!last.empty()) {
    const absl::Duration left = deadline - absl::Now();
    if (left <= absl::ZeroDuration()) {
      rd_kafka_assign(h, nullptr);
      return absl::UnavailableError(absl::StrCat("kafka: reading ", topic_, " did not reach its end in time"));
    }
    rdk::MessagePtr msg(rd_kafka_consumer_poll(h, std::min(500, rdk::ToTimeoutMs(left))));
    if (!msg) continue;
    if (msg->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      spdlog::warn("kafka dead-letter reader: {}", rd_kafka_err2name(msg->err));
      continue;
    }
    auto it = last.find(msg->partition);
    if (it == last.end()) continue;
    auto job = DecodeJob(std::string_view(static_cast<const char*>(msg->payload), msg->len));
    if (job.ok()) {
      by_partition[msg->partition].push_back(*std::move(job));
    } else {
      spdlog::error("event=bad_dead_letter partition={} offset={} status=\"{}\"", msg->partition, msg->offset,
                    job.status().ToString());
    }
    if (msg->offset >= it->second) last.erase(it);
  }
  rd_kafka_assign(h, nullptr);
  for (auto& [p, list] : by_partition) {
    for (auto& job : list) jobs.push_back(std::move(job));
  }
  return jobs;
}

}  // namespace forewarn
