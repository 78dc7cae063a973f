#pragma once

#include <memory>

#include "services/core/ports.h"
#include "services/pg/pg_store.h"

namespace forewarn {

// Proof of notice's rows from the notice ledger (migrations/0013: deadline_at,
// receipt_at, escalated_to), over the process's shared pool. One read-only
// repeatable-read transaction per stream: the incident is checked, then the
// rows come through a server-side cursor `fetch_size` at a time, so memory
// stays flat however many customers the incident reached. Read from a
// caught-up replica when the database has one (PgDatabase::SetReadReplica). The connection is
// held for the whole stream (the caller's callback paces it).
class PgProofSource final : public ProofSource {
 public:
  explicit PgProofSource(PgDatabase db, int fetch_size = 2000);
  ~PgProofSource() override;

  absl::Status Stream(const ProofQuery& query, const std::function<absl::Status(const ProofRow&)>& fn) override;

 private:
  std::shared_ptr<pg::PgReads> reads_;  // a caught-up replica, if any (PgDatabase::SetReadReplica)
  int fetch_size_;
};

}  // namespace forewarn
