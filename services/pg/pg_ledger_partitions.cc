#include "services/pg/pg_ledger_partitions.h"

#include <functional>
#include <limits>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "services/pg/pg_pool.h"
#include "spdlog/spdlog.h"

namespace forewarn {
namespace {

// The tables partitioned by incident month; notice_ledger's partitions name
// the month for both.
constexpr const char* kParents[] = {"notice_ledger", "dead_notices"};
constexpr int64_t kMinEpoch = std::numeric_limits<int64_t>::min();

// The partitions of notice_ledger with their bounds in ms (MINVALUE: NULL)
// and their incidents: how many are open, and their latest change. The
// incidents table is small (one row per incident), and each range is read
// by the epoch of its ids.
constexpr char kListPartitions[] =
    "WITH p AS ("
    "  SELECT c.relname AS name, "
    "    nullif(substring(pg_get_expr(c.relpartbound, c.oid) FROM 'FROM \\(''?([-0-9A-Z]+)''?\\)'), 'MINVALUE') "
    "      AS lo, "
    "    substring(pg_get_expr(c.relpartbound, c.oid) FROM 'TO \\(''?([-0-9]+)''?\\)') AS hi "
    "  FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
    "  WHERE i.inhparent = 'notice_ledger'::regclass AND NOT i.inhdetachpending) "
    "SELECT p.name, coalesce(p.lo::bigint, " "-9223372036854775808" "), p.hi::bigint, "
    "  (SELECT count(*) FROM incidents WHERE forewarn_incident_epoch(id) >= coalesce(p.lo::bigint, 0) "
    "     AND forewarn_incident_epoch(id) < p.hi::bigint AND state = 'open'), "
    "  (SELECT coalesce(" FW_TS("max(updated_at)") ", -1) FROM incidents "
    "     WHERE forewarn_incident_epoch(id) >= coalesce(p.lo::bigint, 0) AND forewarn_incident_epoch(id) < p.hi::bigint) "
    "FROM p ORDER BY 2";

constexpr char kIsAttached[] =
    "SELECT i.inhdetachpending FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
    "WHERE i.inhparent = $1::regclass AND c.relname = $2";
constexpr char kTableExists[] = "SELECT to_regclass($1) IS NOT NULL";

constexpr char kRecordDrop[] =
    "INSERT INTO ledger_dropped (from_epoch, to_epoch, partition, retention, dropped_at) "
    "VALUES ($1, $2, $3, $4::bigint * interval '1 second', " FW_AT("$5") ") ON CONFLICT DO NOTHING";

// Bounded batches: each statement deletes at most $2 rows, found by the
// received_at index.
constexpr char kDeleteReceipts[] =
    "DELETE FROM notice_receipts WHERE ctid = ANY(ARRAY(SELECT ctid FROM notice_receipts "
    "  WHERE received_at < " FW_AT("$1") " LIMIT $2))";

std::string PartitionName(const std::string& parent, absl::Time month) {
  return absl::StrCat(parent, "_y", absl::FormatTime("%Y", month, absl::UTCTimeZone()), "m",
                      absl::FormatTime("%m", month, absl::UTCTimeZone()));
}

// The name of `parent`'s partition for the month notice_ledger's `name` is.
std::string Sibling(const std::string& parent, const std::string& ledger_name) {
  return absl::StrCat(parent, ledger_name.substr(std::string("notice_ledger").size()));
}

int64_t Millis(absl::Time t) { return absl::ToUnixMillis(t); }

bool IsLockTimeout(const pqxx::sql_error& e) { return e.sqlstate() == "55P03"; }

}  // namespace

PgLedgerPartitions::PgLedgerPartitions(PgDatabase db, absl::Duration lock_timeout, int attempts)
    : pool_(db.pool()), lock_timeout_(lock_timeout), attempts_(attempts) {}
PgLedgerPartitions::~PgLedgerPartitions() = default;

absl::StatusOr<std::vector<LedgerPartition>> PgLedgerPartitions::List() {
  std::vector<LedgerPartition> out;
  auto status = pool_->Run([&](pqxx::connection& c) -> absl::Status {
    out.clear();
    pqxx::read_transaction tx(c);
    for (const auto& r : tx.exec(kListPartitions)) {
      LedgerPartition p;
      p.name = r[0].as<std::string>();
      p.legacy = r[1].as<int64_t>() == kMinEpoch;
      p.from = p.legacy ? absl::InfinitePast() : absl::FromUnixMillis(r[1].as<int64_t>());
      p.to = absl::FromUnixMillis(r[2].as<int64_t>());
      p.open_incidents = r[3].as<int64_t>();
      if (const auto last = r[4].as<int64_t>(); last >= 0) p.last_change = pg::FromMicros(last);
      out.push_back(std::move(p));
    }
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  return out;
}

namespace {

// Runs `step` in a transaction whose lock waits time out after
// `lock_timeout` (SET LOCAL: it holds behind a transaction pooler too); one
// that times out is tried again after a pause, so the DDL never queues for
// long behind another holder of the parent's lock.
absl::Status WithLockRetry(pg::PgPool& pool, absl::Duration lock_timeout, int attempts, const std::string& what,
                           const std::function<void(pqxx::work&)>& step) {
  for (int attempt = 1;; ++attempt) {
    bool timed_out = false;
    auto status = pool.Run([&](pqxx::connection& c) -> absl::Status {
      pqxx::work tx(c);
      tx.exec0(absl::StrCat("SET LOCAL lock_timeout = ", absl::ToInt64Milliseconds(lock_timeout)));
      try {
        step(tx);
      } catch (const pqxx::sql_error& e) {
        if (!IsLockTimeout(e)) throw;
        timed_out = true;
        return absl::OkStatus();
      }
      tx.commit();
      return absl::OkStatus();
    });
    if (!status.ok() || !timed_out) return status;
    if (attempt >= attempts) {
      return absl::UnavailableError(absl::StrCat(what, ": lock not granted within ", absl::FormatDuration(lock_timeout),
                                                 " in ", attempts, " attempts; tried again next round"));
    }
    spdlog::info("event=ledger_partition_lock_wait what=\"{}\" attempt={}", what, attempt);
    std::this_thread::sleep_for(absl::ToChronoMilliseconds(lock_timeout * attempt));
  }
}

// DETACH … CONCURRENTLY cannot run in a transaction block: alone, outside
// one. Its locks (SHARE UPDATE EXCLUSIVE) do not conflict with writers; it
// then waits for the transactions that may still see the partition. A
// detach cut short is left pending and is finished (FINALIZE) next time.
absl::Status Detach(pg::PgPool& pool, const char* parent, const std::string& name) {
  return pool.Run([&](pqxx::connection& c) -> absl::Status {
    pqxx::nontransaction tx(c);
    auto attached = tx.exec_params(kIsAttached, parent, name);
    if (attached.empty()) return absl::OkStatus();
    tx.exec0(absl::StrFormat("ALTER TABLE %s DETACH PARTITION %s %s", tx.quote_name(parent), tx.quote_name(name),
                             attached[0][0].as<bool>() ? "FINALIZE" : "CONCURRENTLY"));
    return absl::OkStatus();
  });
}

}  // namespace

absl::Status PgLedgerPartitions::Create(absl::Time month) {
  const int64_t lo = Millis(month), hi = Millis(NextMonth(month));
  for (const char* parent : kParents) {
    const std::string name = PartitionName(parent, month);
    auto s = WithLockRetry(*pool_, lock_timeout_, attempts_, absl::StrCat("attach ", name), [&](pqxx::work& tx) {
      if (!tx.exec_params(kIsAttached, parent, name).empty()) return;
      // The table alone first (no lock on the parent), then ATTACH: SHARE
      // UPDATE EXCLUSIVE on the parent, which writers do not conflict with;
      // the empty table is checked against its bound at once, and the
      // parent's indexes are made on it.
      tx.exec0(absl::StrFormat(
          "CREATE TABLE IF NOT EXISTS %s (LIKE %s INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING STORAGE)",
          tx.quote_name(name), tx.quote_name(parent)));
      tx.exec0(absl::StrFormat("ALTER TABLE %s ATTACH PARTITION %s FOR VALUES FROM (%d) TO (%d)", tx.quote_name(parent),
                               tx.quote_name(name), lo, hi));
    });
    if (!s.ok()) return s;
  }
  spdlog::info("event=ledger_partition_created month={}", absl::FormatTime("%Y-%m", month, absl::UTCTimeZone()));
  return absl::OkStatus();
}

absl::Status PgLedgerPartitions::Drop(const LedgerPartition& p, absl::Duration retention, absl::Time now) {
  // Recorded first: from the moment the partition is detached, reads of its
  // incidents say why they find nothing.
  auto s = pool_->Run([&](pqxx::connection& c) -> absl::Status {
    pqxx::work tx(c);
    tx.exec_params(kRecordDrop, p.legacy ? int64_t{0} : Millis(p.from), p.legacy ? int64_t{1} : Millis(p.to), p.name,
                   absl::ToInt64Seconds(retention), pg::ToMicros(now));
    tx.commit();
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  for (const char* parent : kParents) {
    const std::string name = Sibling(parent, p.name);
    if (s = Detach(*pool_, parent, name); !s.ok()) return s;
    s = WithLockRetry(*pool_, lock_timeout_, attempts_, absl::StrCat("drop ", name), [&](pqxx::work& tx) {
      if (tx.exec_params(kIsAttached, parent, name).empty() && tx.exec_params1(kTableExists, name)[0].as<bool>()) {
        tx.exec0(absl::StrFormat("DROP TABLE %s", tx.quote_name(name)));
      }
    });
    if (!s.ok()) return s;
  }
  return absl::OkStatus();
}

absl::StatusOr<int64_t> PgLedgerPartitions::DeleteReceiptsBefore(absl::Time before, int batch) {
  int64_t total = 0;
  for (;;) {
    int64_t n = 0;
    auto s = pool_->Run([&](pqxx::connection& c) -> absl::Status {
      pqxx::work tx(c);
      n = static_cast<int64_t>(tx.exec_params(kDeleteReceipts, pg::ToMicros(before), batch).affected_rows());
      tx.commit();
      return absl::OkStatus();
    });
    if (!s.ok()) return s;
    total += n;
    if (n < batch) return total;
  }
}

namespace {

// The incident's creation and the drop of its range, if any (by the epoch
// of its id: 0 for legacy ids, inside the legacy range [0, 1)).
constexpr char kLedgerOf[] =
    "SELECT " FW_TS("i.created_at") ", d.partition IS NOT NULL, coalesce(" FW_TS("d.dropped_at") ", 0), "
    "  coalesce(extract(epoch FROM d.retention)::bigint, 0) "
    "FROM incidents i LEFT JOIN ledger_dropped d ON forewarn_incident_epoch(i.id) >= d.from_epoch "
    "  AND forewarn_incident_epoch(i.id) < d.to_epoch "
    "WHERE i.id = $1::uuid";

}  // namespace

PgLedgerRetentionLog::PgLedgerRetentionLog(PgDatabase db) : pool_(db.pool()) {}
PgLedgerRetentionLog::~PgLedgerRetentionLog() = default;

absl::StatusOr<IncidentLedger> PgLedgerRetentionLog::LedgerOf(const std::string& incident_id) {
  absl::StatusOr<IncidentLedger> out = absl::NotFoundError(absl::StrCat("incident ", incident_id, " not found"));
  auto status = pool_->Run([&](pqxx::connection& c) -> absl::Status {
    pqxx::read_transaction tx(c);
    auto rows = tx.exec_params(kLedgerOf, incident_id);
    if (rows.empty()) return absl::OkStatus();
    IncidentLedger l;
    l.created_at = pg::FromMicros(rows[0][0].as<int64_t>());
    if (rows[0][1].as<bool>()) {
      l.dropped = LedgerDrop{pg::FromMicros(rows[0][2].as<int64_t>()), absl::Seconds(rows[0][3].as<int64_t>())};
    }
    out = l;
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  return out;
}

}  // namespace forewarn
