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

auto Tie(const NoticeKey& k) {
  return std::tie(k.incident_id, k.version, k.kind, k.occasion, k.customer_id, k.channel);
}

}  // namespace

absl::StatusOr<const Incident*> NotifierWorker::IncidentFor(const NoticeJob& job) {
  auto key = std::make_pair(job.incident_id, job.version);
  if (auto it = incident_cache_.find(key); it != incident_cache_.end()) return &it->second;
  auto incident = incidents_.GetVersion(job.incident_id, job.version);
  if (!incident.ok()) return incident.status();
  if (incident_cache_.size() >= kMaxCachedIncidents) incident_cache_.clear();
  return &incident_cache_.emplace(key, *std::move(incident)).first->second;
}

absl::Status NotifierWorker::ProcessBatch(const std::vector<NoticeJob>& jobs) {
  // A redelivered batch may carry the same key twice: handle each key once.
  std::vector<const NoticeJob*> unique;
  std::vector<NoticeKey> keys;
  {
    auto less = [](const NoticeKey& a, const NoticeKey& b) { return Tie(a) < Tie(b); };
    std::set<NoticeKey, decltype(less)> seen(less);
    for (const auto& job : jobs) {
      NoticeKey key = KeyOf(job);
      if (seen.insert(key).second) {
        unique.push_back(&job);
        keys.push_back(std::move(key));
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
  auto claimable = ledger_.Claim(keys, now, &attempts);
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
  outcomes.reserve(keys.size());
  absl::Status retry = absl::OkStatus();
  for (size_t i = 0; i < keys.size(); ++i) {
    if (!(*claimable)[i]) {
      ++stats_.skipped;
      continue;
    }
    const NoticeJob& job = *unique[i];
    NoticeLedger::Outcome outcome{keys[i], NoticeState::kSent, "", ""};
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
    if (const std::string id = MessageIdFor(keys[i]); already_delivered.contains(id)) {
      outcome.provider_id = id;
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
    } else {
      outcome.provider_id = *std::move(sent);
    }
    if (!failure.ok()) {
      spdlog::warn("event=notice_failed incident={} version={} customer={} channel={} to={} retryable={} status=\"{}\"",
                   job.incident_id, job.version, job.recipient.customer_id, ToString(job.recipient.channel),
                   MaskAddress(job.recipient.address), IsRetryable(failure), failure.ToString());
      if (IsRetryable(failure)) {
        if (retry.ok()) retry = failure;
        continue;  // stays claimed; retried with the batch
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
