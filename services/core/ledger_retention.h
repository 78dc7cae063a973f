#pragma once

// Ledger retention: the notice ledger (and dead_notices, which follows it)
// is partitioned by month of its incidents' creation (migration 14);
// forewarn-scheduler creates the months ahead and drops, whole, the months
// older than --ledger-retention, never one that holds an incident still open
// or changed within the retention. Reads of one incident's ledger (delivery
// report, completeness, proof of notice, dead letters) answer
// FAILED_PRECONDITION, naming the retention, once its month was dropped.

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "services/core/clock.h"

namespace forewarn {

inline constexpr absl::Duration kDefaultLedgerRetention = absl::Hours(24 * 400);
// Shorter would drop a month while its incidents are still being told about.
inline constexpr absl::Duration kMinLedgerRetention = absl::Hours(24 * 31);

// INVALID_ARGUMENT naming --ledger-retention below kMinLedgerRetention.
absl::Status ValidateLedgerRetention(absl::Duration retention);

// One month of the ledger, as partition maintenance sees it.
struct LedgerPartition {
  std::string name;  // e.g. "notice_ledger_y2025m09" (dead_notices_y2025m09 goes with it)
  // The creation times of its incidents, [from, to). The legacy partition
  // (incidents from before migration 14) has from = InfinitePast.
  absl::Time from, to;
  bool legacy = false;
  int64_t open_incidents = 0;
  // The latest change (updated_at) among its incidents; none: no incident.
  std::optional<absl::Time> last_change;
};

// What partition maintenance does now.
struct PartitionPlan {
  std::vector<absl::Time> create;      // month starts (UTC) missing from now to months ahead
  std::vector<LedgerPartition> drop;   // wholly older than the retention, nothing open or recent
  // Older than the retention but kept, with why ("incident open", ...).
  std::vector<std::pair<LedgerPartition, std::string>> kept;
};

// The first instant of the UTC month of `t`, and of the month after it.
absl::Time MonthStart(absl::Time t);
absl::Time NextMonth(absl::Time month_start);

// `existing`: the ledger's partitions. Months from the current one to
// `months_ahead` after it are created when missing; a partition is dropped
// when its whole range ends at or before now - retention and none of its
// incidents is open or changed after that; the legacy one only once it has
// incidents (all of them past the retention).
PartitionPlan PlanLedgerPartitions(const std::vector<LedgerPartition>& existing, absl::Time now,
                                   absl::Duration retention, int months_ahead = 3);

// How retention dropped an incident's ledger.
struct LedgerDrop {
  absl::Time dropped_at;
  absl::Duration retention;  // in force when it was dropped
};

// One incident as the read side's retention check needs it.
struct IncidentLedger {
  absl::Time created_at;
  std::optional<LedgerDrop> dropped;  // set once its month was dropped
};

// FAILED_PRECONDITION when the incident's ledger was dropped: "incident X
// was created 2025-09-01; notices are kept 400 days (--ledger-retention) and
// its ledger has been dropped". OK otherwise.
absl::Status CheckLedgerKept(const std::string& incident_id, const IncidentLedger& ledger);

// Port: which incidents' ledgers retention dropped (read side).
class LedgerRetentionLog {
 public:
  virtual ~LedgerRetentionLog() = default;
  // NOT_FOUND for an unknown incident.
  virtual absl::StatusOr<IncidentLedger> LedgerOf(const std::string& incident_id) = 0;
};

// What a use case reading one incident's ledger calls first: OK when `log`
// is null (not wired), the incident is unknown (the read itself says
// NOT_FOUND) or its ledger is kept; FAILED_PRECONDITION (CheckLedgerKept)
// once dropped; the log's error otherwise.
absl::Status RequireLedger(LedgerRetentionLog* log, const std::string& incident_id);

// Port: the ledger's partitions (forewarn-scheduler).
class LedgerPartitions {
 public:
  virtual ~LedgerPartitions() = default;
  virtual absl::StatusOr<std::vector<LedgerPartition>> List() = 0;
  // Creates and attaches the month starting at `month` without blocking
  // writers; nothing when it exists.
  virtual absl::Status Create(absl::Time month) = 0;
  // Records the drop (`retention`, `now`), then detaches and drops the
  // partition without blocking writers. Idempotent (a drop cut short is
  // finished by the next).
  virtual absl::Status Drop(const LedgerPartition& partition, absl::Duration retention, absl::Time now) = 0;
  // Deletes receipts received before `before`, at most `batch` a
  // statement; how many.
  virtual absl::StatusOr<int64_t> DeleteReceiptsBefore(absl::Time before, int batch) = 0;
};

// The maintenance round forewarn-scheduler runs at start-up and then
// periodically.
class LedgerMaintenance {
 public:
  LedgerMaintenance(LedgerPartitions& partitions, const Clock& clock, absl::Duration retention,
                    int months_ahead = 3)
      : partitions_(partitions), clock_(clock), retention_(retention), months_ahead_(months_ahead) {}

  struct Round {
    int created = 0;
    int dropped = 0;
    int kept = 0;  // past the retention but kept (open or recent incidents)
    int64_t receipts_deleted = 0;
  };
  // Creates what is missing, then drops what may go (a failure of one drop
  // is logged and the others go on), then deletes old receipts.
  absl::StatusOr<Round> RunOnce();

 private:
  LedgerPartitions& partitions_;
  const Clock& clock_;
  absl::Duration retention_;
  int months_ahead_;
};

}  // namespace forewarn
