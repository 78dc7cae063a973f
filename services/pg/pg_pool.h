#pragma once

// Internal to the Postgres adapter: only .cc files in services/pg include this.

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <pqxx/pqxx>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "services/core/ports.h"
#include "services/pg/pg_pooling.h"

// Timestamps cross the wire as microseconds since the epoch.
#define FW_TS(col) "(extract(epoch from " col ") * 1000000)::bigint"
#define FW_AT(param) "('epoch'::timestamptz + " param "::bigint * interval '1 microsecond')"

namespace forewarn::pg {

// Statements shared by the incident store and the scheduler.
// Snapshots the current incident row as an immutable version ($2 change,
// $3 actor, $4 change summary); returns the version.
inline constexpr char kSnapshotVersion[] =
    "INSERT INTO incident_versions (incident_id, version, change, state, services, regions, reason_ar, "
    "  reason_en, starts_at, expected_restoration_at, resolved_at, changed_at, old_iban, new_iban, actor, "
    "  change_summary, asset_codes, audience_id, area_geojson, area_circle, area_name_ar, area_name_en) "
    "SELECT id, version, $2, state, services, regions, reason_ar, reason_en, starts_at, "
    "  expected_restoration_at, resolved_at, updated_at, old_iban, new_iban, $3, $4, asset_codes, audience_id, "
    "  area_geojson, area_circle, area_name_ar, area_name_en FROM incidents "
    "WHERE id = $1::uuid RETURNING version";
// Cancels the incident's not-yet-released scheduled notices ($2 now).
inline constexpr char kCancelPendingNotices[] =
    "UPDATE scheduled_notices SET state = 'cancelled', settled_at = " FW_AT("$2") " "
    "WHERE incident_id = $1::uuid AND state = 'pending'";
// Queues one notice event in the outbox ($2 version, $3 kind, $4 occasion, $5 now).
inline constexpr char kQueueNotice[] =
    "INSERT INTO outbox (incident_id, version, notice_kind, occasion, created_at) "
    "VALUES ($1::uuid, $2, $3, $4, " FW_AT("$5") ")";

// Records a new version of incident `id` in the caller's transaction: its
// snapshot (with `change` and `audit`), then `plan`: pending scheduled
// notices of earlier versions cancelled when it says so, immediate notices
// queued in the outbox (and the relay woken), later ones scheduled.
// Defined in pg_store.cc; the scheduler closes incidents with it too.
void CommitVersion(pqxx::work& tx, const std::string& id, Change change, const NoticePlan& plan, absl::Time now,
                   const ChangeAudit& audit);

// A fixed-size pool of connections, created lazily and replaced when
// broken, so services recover by themselves after a database restart. One
// pool serves all the Postgres adapters of a process (PgDatabase).
class PgPool {
 public:
  // Named statements (name, SQL) for the hot paths, run with Exec/Exec1.
  // In session mode they are prepared on every connection (parsed and
  // planned once per connection instead of on every call); in transaction
  // mode (a pooler shares server connections between clients, see
  // PgPooling) nothing is prepared and Exec sends the same SQL text as an
  // unnamed statement.
  using Prepared = std::vector<std::pair<std::string, std::string>>;
  PgPool(PgEndpoint db, int size, Prepared prepared = {}) : db_(std::move(db)), size_(size) {
    AddPrepared(std::move(prepared));
  }

  // Adds named statements (an adapter sharing the pool adds its own); a
  // name already known is kept as it is. Connections made earlier prepare
  // them the next time they are used.
  void AddPrepared(Prepared prepared);

  // Runs `fn` with a connection; maps libpqxx exceptions to absl::Status.
  // `fn` must not call Run of the same pool (it could wait for itself).
  absl::Status Run(const std::function<absl::Status(pqxx::connection&)>& fn);
  // The single number a "SELECT count(*) ..." without parameters returns.
  absl::StatusOr<int64_t> Count(const char* sql);

  // Runs the statement `name` of the Prepared list in `tx`, with `args` as
  // its parameters: tx.exec_prepared in session mode, tx.exec_params with
  // its SQL in transaction mode. An unknown name throws
  // pqxx::argument_error (a programming error, like an unknown prepared
  // statement).
  template <typename... Args>
  pqxx::result Exec(pqxx::transaction_base& tx, const std::string& name, const Args&... args) const {
    if (prepares()) return tx.exec_prepared(name, args...);
    return tx.exec_params(Sql(name), args...);
  }
  // Exec for a statement that returns exactly one row (pqxx::unexpected_rows
  // otherwise).
  template <typename... Args>
  pqxx::row Exec1(pqxx::transaction_base& tx, const std::string& name, const Args&... args) const {
    if (prepares()) return tx.exec_prepared1(name, args...);
    return tx.exec_params1(Sql(name), args...);
  }

  // Whether the Prepared statements are prepared (session mode).
  bool prepares() const { return db_.pooling == PgPooling::kSession; }
  const std::string& uri() const { return db_.uri; }
  const PgEndpoint& endpoint() const { return db_; }
  int size() const { return size_; }

 private:
  // A connection and how many of prepared_ it has prepared.
  struct Conn {
    std::unique_ptr<pqxx::connection> c;
    size_t prepared = 0;
  };
  std::string Sql(const std::string& name) const;
  // Prepares on `conn` the statements added since it last did.
  void PrepareMissing(Conn& conn);

  PgEndpoint db_;
  int size_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  Prepared prepared_;  // append-only, guarded by mu_
  int created_ = 0;
  std::vector<Conn> idle_;
};

// Maps an exception thrown by libpqxx to a status; the message names the
// operation ("create incident: ...").
absl::Status StatusFromException(const std::string& op);

// The partition key of an incident's ledger rows, as migration 14's
// forewarn_incident_epoch(uuid) computes it: the Unix milliseconds of a
// UUIDv7 id, 0 for any other id (the v4 ids of incidents from before it).
// Computed here for the hot statements, so PostgreSQL spends nothing per row
// on it and prunes each key to its one partition.
int64_t IncidentEpoch(std::string_view incident_id);

// Notice keys as six parallel statement parameters (uuid[], bigint[],
// text[], text[], bigint[], text[]), and their incidents' partition keys
// (bigint[], a seventh where a statement needs it).
struct KeyArrays {
  std::vector<std::string> ids, kinds, occasions, channels;
  std::vector<int64_t> versions, customers, epochs;
  void Add(const NoticeKey& k) {
    ids.push_back(k.incident_id);
    epochs.push_back(IncidentEpoch(k.incident_id));
    versions.push_back(k.version);
    kinds.push_back(ToString(k.kind));
    occasions.push_back(k.occasion);
    customers.push_back(k.customer_id);
    channels.push_back(ToString(k.channel));
  }
};

int64_t ToMicros(absl::Time t);
absl::Time FromMicros(int64_t us);
// A Postgres array literal of text values, each quoted and escaped.
std::string TextArray(const std::vector<std::string>& values);
template <typename Int>
std::string IntArray(const std::vector<Int>& values) {
  std::string out = "{";
  for (size_t i = 0; i < values.size(); ++i) {
    if (i) out += ',';
    out += std::to_string(values[i]);
  }
  out += '}';
  return out;
}
std::string BoolArray(const std::vector<bool>& values);  // "{t,f}"
std::vector<std::string> SplitCodes(const std::string& joined);

}  // namespace forewarn::pg
