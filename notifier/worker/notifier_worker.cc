#include "notifier/worker/notifier_worker.h"

#include <algorithm>
#include <set>
#include <tuple>

#include "absl/strings/str_cat.h"
#include "services/core/mask.h"
#include "spdlog/spdlog.h"

namespace forewarn {
namespace {

constexpr size_t kMaxCachedIncidents = 1024;

}  // namespace

absl::Duration NotifierWorker::Backoff(const RetryPolicy& policy, int attempt, double unit_random) {
  absl::Duration d = policy.initial_backoff;
  for (int i = 1; i < attempt && d < policy.max_backoff; ++i) d *= 2;
  d = std::min(d, policy.max_backoff);
  return d / 2 + (d / 2) * std::clamp(unit_random, 0.0, 1.0);
}

absl::StatusOr<const Incident*> NotifierWorker::IncidentFor(const NoticeJob& job) {
  auto key = std::make_pair(job.incident_id, job.version);
  if (auto it = incident_cache_.find(key); it != incident_cache_.end()) return &it->second;
  auto incident = incidents_.GetVersion(job.incident_id, job.version);
  if (!incident.ok()) return incident.status();
  if (incident_cache_.size() >= kMaxCachedIncidents) incident_cache_.clear();
  return &incident_cache_.emplace(key, *std::move(incident)).first->second;
}

absl::Status NotifierWorker::ProcessBatch(const std::vector<NoticeJob>& jobs) {
  // A redelivered batch may carry the same key twice, and a retry copy may
  // meet its original: handle each key once, as its latest copy (the one
  // the ledger lets through).
  std::vector<const NoticeJob*> unique;
  std::vector<NoticeKey> keys;
  {
    std::map<NoticeKey, size_t> seen;
    for (const auto& job : jobs) {
      NoticeKey key = KeyOf(job);
      auto [it, inserted] = seen.try_emplace(key, unique.size());
      if (inserted) {
        unique.push_back(&job);
        keys.push_back(std::move(key));
      } else if (const NoticeJob* kept = unique[it->second];
                 std::tie(job.revive, job.attempt) > std::tie(kept->revive, kept->attempt)) {
        unique[it->second] = &job;
      }
    }
  }
  if (keys.empty()) return absl::OkStatus();
  // Urgent notices first: under a provider rate limit they must not wait
  // behind reminders of the same batch.
  {
    std::vector<size_t> order(unique.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::stable_partition(order.begin(), order.end(),
                          [&](size_t i) { return !policy_.non_urgent.contains(unique[i]->kind); });
    std::vector<const NoticeJob*> u;
    std::vector<NoticeKey> k;
    for (size_t i : order) {
      u.push_back(unique[i]);
      k.push_back(std::move(keys[i]));
    }
    unique = std::move(u);
    keys = std::move(k);
  }

  const absl::Time now = clock_.Now();
  std::vector<int> attempts;
  std::vector<NoticeLedger::ClaimRequest> requests;
  requests.reserve(keys.size());
  for (size_t i = 0; i < keys.size(); ++i) requests.push_back({keys[i], unique[i]->attempt, unique[i]->revive});
  auto claimable = ledger_.Claim(requests, now, &attempts);
  if (!claimable.ok()) return claimable.status();

  // Re-claimed notices (an earlier attempt died between delivery and the
  // ledger) are checked with the provider first, so they are not delivered
  // twice.
  std::set<std::string> already_delivered;
  {
    std::map<Channel, std::vector<std::string>> recheck;
    for (size_t i = 0; i < keys.size(); ++i) {
      if ((*claimable)[i] && attempts.size() == keys.size() && attempts[i] > 1) {
        recheck[keys[i].channel].push_back(MessageIdFor(keys[i]));
      }
    }
    for (const auto& [channel, ids] : recheck) {
      auto ch = channels_.find(channel);
      if (ch == channels_.end()) continue;
      auto delivered = ch->second->Delivered(ids);
      if (!delivered.ok()) return delivered.status();
      already_delivered.insert(delivered->begin(), delivered->end());
    }
  }

  std::vector<std::string> ids;
  for (const auto* job : unique) {
    if (ids.empty() || ids.back() != job->incident_id) ids.push_back(job->incident_id);
  }
  auto current = incidents_.CurrentVersions(ids);
  if (!current.ok()) return current.status();

  std::vector<NoticeLedger::Outcome> outcomes;
  std::vector<std::pair<NoticeJob, absl::Time>> holds;
  std::vector<NoticeJob> fallbacks;
  std::vector<NoticeJob> retries, dead;
  outcomes.reserve(keys.size());
  absl::Status retry = absl::OkStatus();
  for (size_t i = 0; i < keys.size(); ++i) {
    if (!(*claimable)[i]) {
      ++stats_.skipped;
      continue;
    }
    const NoticeJob& job = *unique[i];
    NoticeLedger::Outcome outcome{keys[i], NoticeState::kSent, "", "", job.attempt};
    if (auto it = current->find(job.incident_id); it != current->end() && it->second > job.version) {
      outcome.state = NoticeState::kSuperseded;
      ++stats_.superseded;
      if (observer_) observer_(job, NoticeState::kSuperseded);
      outcomes.push_back(std::move(outcome));
      continue;
    }
    auto hold = HoldUntil(job.kind, job.recipient.time_zone, now, policy_);
    if (hold.ok() && hold->has_value()) {
      holds.emplace_back(job, **hold);
      ++stats_.held;
      if (observer_) observer_(job, NoticeState::kHeld);
      continue;
    }
    const std::string message_id = MessageIdFor(keys[i]);
    if (already_delivered.contains(message_id)) {
      ++stats_.sent;
      if (observer_) observer_(job, NoticeState::kSent);
      outcomes.push_back(std::move(outcome));
      continue;
    }
    // An unknown time zone falls through: rendering reports it as a
    // permanent failure with the reason.
    absl::Status failure = absl::OkStatus();
    auto incident = IncidentFor(job);
    if (!incident.ok()) {
      failure = incident.status();
    } else if (auto rendered = renderer_.Render(job, **incident); !rendered.ok()) {
      failure = rendered.status();
    } else if (auto ch = channels_.find(job.recipient.channel); ch == channels_.end()) {
      failure = absl::FailedPreconditionError(
          absl::StrCat("no delivery channel configured for ", ToString(job.recipient.channel)));
    } else if (auto sent = ch->second->Send(job.recipient, *rendered); !sent.ok()) {
      failure = sent.status();
    } else if (*sent != message_id) {
      outcome.provider_id = *std::move(sent);
    }
    if (!failure.ok()) {
      spdlog::warn("event=notice_failed incident={} version={} customer={} channel={} to={} retryable={} status=\"{}\"",
                   job.incident_id, job.version, job.recipient.customer_id, ToString(job.recipient.channel),
                   MaskAddress(job.recipient.address), IsRetryable(failure), failure.ToString());
      if (IsRetryable(failure) && (requeue_ == nullptr || IsProviderPaused(failure))) {
        if (retry.ok()) retry = failure;
        continue;  // stays claimed; retried with the batch
      }
      if (IsRetryable(failure)) {
        NoticeJob next = job;
        next.attempt = job.attempt + 1;
        next.revive = false;
        next.last_error = std::string(failure.message());
        outcome.error = next.last_error;
        outcome.attempts = next.attempt;
        if (next.attempt >= retry_.max_attempts) {
          next.dead_at = now;
          outcome.state = NoticeState::kDead;
          dead.push_back(std::move(next));
        } else {
          next.not_before = now + Backoff(retry_, next.attempt, std::uniform_real_distribution<>(0, 1)(random_));
          outcome.state = NoticeState::kRetrying;
          retries.push_back(std::move(next));
        }
        outcomes.push_back(std::move(outcome));
        continue;
      }
      outcome.state = NoticeState::kFailed;
      outcome.error = std::string(failure.message());
      ++stats_.failed;
      if (observer_) observer_(job, NoticeState::kFailed);
      // SMS cannot reach this customer: tell them by email instead. The
      // email key is the same as a chosen email notice's, so a customer
      // who chose both still gets one email.
      if (job.recipient.channel == Channel::kSms && !job.recipient.fallback_email.empty()) {
        NoticeJob email = job;
        email.recipient.channel = Channel::kEmail;
        email.recipient.address = job.recipient.fallback_email;
        email.recipient.fallback_email.clear();
        email.attempt = 0;  // the email's own attempts
        email.revive = false;
        email.last_error.clear();
        fallbacks.push_back(std::move(email));
      }
    } else {
      ++stats_.sent;
      if (observer_) observer_(job, NoticeState::kSent);
    }
    outcomes.push_back(std::move(outcome));
  }
  // Buffered deliveries become real before the ledger says "sent".
  for (auto& [channel, sink] : channels_) {
    if (auto s = sink->Flush(); !s.ok()) {
      spdlog::warn("event=channel_flush_failed channel={} status=\"{}\"", ToString(channel), s.ToString());
      std::erase_if(outcomes, [&](const NoticeLedger::Outcome& o) {
        return o.state == NoticeState::kSent && o.key.channel == channel;
      });
      if (retry.ok()) retry = absl::UnavailableError(absl::StrCat("flush ", ToString(channel), ": ", s.message()));
    }
  }
  // Requeued notices are on the retry or dead-letter topic before the
  // ledger says so; if the broker refuses them they stay claimed and the
  // batch is retried in place.
  auto requeue = [&](const std::vector<NoticeJob>& moved, NoticeState state, int64_t& counter,
                     absl::Status (NoticeRequeue::*put)(const std::vector<NoticeJob>&)) {
    if (moved.empty()) return;
    if (auto s = (requeue_->*put)(moved); !s.ok()) {
      spdlog::warn("event=requeue_failed state={} count={} status=\"{}\"", ToString(state), moved.size(),
                   s.ToString());
      std::erase_if(outcomes, [&](const NoticeLedger::Outcome& o) { return o.state == state; });
      if (retry.ok()) retry = absl::UnavailableError(absl::StrCat("requeue: ", s.message()));
      return;
    }
    counter += static_cast<int64_t>(moved.size());
    if (observer_) {
      for (const auto& job : moved) observer_(job, state);
    }
  };
  requeue(retries, NoticeState::kRetrying, stats_.retried, &NoticeRequeue::Retry);
  requeue(dead, NoticeState::kDead, stats_.dead_lettered, &NoticeRequeue::DeadLetter);
  if (!holds.empty()) {
    if (auto s = ledger_.Hold(holds, now); !s.ok()) return s;
  }
  if (!outcomes.empty()) {
    if (auto s = ledger_.Record(outcomes, clock_.Now()); !s.ok()) return s;
  }
  if (!fallbacks.empty()) {
    stats_.fallbacks += static_cast<int64_t>(fallbacks.size());
    if (auto s = ProcessBatch(fallbacks); !s.ok() && retry.ok()) retry = s;
  }
  return retry;
}

}  // namespace forewarn
