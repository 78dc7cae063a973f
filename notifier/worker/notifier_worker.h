#pragma once

#include <functional>
#include <map>
#include <memory>
#include <random>
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
class NotifierWorker {
 public:
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
  };

  NotifierWorker(IncidentReader& incidents, NoticeLedger& ledger, Renderer& renderer,
                 std::map<Channel, DeliveryChannel*> channels, const Clock& clock, NoticePolicy policy = {})
      : incidents_(incidents), ledger_(ledger), renderer_(renderer), channels_(std::move(channels)),
        clock_(clock), policy_(std::move(policy)) {}

  // OK: every job is final in the ledger. UNAVAILABLE (or another retryable
  // code): some jobs hit a transient failure; retry the whole batch later —
  // the finished ones are skipped on retry.
  absl::Status ProcessBatch(const std::vector<NoticeJob>& jobs);

  const Stats& stats() const { return stats_; }

  // Without a requeue, a transient failure keeps the whole batch for an
  // in-place retry (the notice's attempts are not counted).
  void set_requeue(NoticeRequeue* requeue, RetryPolicy retry) {
    requeue_ = requeue;
    retry_ = retry;
  }

  // Told of every notice that reaches a state (metrics).
  using Observer = std::function<void(const NoticeJob&, NoticeState)>;
  void set_observer(Observer observer) { observer_ = std::move(observer); }

 private:
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
  std::mt19937_64 random_{std::random_device{}()};
};

}  // namespace forewarn
