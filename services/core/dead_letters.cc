#include "services/core/dead_letters.h"

#include <algorithm>
#include <map>

#include "services/core/validation.h"
#include "spdlog/spdlog.h"

namespace forewarn {

absl::StatusOr<std::vector<NoticeJob>> DeadLetterService::Pending(const std::string& incident_id) {
  if (!incident_id.empty()) {
    if (auto s = ValidateIncidentId("incident_id", incident_id); !s.ok()) return s;
    if (auto s = RequireLedger(retention_, incident_id); !s.ok()) return s;
  }
  auto all = source_.ReadAll();
  if (!all.ok()) return all.status();
  // The latest copy of each notice (it may have died, been replayed and
  // died again).
  std::map<NoticeKey, NoticeJob> latest;
  for (auto& job : *all) {
    if (!incident_id.empty() && job.incident_id != incident_id) continue;
    auto [it, inserted] = latest.try_emplace(KeyOf(job), job);
    if (!inserted && job.dead_at >= it->second.dead_at) it->second = std::move(job);
  }
  std::vector<NoticeKey> keys;
  std::vector<NoticeJob> jobs;
  for (auto& [key, job] : latest) {
    keys.push_back(key);
    jobs.push_back(std::move(job));
  }
  if (keys.empty()) return jobs;
  auto dead = ledger_.AreDead(keys);
  if (!dead.ok()) return dead.status();
  std::vector<NoticeJob> pending;
  for (size_t i = 0; i < jobs.size(); ++i) {
    if ((*dead)[i]) pending.push_back(std::move(jobs[i]));
  }
  std::stable_sort(pending.begin(), pending.end(),
                   [](const NoticeJob& a, const NoticeJob& b) { return a.dead_at < b.dead_at; });
  return pending;
}

absl::StatusOr<DeadLetterService::Listing> DeadLetterService::List(const std::string& incident_id, int limit) {
  if (limit < 0 || limit > 10000) return absl::InvalidArgumentError("limit: must be between 0 and 10000");
  auto pending = Pending(incident_id);
  if (!pending.ok()) return pending.status();
  Listing out;
  out.pending = static_cast<int64_t>(pending->size());
  const size_t n = std::min(pending->size(), static_cast<size_t>(limit));
  out.listed.assign(std::make_move_iterator(pending->begin()), std::make_move_iterator(pending->begin() + n));
  return out;
}

absl::StatusOr<DeadLetterService::Replay> DeadLetterService::ReplayAll(const std::string& incident_id) {
  std::lock_guard lock(replay_mu_);
  auto pending = Pending(incident_id);
  if (!pending.ok()) return pending.status();
  Replay out;
  for (NoticeJob job : *pending) {
    job.attempt = 0;
    job.revive = true;
    job.not_before = absl::InfinitePast();
    job.dead_at = absl::InfinitePast();
    job.last_error.clear();
    if (auto s = notices_.Enqueue(job); !s.ok()) return s;
    ++out.replayed;
  }
  if (out.replayed > 0) {
    if (auto s = notices_.Flush(); !s.ok()) return s;
  }
  spdlog::info("event=dead_letters_replayed incident={} count={}", incident_id.empty() ? "*" : incident_id,
               out.replayed);
  return out;
}

}  // namespace forewarn
