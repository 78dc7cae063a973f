#include "services/core/ledger_retention.h"

#include <set>

#include "absl/strings/str_cat.h"
#include "services/core/validation.h"
#include "spdlog/spdlog.h"

namespace forewarn {

absl::Status ValidateLedgerRetention(absl::Duration retention) {
  if (retention < kMinLedgerRetention) {
    return absl::InvalidArgumentError(
        absl::StrCat("--ledger-retention: must be at least 31 days (744h), got ", absl::FormatDuration(retention),
                     "; a shorter retention would drop the ledger of incidents customers are still being told about"));
  }
  return absl::OkStatus();
}

absl::Time MonthStart(absl::Time t) {
  const absl::CivilSecond c = absl::ToCivilSecond(t, absl::UTCTimeZone());
  return absl::FromCivil(absl::CivilMonth(c), absl::UTCTimeZone());
}

absl::Time NextMonth(absl::Time month_start) {
  const absl::CivilMonth m(absl::ToCivilSecond(month_start, absl::UTCTimeZone()));
  return absl::FromCivil(m + 1, absl::UTCTimeZone());
}

namespace {

// Why a partition older than the retention stays; empty: it may go.
std::string ReasonToKeep(const LedgerPartition& p, absl::Time cutoff) {
  if (p.open_incidents > 0) return absl::StrCat(p.open_incidents, " incident(s) still open");
  if (p.last_change && *p.last_change > cutoff) {
    return absl::StrCat("an incident changed at ", absl::FormatTime("%Y-%m-%d", *p.last_change, absl::UTCTimeZone()),
                        ", within the retention");
  }
  return "";
}

}  // namespace

PartitionPlan PlanLedgerPartitions(const std::vector<LedgerPartition>& existing, absl::Time now,
                                   absl::Duration retention, int months_ahead) {
  PartitionPlan plan;
  std::set<absl::Time> have;
  for (const auto& p : existing) {
    if (!p.legacy) have.insert(p.from);
  }
  absl::Time month = MonthStart(now);
  for (int i = 0; i <= months_ahead; ++i, month = NextMonth(month)) {
    if (!have.contains(month)) plan.create.push_back(month);
  }
  const absl::Time cutoff = now - retention;
  for (const auto& p : existing) {
    // The legacy partition without an incident (a database created after
    // migration 14) stays: rows of an incident with a non-v7 id still have
    // a place to go.
    if (p.to > cutoff || (p.legacy && !p.last_change)) continue;
    if (std::string why = ReasonToKeep(p, cutoff); !why.empty()) {
      plan.kept.emplace_back(p, std::move(why));
    } else {
      plan.drop.push_back(p);
    }
  }
  return plan;
}

absl::Status CheckLedgerKept(const std::string& incident_id, const IncidentLedger& ledger) {
  if (!ledger.dropped) return absl::OkStatus();
  return absl::FailedPreconditionError(absl::StrCat(
      "incident ", incident_id, " was created ", absl::FormatTime("%Y-%m-%d", ledger.created_at, absl::UTCTimeZone()),
      "; notices are kept ", absl::ToInt64Hours(ledger.dropped->retention) / 24,
      " days (--ledger-retention) and its ledger has been dropped (",
      absl::FormatTime("%Y-%m-%d", ledger.dropped->dropped_at, absl::UTCTimeZone()), ")"));
}

absl::Status RequireLedger(LedgerRetentionLog* log, const std::string& incident_id) {
  if (log == nullptr || !ValidateIncidentId("incident_id", incident_id).ok()) return absl::OkStatus();
  auto ledger = log->LedgerOf(incident_id);
  if (absl::IsNotFound(ledger.status())) return absl::OkStatus();
  if (!ledger.ok()) return ledger.status();
  return CheckLedgerKept(incident_id, *ledger);
}

absl::StatusOr<LedgerMaintenance::Round> LedgerMaintenance::RunOnce() {
  auto existing = partitions_.List();
  if (!existing.ok()) return existing.status();
  const absl::Time now = clock_.Now();
  const PartitionPlan plan = PlanLedgerPartitions(*existing, now, retention_, months_ahead_);
  Round round;
  for (absl::Time month : plan.create) {
    if (auto s = partitions_.Create(month); !s.ok()) return s;
    ++round.created;
  }
  for (const auto& [p, why] : plan.kept) {
    spdlog::info("event=ledger_partition_kept partition={} reason=\"{}\"", p.name, why);
    ++round.kept;
  }
  for (const auto& p : plan.drop) {
    if (auto s = partitions_.Drop(p, retention_, now); !s.ok()) {
      spdlog::warn("event=ledger_partition_drop_failed partition={} status=\"{}\"", p.name, s.ToString());
      continue;
    }
    spdlog::info("event=ledger_partition_dropped partition={}", p.name);
    ++round.dropped;
  }
  auto deleted = partitions_.DeleteReceiptsBefore(now - retention_, 5000);
  if (!deleted.ok()) return deleted.status();
  round.receipts_deleted = *deleted;
  return round;
}

}  // namespace forewarn
