#pragma once

#include <atomic>
#include <string>

#include "absl/status/statusor.h"
#include "services/pg/pg_pooling.h"

namespace CLI {
class App;
}

namespace forewarn {

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

}  // namespace forewarn
