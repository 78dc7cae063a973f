#include "notifier/worker/notifier_worker.h"

#include <algorithm>
#include <tuple>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "notifier/worker/delivery_outcome.h"
#include "services/core/mask.h"
#include "spdlog/spdlog.h"

namespace forewarn {
namespace {

constexpr size_t kMaxCachedIncidents = 1024;
constexpr absl::Duration kFirstRecordRetry = absl::Milliseconds(100);
constexpr absl::Duration kLastRecordRetry = absl::Seconds(5);

// A redelivered batch may carry the same key twice, and a retry copy may
// meet its original: each key once, as its latest copy (the one the ledger
// lets through), urgent notices first (under a provider rate limit they
// must not wait behind reminders of the same batch).
std::vector<const NoticeJob*> LatestCopiesUrgentFirst(const std::vector<NoticeJob>& jobs,
                                                      const NoticePolicy& policy) {
  std::vector<const NoticeJob*> unique;
  absl::flat_hash_map<NoticeKey, size_t> seen;
  seen.reserve(jobs.size());
  for (const auto& job : jobs) {
    auto [it, inserted] = seen.try_emplace(KeyOf(job), unique.size());
    if (inserted) {
      unique.push_back(&job);
    } else if (const NoticeJob* kept = unique[it->second];
               std::tie(job.revive, job.attempt) > std::tie(kept->revive, kept->attempt)) {
      unique[it->second] = &job;
    }
  }
  std::stable_partition(unique.begin(), unique.end(),
                        [&](const NoticeJob* j) { return !policy.non_urgent.contains(j->kind); });
  return unique;
}

// The job that replaces a failed SMS: the same notice by email, to the
// fallback address, with its own attempts. Its key is a chosen email
// notice's, so a customer who chose both still gets one email.
NoticeJob EmailFallback(const NoticeJob& job) {
  NoticeJob email = job;
  email.recipient.channel = Channel::kEmail;
  email.recipient.address = job.recipient.fallback_email;
  email.recipient.fallback_email.clear();
  email.attempt = 0;
  email.revive = false;
  email.last_error.clear();
  return email;
}

}  // namespace

// What one group has decided and not yet settled in the ledger.
struct NotifierWorker::Group {
  std::vector<NoticeLedger::Outcome> outcomes;
  std::vector<std::pair<NoticeJob, absl::Time>> holds;
  std::vector<NoticeJob> retries, dead, fallbacks;
  int unrecorded_sends = 0;
  absl::Time oldest_unrecorded;
  // The first failure that leaves work for a retry of the batch.
  absl::Status status = absl::OkStatus();
  bool stop_sending = false;
  void Keep(absl::Status s) {
    if (status.ok()) status = std::move(s);
  }
};

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

void NotifierWorker::Observe(const NoticeJob& job, NoticeState state) {
  if (observer_) observer_(job, state);
}

// A notice's deadline (proof of notice lists it whatever its state) and,
// sent on a channel with receipts, its escalation timer.
void NotifierWorker::Stamp(const NoticeJob& job, NoticeLedger::Outcome& outcome) {
  if (auto incident = IncidentFor(job); incident.ok()) {
    outcome.deadline = NoticeDeadline(job.kind, job.occasion, **incident, policy_);
  }
  if (outcome.state != NoticeState::kSent) return;
  if (auto it = receipt_timeouts_.find(job.recipient.channel); it != receipt_timeouts_.end()) {
    outcome.receipt_due = ReceiptDue(clock_.Now(), it->second, outcome.deadline);
  }
}

absl::Status NotifierWorker::ProcessBatch(const std::vector<NoticeJob>& jobs, std::vector<size_t>* busy) {
  const std::vector<const NoticeJob*> unique = LatestCopiesUrgentFirst(jobs, policy_);
  const size_t size = static_cast<size_t>(std::max(1, record_.record_every));
  absl::Status result = absl::OkStatus();
  std::vector<const NoticeJob*> held_elsewhere;
  for (size_t start = 0; start < unique.size(); start += size) {
    absl::Status s =
        ProcessGroup(Jobs(unique).subspan(start, std::min(size, unique.size() - start)), held_elsewhere);
    if (!s.ok() && result.ok()) result = s;
  }
  if (held_elsewhere.empty()) return result;
  stats_.busy += static_cast<int64_t>(held_elsewhere.size());
  if (busy != nullptr) {
    for (const NoticeJob* job : held_elsewhere) busy->push_back(static_cast<size_t>(job - jobs.data()));
    return result;
  }
  if (!result.ok()) return result;
  return absl::UnavailableError(absl::StrCat(held_elsewhere.size(),
                                             " notices are in flight under another worker's lease; trying again later"));
}

absl::Status NotifierWorker::ProcessGroup(Jobs jobs, std::vector<const NoticeJob*>& busy) {
  std::vector<NoticeKey> keys;
  std::vector<NoticeLedger::ClaimRequest> requests;
  std::vector<std::string> incident_ids;
  for (const NoticeJob* job : jobs) {
    keys.push_back(KeyOf(*job));
    requests.push_back({keys.back(), job->attempt, job->revive});
    if (incident_ids.empty() || incident_ids.back() != job->incident_id) incident_ids.push_back(job->incident_id);
  }
  const absl::Time now = clock_.Now();
  auto claimed = ledger_.Claim(requests, now);
  if (!claimed.ok()) return claimed.status();
  auto delivered = AlreadyDelivered(keys, *claimed);
  if (!delivered.ok()) return delivered.status();
  auto current = incidents_.CurrentVersions(incident_ids);
  if (!current.ok()) return current.status();

  Group group;
  for (size_t i = 0; i < jobs.size() && !group.stop_sending; ++i) {
    const NoticeLedger::Claimed& c = (*claimed)[i];
    if (!c.send) {
      if (c.busy) {
        busy.push_back(jobs[i]);
      } else {
        ++stats_.skipped;
      }
      continue;
    }
    Decide(*jobs[i], keys[i], *current, *delivered, now, group);
    if (group.unrecorded_sends > 0 && clock_.Now() - group.oldest_unrecorded >= record_.record_interval) {
      if (auto s = Settle(group); !s.ok()) return s;
    }
  }
  if (auto s = Settle(group); !s.ok()) return s;
  if (!group.fallbacks.empty()) {
    stats_.fallbacks += static_cast<int64_t>(group.fallbacks.size());
    if (auto s = ProcessBatch(group.fallbacks); !s.ok()) group.Keep(s);
  }
  return group.status;
}

// Notices an earlier claim left in flight may have reached the provider: ask
// it, where it can be asked (the file outbox can; SMTP servers and most
// gateways cannot, and rely on the stable message id instead).
absl::StatusOr<std::set<std::string>> NotifierWorker::AlreadyDelivered(
    const std::vector<NoticeKey>& keys, const std::vector<NoticeLedger::Claimed>& claimed) {
  std::map<Channel, std::vector<std::string>> recheck;
  for (size_t i = 0; i < keys.size(); ++i) {
    if (claimed[i].send && claimed[i].claims > 1) recheck[keys[i].channel].push_back(MessageIdFor(keys[i]));
  }
  std::set<std::string> out;
  for (const auto& [channel, ids] : recheck) {
    auto ch = channels_.find(channel);
    if (ch == channels_.end()) continue;
    auto delivered = ch->second->Delivered(ids);
    if (!delivered.ok()) return delivered.status();
    out.insert(delivered->begin(), delivered->end());
  }
  return out;
}

// Supersede, hold, record as already delivered, or deliver.
void NotifierWorker::Decide(const NoticeJob& job, const NoticeKey& key, const std::map<std::string, int64_t>& current,
                            const std::set<std::string>& delivered, absl::Time now, Group& group) {
  NoticeLedger::Outcome outcome{key, NoticeState::kSent, "", "", job.attempt};
  if (auto it = current.find(job.incident_id);
      it != current.end() && SupersededBy(it->second, job.version, job.occasion)) {
    outcome.state = NoticeState::kSuperseded;
    ++stats_.superseded;
    Observe(job, NoticeState::kSuperseded);
    group.outcomes.push_back(std::move(outcome));
    return;
  }
  if (auto hold = HoldUntil(job.kind, job.recipient.time_zone, now, policy_); hold.ok() && hold->has_value()) {
    group.holds.emplace_back(job, **hold);
    ++stats_.held;
    Observe(job, NoticeState::kHeld);
    return;
  }
  if (!delivered.empty() && delivered.contains(MessageIdFor(key))) {  // rare: only re-claimed notices
    Stamp(job, outcome);
    ++stats_.sent;
    Observe(job, NoticeState::kSent);
    group.outcomes.push_back(std::move(outcome));
    return;
  }
  Deliver(job, key, group);
}

void NotifierWorker::Deliver(const NoticeJob& job, const NoticeKey& key, Group& group) {
  auto held = ledger_.Fence(key);
  if (!held.ok()) {
    // Not confirmed: send nothing more now; what is left stays in flight
    // under this worker's lease and is claimed again by the retry.
    group.Keep(held.status());
    group.stop_sending = true;
    return;
  }
  if (!*held) {
    ++stats_.fenced;
    spdlog::warn("event=notice_fenced incident={} version={} customer={} channel={} reason=lease_lost",
                 job.incident_id, job.version, job.recipient.customer_id, ToString(job.recipient.channel));
    return;
  }
  auto sent = Send(job);
  NoticeLedger::Outcome outcome{key, NoticeState::kSent, "", "", job.attempt};
  if (sent.ok() && *sent != MessageIdFor(key)) outcome.provider_id = *sent;
  if (!sent.ok()) {
    spdlog::warn("event=notice_failed incident={} version={} customer={} channel={} to={} retryable={} status=\"{}\"",
                 job.incident_id, job.version, job.recipient.customer_id, ToString(job.recipient.channel),
                 MaskAddress(job.recipient.address), IsRetryable(sent.status()), sent.status().ToString());
  }
  Apply(job, std::move(outcome), sent.status(), group);
}

// Render and hand to the channel. An unknown time zone fails rendering: a
// permanent failure with the reason.
absl::StatusOr<std::string> NotifierWorker::Send(const NoticeJob& job) {
  auto incident = IncidentFor(job);
  if (!incident.ok()) return incident.status();
  auto rendered = renderer_.Render(job, **incident);
  if (!rendered.ok()) return rendered.status();
  auto ch = channels_.find(job.recipient.channel);
  if (ch == channels_.end()) {
    return absl::FailedPreconditionError(
        absl::StrCat("no delivery channel configured for ", ToString(job.recipient.channel)));
  }
  return ch->second->Send(job.recipient, *rendered);
}

void NotifierWorker::Apply(const NoticeJob& job, NoticeLedger::Outcome outcome, const absl::Status& result,
                           Group& group) {
  const Disposition d = Classify(result, {requeue_ != nullptr, job.attempt, retry_.max_attempts});
  switch (d) {
    case Disposition::kSent:
      ++stats_.sent;
      Observe(job, NoticeState::kSent);
      if (group.unrecorded_sends++ == 0) group.oldest_unrecorded = clock_.Now();
      break;
    case Disposition::kRetryInPlace:
      group.Keep(result);  // stays in flight; the batch is retried
      return;
    case Disposition::kRetryLater:
    case Disposition::kDeadLetter: {
      NoticeJob next = job;
      next.attempt = job.attempt + 1;
      next.revive = false;
      next.last_error = std::string(result.message());
      outcome.error = next.last_error;
      outcome.attempts = next.attempt;
      const absl::Time now = clock_.Now();
      if (d == Disposition::kDeadLetter) {
        next.dead_at = now;
        outcome.state = NoticeState::kDead;
        group.dead.push_back(std::move(next));
      } else {
        next.not_before = now + Backoff(retry_, next.attempt, std::uniform_real_distribution<>(0, 1)(random_));
        outcome.state = NoticeState::kRetrying;
        group.retries.push_back(std::move(next));
      }
      break;
    }
    case Disposition::kFailed:
      outcome.state = NoticeState::kFailed;
      outcome.error = std::string(result.message());
      ++stats_.failed;
      Observe(job, NoticeState::kFailed);
      if (job.recipient.channel == Channel::kSms && !job.recipient.fallback_email.empty()) {
        group.fallbacks.push_back(EmailFallback(job));
      }
      break;
  }
  Stamp(job, outcome);
  group.outcomes.push_back(std::move(outcome));
}

// Buffered deliveries become real, requeued notices reach their topics,
// then the ledger records the outcomes of the group so far (first: they may
// be sends), then its holds.
absl::Status NotifierWorker::Settle(Group& group) {
  FlushChannels(group);
  if (requeue_ != nullptr) Requeue(group);
  if (!group.outcomes.empty()) {
    if (auto s = RecordDurably(group.outcomes); !s.ok()) return s;
    group.outcomes.clear();
  }
  group.unrecorded_sends = 0;
  if (!group.holds.empty()) {
    if (auto s = ledger_.Hold(group.holds, clock_.Now()); !s.ok()) return s;
    group.holds.clear();
  }
  return absl::OkStatus();
}

// A channel whose flush failed delivered none of its buffered notices:
// they stay in flight and the batch is retried.
void NotifierWorker::FlushChannels(Group& group) {
  for (auto& [channel, sink] : channels_) {
    if (auto s = sink->Flush(); !s.ok()) {
      spdlog::warn("event=channel_flush_failed channel={} status=\"{}\"", ToString(channel), s.ToString());
      std::erase_if(group.outcomes, [&](const NoticeLedger::Outcome& o) {
        return o.state == NoticeState::kSent && o.key.channel == channel;
      });
      group.Keep(absl::UnavailableError(absl::StrCat("flush ", ToString(channel), ": ", s.message())));
    }
  }
}

// Requeued notices are on the retry or dead-letter topic before the ledger
// says so; if the broker refuses them they stay in flight and the batch is
// retried in place.
void NotifierWorker::Requeue(Group& group) {
  auto put = [&](std::vector<NoticeJob>& moved, NoticeState state, int64_t& counter,
                 absl::Status (NoticeRequeue::*to)(const std::vector<NoticeJob>&)) {
    if (moved.empty()) return;
    if (auto s = (requeue_->*to)(moved); !s.ok()) {
      spdlog::warn("event=requeue_failed state={} count={} status=\"{}\"", ToString(state), moved.size(),
                   s.ToString());
      std::erase_if(group.outcomes, [&](const NoticeLedger::Outcome& o) { return o.state == state; });
      group.Keep(absl::UnavailableError(absl::StrCat("requeue: ", s.message())));
    } else {
      counter += static_cast<int64_t>(moved.size());
      for (const auto& job : moved) Observe(job, state);
    }
    moved.clear();
  };
  put(group.retries, NoticeState::kRetrying, stats_.retried, &NoticeRequeue::Retry);
  put(group.dead, NoticeState::kDead, stats_.dead_lettered, &NoticeRequeue::DeadLetter);
}

// Once a provider accepted a notice, a failure to write its outcome retries
// the write, never the send.
absl::Status NotifierWorker::RecordDurably(const std::vector<NoticeLedger::Outcome>& outcomes) {
  absl::Duration backoff = kFirstRecordRetry;
  for (;;) {
    absl::Status s = ledger_.Record(outcomes, clock_.Now());
    if (s.ok()) return s;
    ++stats_.record_retries;
    spdlog::warn("event=record_failed count={} retry_in_ms={} status=\"{}\"", outcomes.size(),
                 absl::ToInt64Milliseconds(backoff), s.ToString());
    if (!record_.wait || !record_.wait(backoff)) return s;
    backoff = std::min(backoff * 2, kLastRecordRetry);
  }
}

}  // namespace forewarn
