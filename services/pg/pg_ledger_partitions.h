#pragma once

// The notice ledger's month partitions (migration 14) for forewarn-scheduler's
// maintenance, and the read side's record of what retention dropped.

#include <memory>
#include <string>
#include <vector>

#include "services/core/ledger_retention.h"
#include "services/pg/pg_store.h"

namespace forewarn {

// notice_ledger and dead_notices go together: a month is created in both
// and dropped from both.
class PgLedgerPartitions final : public LedgerPartitions {
 public:
  // `lock_timeout`: how long one ATTACH or DETACH waits for its lock on a
  // parent before it gives way (and is tried again, up to `attempts`
  // times) rather than queue ahead of the writers behind it.
  explicit PgLedgerPartitions(PgDatabase db, absl::Duration lock_timeout = absl::Seconds(2), int attempts = 5);
  ~PgLedgerPartitions() override;
  absl::StatusOr<std::vector<LedgerPartition>> List() override;
  absl::Status Create(absl::Time month) override;
  absl::Status Drop(const LedgerPartition& partition, absl::Duration retention, absl::Time now) override;
  absl::StatusOr<int64_t> DeleteReceiptsBefore(absl::Time before, int batch) override;

 private:
  std::shared_ptr<pg::PgPool> pool_;
  absl::Duration lock_timeout_;
  int attempts_;
};

// Which incidents' ledgers were dropped (table ledger_dropped).
class PgLedgerRetentionLog final : public LedgerRetentionLog {
 public:
  explicit PgLedgerRetentionLog(PgDatabase db);
  ~PgLedgerRetentionLog() override;
  absl::StatusOr<IncidentLedger> LedgerOf(const std::string& incident_id) override;

 private:
  std::shared_ptr<pg::PgPool> pool_;
};

}  // namespace forewarn
