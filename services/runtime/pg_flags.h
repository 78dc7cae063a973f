#pragma once

#include <atomic>
#include <string>

#include "absl/status/statusor.h"
#include "services/pg/pg_pooling.h"

namespace CLI {
class App;
}

namespace forewarn {

class MetricsRegistry;
class PgDatabase;

// The database flags every service shares: --pg (FOREWARN_PG, required),
// --pg-pooling auto|session|transaction (FOREWARN_PG_POOLING, default auto)
// and --pg-pool-size (FOREWARN_PG_POOL_SIZE, default 8: the most
// connections the service's adapters open together; see PgDatabase).
struct PgFlags {
  std::string uri;
  std::string pooling = "auto";
  int pool_size = 8;
};

void AddPgFlags(CLI::App& app, PgFlags& flags);

// The endpoint the service's adapters use. "auto" probes the database
// (DetectPgPooling), retrying while it is unreachable until `stop`; the
// chosen mode is logged either way (event=pg_pooling). INVALID_ARGUMENT
// names --pg-pooling.
absl::StatusOr<PgEndpoint> ResolvePgEndpoint(const PgFlags& flags, const std::atomic<bool>& stop);

// Reads off the primary (resolver and intake): --pg-read (FOREWARN_PG_READ,
// optional: a streaming replica of --pg's database; unset: every read on
// the primary) and --pg-read-max-lag (FOREWARN_PG_READ_MAX_LAG, default 5s:
// how long a read waits for the replica to catch up before it goes to the
// primary instead).
struct PgReadFlags {
  std::string uri;
  std::string max_lag = "5s";
};

void AddPgReadFlags(CLI::App& app, PgReadFlags& flags);

// With --pg-read set: checks that it is a standby (waiting up to 10 s for it
// to accept connections), resolves its pooling mode like --pg's
// (`primary_flags.pooling`) and makes `db` send its pure reads there
// (PgDatabase::SetReadReplica), counting them in `metrics` as
// forewarn_pg_reads_total{served_by=replica|primary_lagging|primary_failed}.
// INVALID_ARGUMENT (a bad --pg-read-max-lag), FAILED_PRECONDITION (not a
// standby) or UNAVAILABLE (unreachable), each naming the flag: the service
// exits with 2 on any of them. Without --pg-read: OK, nothing changes.
absl::Status AttachReadReplica(const PgReadFlags& flags, const PgFlags& primary_flags, PgDatabase& db,
                               MetricsRegistry& metrics, const std::atomic<bool>& stop);

}  // namespace forewarn
