#include "services/kafka/kafka_dead_letters.h"

#include <map>

#include "absl/strings/str_cat.h"
#include "services/kafka/codec.h"
#include "services/kafka/rdkafka_util.h"
#include "spdlog/spdlog.h"

namespace forewarn {
namespace {

using LastOffsets = std::map<int32_t, int64_t>;  // partition -> offset of its last message
using JobsByPartition = std::map<int32_t, std::vector<NoticeJob>>;

// A consumer that joins no group and commits nothing.
absl::StatusOr<rdk::HandlePtr> NewReader(const KafkaConfig& config) {
  const rdk::Properties defaults = {
      {"group.id", "forewarn-dlq-reader"},  // required by the consumer API; never joined
      {"enable.auto.commit", "false"},
      {"enable.auto.offset.store", "false"},
      {"enable.partition.eof", "false"},
  };
  auto conf = rdk::BuildConf(config, defaults);
  if (!conf.ok()) return conf.status();
  auto rk = rdk::NewHandle(RD_KAFKA_CONSUMER, std::move(*conf));
  if (!rk.ok()) return rk.status();
  rd_kafka_poll_set_consumer(rk->get());
  return rk;
}

// The topic's partitions (NOT_FOUND-like status when it does not exist).
absl::StatusOr<rdk::MetadataPtr> TopicMetadata(rd_kafka_t* h, const std::string& topic, int timeout_ms) {
  rdk::TopicPtr t(rd_kafka_topic_new(h, topic.c_str(), nullptr));
  const rd_kafka_metadata_t* raw = nullptr;
  if (auto e = rd_kafka_metadata(h, 0, t.get(), &raw, timeout_ms); e != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return rdk::ToStatus(e, absl::StrCat("kafka metadata for ", topic));
  }
  rdk::MetadataPtr md(raw);
  if (md->topic_cnt != 1 || md->topics[0].err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return rdk::ToStatus(md->topic_cnt == 1 ? md->topics[0].err : RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC,
                         absl::StrCat("kafka topic ", topic));
  }
  return md;
}

// Where each non-empty partition ends now (what arrives later is not waited
// for), and an assignment of them from their first message.
absl::Status FindEnds(rd_kafka_t* h, const std::string& topic, const rd_kafka_metadata_topic_t& md, int timeout_ms,
                      LastOffsets& last, rd_kafka_topic_partition_list_t* assignment) {
  for (int i = 0; i < md.partition_cnt; ++i) {
    const int32_t p = md.partitions[i].id;
    int64_t low = 0, high = 0;
    if (auto e = rd_kafka_query_watermark_offsets(h, topic.c_str(), p, &low, &high, timeout_ms);
        e != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return rdk::ToStatus(e, absl::StrCat("kafka watermarks of ", topic, "[", p, "]"));
    }
    if (high <= low) continue;
    last[p] = high - 1;
    rd_kafka_topic_partition_list_add(assignment, topic.c_str(), p)->offset = low;
  }
  return absl::OkStatus();
}

// Files one message under its partition; undecodable ones are logged and
// skipped. Takes the partition off `last` once its last message is read.
void Take(const rd_kafka_message_t& msg, LastOffsets& last, JobsByPartition& out) {
  auto it = last.find(msg.partition);
  if (it == last.end()) return;
  auto job = DecodeJob(std::string_view(static_cast<const char*>(msg.payload), msg.len));
  if (job.ok()) {
    out[msg.partition].push_back(*std::move(job));
  } else {
    spdlog::error("event=bad_dead_letter partition={} offset={} status=\"{}\"", msg.partition, msg.offset,
                  job.status().ToString());
  }
  if (msg.offset >= it->second) last.erase(it);
}

// Polls the assigned partitions until each reached its end in `last`, or
// UNAVAILABLE at `deadline`.
absl::Status ReadToEnds(rd_kafka_t* h, const std::string& topic, absl::Time deadline, LastOffsets& last,
                        JobsByPartition& out) {
  while (!last.empty()) {
    const absl::Duration left = deadline - absl::Now();
    if (left <= absl::ZeroDuration()) {
      return absl::UnavailableError(absl::StrCat("kafka: reading ", topic, " did not reach its end in time"));
    }
    rdk::MessagePtr msg(rd_kafka_consumer_poll(h, std::min(500, rdk::ToTimeoutMs(left))));
    if (!msg) continue;
    if (msg->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      spdlog::warn("kafka dead-letter reader: {}", rd_kafka_err2name(msg->err));
      continue;
    }
    Take(*msg, last, out);
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::vector<NoticeJob>> KafkaDeadLetterReader::ReadAll() {
  auto rk = NewReader(config_);
  if (!rk.ok()) return rk.status();
  rd_kafka_t* h = rk->get();
  const int timeout_ms = rdk::ToTimeoutMs(timeout_);
  auto md = TopicMetadata(h, topic_, timeout_ms);
  if (!md.ok()) return md.status();
  const rd_kafka_metadata_topic_t& t = (*md)->topics[0];
  LastOffsets last;
  rdk::PartitionListPtr assignment(rd_kafka_topic_partition_list_new(t.partition_cnt));
  if (auto s = FindEnds(h, topic_, t, timeout_ms, last, assignment.get()); !s.ok()) return s;
  std::vector<NoticeJob> jobs;
  if (last.empty()) return jobs;
  if (auto e = rd_kafka_assign(h, assignment.get()); e != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return rdk::ToStatus(e, "kafka assign");
  }
  JobsByPartition by_partition;
  const absl::Status read = ReadToEnds(h, topic_, absl::Now() + timeout_, last, by_partition);
  rd_kafka_assign(h, nullptr);
  if (!read.ok()) return read;
  for (auto& [p, list] : by_partition) {
    for (auto& job : list) jobs.push_back(std::move(job));
  }
  return jobs;
}

}  // namespace forewarn
