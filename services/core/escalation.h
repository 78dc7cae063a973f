#pragma once

// Escalation: a notice its channel could not deliver (an undelivered or
// expired receipt) or that had no receipt by its escalation timer goes once
// to the customer's other channel (SMS -> email, email -> SMS). The timer is
// a ledger column (receipt_due_at), not a sleep: the scheduler escalates what
// is due, so a restart loses nothing.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "services/core/clock.h"
#include "services/core/model.h"
#include "services/core/ports.h"

namespace forewarn {

// A notice whose escalation timer is due, with what is needed to reach the
// customer on the other channel.
struct EscalationCandidate {
  NoticeKey key;
  NoticeState state = NoticeState::kSent;  // sent (no receipt in time), undelivered, expired
  std::string name, locale, time_zone;
  std::string phone, email;  // the customer's current addresses; empty when none
  int opted_out = 0;         // the customer's opt-out bits (bit 2 * category + channel)
  // The customer already has this notice on the other channel (a ledger
  // row of the same key there: they chose both, or it was escalated before).
  bool other_channel_noticed = false;
};

struct EscalationDecision {
  enum class Action {
    kEscalate,        // send `job` on the other channel
    kOtherHasIt,      // the other channel has the notice already: only the timer stops
    kNoOtherChannel,  // no other address, or the customer opted out of it: undeliverable
  };
  NoticeKey key;
  Action action = Action::kEscalate;
  Channel to = Channel::kEmail;
  NoticeJob job;  // kEscalate only
};

// The one rule: where a due notice goes.
EscalationDecision DecideEscalation(const EscalationCandidate& candidate);

class EscalationStore {
 public:
  virtual ~EscalationStore() = default;
  // Up to `limit` notices whose escalation timer is at or before `now`,
  // oldest first.
  virtual absl::StatusOr<std::vector<EscalationCandidate>> FetchDue(absl::Time now, int limit) = 0;
  // Stops the timers of the decided notices and records the escalations
  // (escalated_at = now, escalated_to; none for kNoOtherChannel). A notice
  // whose timer another scheduler stopped meanwhile is left as it is.
  virtual absl::Status Settle(const std::vector<EscalationDecision>& decisions, absl::Time now) = 0;
};

// Runs one round: the due notices' escalation jobs go on the notices topic,
// and only once the broker has them are the timers stopped (a crash in
// between sends them again; the ledger's key on the other channel keeps the
// customer's notice single).
class Escalator {
 public:
  struct Round {
    int64_t escalated = 0, other_has_it = 0, undeliverable = 0;
    bool full = false;  // `limit` were due: more may be
  };
  Escalator(EscalationStore& store, NoticeSink& sink, int limit) : store_(store), sink_(sink), limit_(limit) {}
  absl::StatusOr<Round> RunOnce(absl::Time now);

 private:
  EscalationStore& store_;
  NoticeSink& sink_;
  int limit_;
};

}  // namespace forewarn
