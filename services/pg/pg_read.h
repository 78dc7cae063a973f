#pragma once

// Internal to the Postgres adapter: only .cc files in services/pg include
// this. Where a pure read runs: the primary, or a streaming replica that has
// caught up with it (PgDatabase::SetReadReplica).

#include <memory>
#include <mutex>

#include "services/pg/pg_pool.h"
#include "services/pg/pg_store.h"

namespace forewarn::pg {

// Shared by every copy of one PgDatabase.
class PgReads {
 public:
  explicit PgReads(std::shared_ptr<PgPool> primary) : primary_(std::move(primary)) {}

  void SetReplica(std::shared_ptr<PgPool> replica, PgReadOptions options);

  // The pool for a read that must see every transaction committed before
  // this call (`what` names it in logs: "audience", "report", ...). Without
  // a replica: the primary. With one: the primary's WAL insert position is
  // taken, and the replica is used once pg_last_wal_replay_lsn() has reached
  // it (polled for up to options.max_lag); otherwise the primary, logged as
  // event=pg_read_lagging (or pg_read_replica_failed).
  std::shared_ptr<PgPool> CaughtUp(const char* what);

 private:
  std::shared_ptr<PgPool> Route(const char* what, PgReadRoute route, int64_t behind_bytes, absl::Duration waited);

  std::shared_ptr<PgPool> primary_;
  std::shared_ptr<PgPool> replica_;  // null: every read on the primary
  PgReadOptions options_;
};

}  // namespace forewarn::pg
