#include "services/consumer/consumer_loop.h"

#include <algorithm>

#include "spdlog/spdlog.h"

namespace forewarn {

void PausedPartitions::ResumeDue(absl::Time now) {
  for (auto it = until_.begin(); it != until_.end();) {
    if (it->second > now) {
      ++it;
      continue;
    }
    if (auto s = source_.Resume(it->first); !s.ok()) {
      spdlog::warn("event=resume_failed topic={} partition={} status=\"{}\"", it->first.topic, it->first.partition,
                   s.ToString());
    }
    it = until_.erase(it);
  }
}

bool PausedPartitions::PauseUntil(const TopicPartition& partition, int64_t offset, absl::Time until) {
  if (auto s = source_.PauseAt(partition, offset); !s.ok()) {
    spdlog::warn("event=pause_failed topic={} partition={} status=\"{}\"", partition.topic, partition.partition,
                 s.ToString());
    return false;
  }
  until_[partition] = until;
  return true;
}

std::set<TopicPartition> PausedPartitions::RewindBusy(const std::vector<std::pair<TopicPartition, int64_t>>& busy,
                                                      absl::Time until, std::vector<ConsumedMessage>& done,
                                                      std::set<TopicPartition>& deferred) {
  std::map<TopicPartition, int64_t> rewind;
  for (const auto& [tp, offset] : busy) {
    auto [it, inserted] = rewind.try_emplace(tp, offset);
    if (!inserted) it->second = std::min(it->second, offset);
  }
  std::set<TopicPartition> failed;
  for (auto it = rewind.begin(); it != rewind.end();) {
    if (PauseUntil(it->first, it->second, until)) {
      deferred.insert(it->first);
      ++it;
    } else {
      failed.insert(it->first);
      it = rewind.erase(it);
    }
  }
  std::erase_if(done, [&](const ConsumedMessage& m) {
    auto it = rewind.find({m.topic, m.partition});
    return it != rewind.end() && m.offset >= it->second;
  });
  return failed;
}

void LogUndecodable(const std::string& name, const ConsumedMessage& message, const absl::Status& status) {
  spdlog::error("event=bad_{} partition={} offset={} status=\"{}\"", name, message.partition, message.offset,
                status.ToString());
}

void LogPollError(const absl::Status& status) { spdlog::warn("event=poll_error status=\"{}\"", status.ToString()); }

void StoreDone(MessageSource& source, const std::vector<ConsumedMessage>& done) {
  if (auto s = source.StoreOffsets(done); !s.ok()) {
    spdlog::warn("event=store_offset_failed status=\"{}\"", s.ToString());
  }
}

void CommitAndClose(MessageSource& source) {
  if (auto s = source.Commit(); !s.ok()) spdlog::warn("event=commit_failed status=\"{}\"", s.ToString());
  source.Close();
}

}  // namespace forewarn
