#pragma once

// Proof of notice: for the notices with a deadline (maintenance reminders,
// IBAN notices), per customer and channel, when it was sent, when it was
// delivered, and whether it was delivered by the deadline. The rules (a
// channel met, a notice met, missed or pending, the summary) live here and
// nowhere else; the ledger's rows come from a ProofSource.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "services/core/clock.h"
#include "services/core/ledger_retention.h"
#include "services/core/model.h"
#include "services/core/ports.h"

namespace forewarn {

// One channel's notice to one customer.
struct ChannelProof {
  Channel channel = Channel::kSms;
  NoticeState state = NoticeState::kSent;
  std::optional<absl::Time> sent_at;       // set once the provider accepted it
  std::optional<absl::Time> delivered_at;  // set when a receipt says delivered
  bool met = false;                        // delivered by the deadline
  // Sent because the customer's other channel was escalated to this one.
  bool escalation = false;
};

// One notice (customer, version, kind, occasion) with its channels, SMS first.
struct NoticeProof {
  int64_t customer_id = 0;
  int64_t version = 0;
  NoticeKind kind = NoticeKind::kMaintenanceReminder;
  std::string occasion;
  absl::Time deadline;
  std::vector<ChannelProof> channels;
  bool met = false;  // some channel met the deadline
};

// met: delivered on some channel by the deadline. missed: not met and the
// deadline has passed (`now` after it). pending: not met, the deadline not
// passed yet.
// The one rule; clients that have only a proof's `met` and deadline (the
// CLI, flagging rows as they stream in) judge with it too.
enum class ProofOutcome { kMet, kMissed, kPending };
ProofOutcome JudgeNotice(bool met, absl::Time deadline, absl::Time now);
inline ProofOutcome OutcomeOf(const NoticeProof& proof, absl::Time now) {
  return JudgeNotice(proof.met, proof.deadline, now);
}
// "met", "missed", "pending".
const char* ToString(ProofOutcome outcome);

struct ProofSummary {
  int64_t customers = 0;  // notices proved (customer, version, kind, occasion)
  int64_t met = 0;
  int64_t missed = 0;
  int64_t pending = 0;
  void Count(ProofOutcome outcome);
};

// The proof of one notice from its ledger rows (the same notice's channels,
// SMS first): sent_at is the row's update time once the provider accepted
// it (sent, delivered, undelivered, expired); delivered_at the receipt's
// time when delivered; a channel meets the deadline when delivered at or
// before it; a channel is an escalation when another row of the notice was
// escalated to it.
NoticeProof ProveNotice(const std::vector<ProofRow>& rows);

struct ProofRequest {
  std::string incident_id;
  std::string notice_kind;  // empty: every kind with a deadline
  std::string occasion;     // empty: every occasion
  // Only the missed notices (deadline passed, not delivered in time) are
  // emitted; pending ones are not. The summary counts every notice either way.
  bool missed_only = false;
};

// The use case: reads the rows, folds them into notices, applies the rules.
class NoticeProofService {
 public:
  NoticeProofService(ProofSource& source, const Clock& clock) : source_(source), clock_(clock) {}

  // Emits each notice's proof in order (customer, version, kind, occasion)
  // to `emit` as the rows stream in (memory does not grow with the
  // incident), and returns the summary, judged against the clock's time
  // when the call started. INVALID_ARGUMENT naming the field for a malformed
  // incident_id or an unknown notice_kind; NOT_FOUND for an unknown
  // incident; `emit` returning non-OK stops the stream and is returned.
  absl::StatusOr<ProofSummary> Prove(const ProofRequest& request,
                                     const std::function<absl::Status(const NoticeProof&)>& emit);
  // FAILED_PRECONDITION for an incident whose ledger retention dropped.
  void set_ledger_retention(LedgerRetentionLog* log) { retention_ = log; }

 private:
  ProofSource& source_;
  const Clock& clock_;
  LedgerRetentionLog* retention_ = nullptr;
};

}  // namespace forewarn
