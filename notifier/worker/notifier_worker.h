#pragma once

#include <functional>
#include <map>
#include <set>
#include <memory>
#include <random>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "services/core/clock.h"
#include "services/core/ports.h"

namespace forewarn {

// Processes batches of notice jobs with an exactly-once effect per NoticeKey:
// claim in the ledger, render, send, record. A job whose key is already
// final (SENT, FAILED, SUPERSEDED) is skipped. A job whose incident has a
// newer version is SUPERSEDED (the newer notice carries the current facts).
// A non-urgent job outside the customer's local window is HELD until it
// opens. With a requeue, a notice the provider failed transiently goes to
// the retry topic (RETRYING, tried again after an exponential, jittered
// backoff) and, after `max_attempts` attempts, to the dead-letter topic
// (DEAD). The caller commits its input offsets only after ProcessBatch
// returned OK, i.e. after every job reached a settled ledger state.
//
// Nothing twice at a provider: a batch is claimed and sent in groups of at
// most `record_every` notices, each group in flight under this worker's
// lease; outcomes are recorded as they happen (at the end of each group, and
// whenever `record_interval` passed since the oldest unrecorded send), so a
// crash can only leave the notices sent since the last record unrecorded —
// those, and only those, may reach the provider twice. A failed ledger write
// is retried, never the send. Before each send the lease is confirmed
// (NoticeLedger::Fence): a worker that was paused past its lease and whose
// notices another worker took over sends none of them.
class NotifierWorker {
 public:
  struct RecordPolicy {
    // Notices claimed, sent and recorded together. With only the file
    // outbox (which answers "delivered?" after a crash), the whole batch.
    int record_every = 20;
    // Record sends at least this often inside a slow group.
    absl::Duration record_interval = absl::Milliseconds(200);
    // Waits before retrying a failed ledger write; false when the process
    // is stopping (the write is then abandoned: its notices stay in flight
    // and are checked again by whoever claims them next). Unset: a failed
    // write fails the batch at once.
    std::function<bool(absl::Duration)> wait;
  };

  struct RetryPolicy {
    int max_attempts = 5;  // delivery attempts before dead-lettering
    absl::Duration initial_backoff = absl::Seconds(2);
    absl::Duration max_backoff = absl::Minutes(5);
  };
  // Attempt n (1-based) waits min(max, initial * 2^(n-1)), of which a
  // random half (jitter spreads a burst of failures over time).
  static absl::Duration Backoff(const RetryPolicy& policy, int attempt, double unit_random);

  struct Stats {
    int64_t sent = 0;
    int64_t failed = 0;
    int64_t skipped = 0;     // already done (redelivery)
    int64_t superseded = 0;  // the incident changed before it was sent
    int64_t held = 0;        // parked for the customer's quiet hours
    int64_t fallbacks = 0;   // SMS failed permanently; email sent instead
    int64_t retried = 0;     // put on the retry topic
    int64_t dead_lettered = 0;
    int64_t busy = 0;            // held by another worker's lease: come back later
    int64_t fenced = 0;          // lease lost before sending: left to the new holder
    int64_t record_retries = 0;  // ledger writes retried (the sends were not)
  };

  NotifierWorker(IncidentReader& incidents, NoticeLedger& ledger, Renderer& renderer,
                 std::map<Channel, DeliveryChannel*> channels, const Clock& clock, NoticePolicy policy = {})
      : incidents_(incidents), ledger_(ledger), renderer_(renderer), channels_(std::move(channels)),
        clock_(clock), policy_(std::move(policy)) {}

  // OK: every job is final in the ledger. UNAVAILABLE (or another retryable
  // code): some jobs hit a transient failure; retry the whole batch later —
  // the finished ones are skipped on retry. With `busy`, a job whose notice
  // is in flight under another worker's lease is not a failure: its index in
  // `jobs` is listed there, and the caller brings it back later (the
  // notifier rewinds its partition to it); without, it makes the batch
  // UNAVAILABLE.
  absl::Status ProcessBatch(const std::vector<NoticeJob>& jobs, std::vector<size_t>* busy = nullptr);

  const Stats& stats() const { return stats_; }

  // Without a requeue, a transient failure keeps the whole batch for an
  // in-place retry (the notice's attempts are not counted).
  void set_requeue(NoticeRequeue* requeue, RetryPolicy retry) {
    requeue_ = requeue;
    retry_ = retry;
  }

  void set_record_policy(RecordPolicy policy) { record_ = std::move(policy); }

  // Channels whose provider reports deliveries, and how long a receipt is
  // awaited before the notice escalates to the customer's other channel
  // (the ledger's escalation timer, ReceiptDue).
  void set_receipt_timeouts(std::map<Channel, absl::Duration> timeouts) { receipt_timeouts_ = std::move(timeouts); }

  // Told of every notice that reaches a state (metrics).
  using Observer = std::function<void(const NoticeJob&, NoticeState)>;
  void set_observer(Observer observer) { observer_ = std::move(observer); }

 private:
  struct Group;
  using Jobs = std::span<const NoticeJob* const>;
  absl::Status ProcessGroup(Jobs jobs, std::vector<const NoticeJob*>& busy);
  absl::StatusOr<std::set<std::string>> AlreadyDelivered(const std::vector<NoticeKey>& keys,
                                                         const std::vector<NoticeLedger::Claimed>& claimed);
  void Decide(const NoticeJob& job, const NoticeKey& key, const std::map<std::string, int64_t>& current,
              const std::set<std::string>& delivered, absl::Time now, Group& group);
  void Deliver(const NoticeJob& job, const NoticeKey& key, Group& group);
  absl::StatusOr<std::string> Send(const NoticeJob& job);
  void Apply(const NoticeJob& job, NoticeLedger::Outcome outcome, const absl::Status& result, Group& group);
  absl::Status Settle(Group& group);
  void FlushChannels(Group& group);
  void Requeue(Group& group);
  absl::Status RecordDurably(const std::vector<NoticeLedger::Outcome>& outcomes);
  void Observe(const NoticeJob& job, NoticeState state);
  void Stamp(const NoticeJob& job, NoticeLedger::Outcome& outcome);
  absl::StatusOr<const Incident*> IncidentFor(const NoticeJob& job);

  IncidentReader& incidents_;
  NoticeLedger& ledger_;
  Renderer& renderer_;
  std::map<Channel, DeliveryChannel*> channels_;
  const Clock& clock_;
  NoticePolicy policy_;
  // Incident versions are immutable, so caching them is always correct.
  std::map<std::pair<std::string, int64_t>, Incident> incident_cache_;
  Stats stats_;
  Observer observer_;
  NoticeRequeue* requeue_ = nullptr;
  RetryPolicy retry_;
  RecordPolicy record_;
  std::map<Channel, absl::Duration> receipt_timeouts_;
  std::mt19937_64 random_{std::random_device{}()};
};

}  // namespace forewarn
