#pragma once

// Delivery receipts and escalation timers over the notice ledger
// (migration 13): notice_receipts keeps every receipt once; a receipt
// settles its SENT ledger row (by our message id's key, or by the provider's
// id); the ledger's receipt_due_at is the escalation timer.

#include <memory>
#include <vector>

#include "services/core/escalation.h"
#include "services/core/receipts.h"
#include "services/pg/pg_store.h"

namespace forewarn {

class PgReceiptStore final : public ReceiptStore {
 public:
  explicit PgReceiptStore(PgDatabase db);
  ~PgReceiptStore() override;
  // INVALID_ARGUMENT (nothing stored) for a receipt with neither id, or a
  // message id that is not one of ours.
  absl::StatusOr<ReceiptTally> Record(const std::vector<Receipt>& receipts, absl::Time now) override;
  absl::StatusOr<ReceiptTally> ApplyPending(absl::Time now, absl::Duration give_up_after) override;

 private:
  std::shared_ptr<pg::PgPool> pool_;
};

class PgEscalationStore final : public EscalationStore {
 public:
  explicit PgEscalationStore(PgDatabase db);
  ~PgEscalationStore() override;
  absl::StatusOr<std::vector<EscalationCandidate>> FetchDue(absl::Time now, int limit) override;
  absl::Status Settle(const std::vector<EscalationDecision>& decisions, absl::Time now) override;

 private:
  std::shared_ptr<pg::PgPool> pool_;
};

}  // namespace forewarn
