#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/time/time.h"
#include "services/core/ports.h"
#include "services/pg/pg_pooling.h"

namespace forewarn::pg {
class PgPool;
class PgReads;
}

namespace forewarn {

// Where a read that may go to a streaming replica was served (metrics).
enum class PgReadRoute {
  kReplica,         // the replica had replayed the primary's WAL position
  kPrimaryLagging,  // it had not within PgReadOptions::max_lag
  kPrimaryFailed,   // the replica could not be asked (down, or an error)
};
const char* ToString(PgReadRoute route);  // "replica", "primary_lagging", "primary_failed"

struct PgReadOptions {
  // How long a read waits for the replica to replay what the primary had
  // written when it started, before it reads from the primary instead.
  absl::Duration max_lag = absl::Seconds(5);
  // Called once per routed read (e.g. a counter per route); may be empty.
  std::function<void(PgReadRoute)> on_route;
};

// Start-up check of a --pg-read server: OK when it accepts connections and
// is a standby in recovery with hot standby (pg_is_in_recovery()),
// FAILED_PRECONDITION when it is a primary, UNAVAILABLE when it cannot be
// reached; the message names `flag`.
absl::Status CheckReadReplica(const std::string& uri, const char* flag);

// The connection pool a process's Postgres adapters share: at most
// `pool_size` connections to `db`, made on demand and replaced when broken.
// Copies share the pool; each adapter keeps a copy. A bare URI means session
// mode and a pool of its own (tests, tools). PgOutboxSource keeps one
// dedicated connection besides (it holds a LISTEN registration and a lease).
class PgDatabase {
 public:
  static constexpr int kDefaultPoolSize = 4;
  PgDatabase(PgEndpoint db, int pool_size = kDefaultPoolSize);  // NOLINT: implicit by design
  PgDatabase(const std::string& uri) : PgDatabase(PgEndpoint(uri)) {}  // NOLINT
  PgDatabase(const char* uri) : PgDatabase(PgEndpoint(uri)) {}  // NOLINT

  const PgEndpoint& endpoint() const;
  // For the adapters in services/pg.
  const std::shared_ptr<pg::PgPool>& pool() const { return pool_; }
  const std::shared_ptr<pg::PgReads>& reads() const { return reads_; }

  // Sends the pure reads that tolerate no lag but need no write — the
  // resolver's audience stream, the preview's counts, delivery reports,
  // completeness without re-drive, proof of notice — to `replica` (a
  // streaming standby of this database, at most `pool_size` connections)
  // once it has replayed what the primary had written when the read
  // started; see PgReadOptions. Call before the adapters are made; every
  // copy of this PgDatabase shares it. Everything else stays on the primary.
  void SetReadReplica(PgEndpoint replica, int pool_size, PgReadOptions options);

 private:
  std::shared_ptr<pg::PgPool> pool_;
  std::shared_ptr<pg::PgReads> reads_;
};

// Applies the versioned migrations in services/pg/migrations that are not yet
// applied, each in its own transaction, under a transaction-scoped advisory
// lock so concurrent service starts do not race (fine behind a transaction
// pooler too). `up_to`: the last version to apply (tests of a migration
// build the database as the version before it left it).
absl::Status ApplyMigrations(const std::string& uri, int up_to = std::numeric_limits<int>::max());

// Incidents, their immutable version history and the transactional outbox.
class PgIncidentStore final : public IncidentStore, public IncidentReader {
 public:
  explicit PgIncidentStore(PgDatabase db);
  ~PgIncidentStore() override;

  absl::StatusOr<Incident> Create(const NewIncident& req, absl::Time now,
                                  const std::function<NoticePlan(const Incident&)>& plan,
                                  const ChangeAudit& audit = {}) override;
  absl::StatusOr<Incident> Update(const IncidentUpdate& req, absl::Time now, const NoticePlan& plan,
                                  const ChangeAudit& audit = {}) override;
  absl::StatusOr<Incident> Resolve(const std::string& id, int64_t expected_version, absl::Time now,
                                   const NoticePlan& plan, const ChangeAudit& audit = {}) override;
  absl::StatusOr<Incident> Cancel(const std::string& id, int64_t expected_version, absl::Time now,
                                  const NoticePlan& plan, const ChangeAudit& audit = {}) override;
  absl::StatusOr<std::vector<IncidentChangeRecord>> History(const std::string& id) override;
  absl::StatusOr<Completeness> CheckCompleteness(const std::string& id, int max_listed, absl::Time now,
                                                 const RedriveDecision& redrive = {}) override;
  // Outbox rows not yet published to Kafka (the relay's backlog), for metrics.
  absl::StatusOr<int64_t> UnpublishedOutboxCount();
  absl::StatusOr<std::map<std::string, int64_t>> CurrentVersions(const std::vector<std::string>& ids) override;
  absl::StatusOr<Incident> Get(const std::string& id) override;
  absl::StatusOr<std::string> IdForRef(const std::string& ref) override;
  absl::StatusOr<Incident> GetVersion(const std::string& id, int64_t version) override;
  absl::StatusOr<IncidentPage> List(const ListFilter& filter) override;
  absl::StatusOr<DeliveryReport> Report(const std::string& id, int max_failures) override;

 private:
  absl::StatusOr<Incident> Close(const std::string& id, int64_t expected_version, absl::Time now, Change change,
                                 const NoticePlan& plan, const ChangeAudit& audit);
  std::shared_ptr<pg::PgPool> pool_;
  std::shared_ptr<pg::PgReads> reads_;  // Report, CheckCompleteness without re-drive
};

struct PgOutboxOptions {
  // Relay leadership lease: the leader renews it every third of this and
  // stops relaying as soon as a renewal fails or this has passed since its
  // last successful renewal was sent; a crashed leader's successor waits at
  // most this long.
  absl::Duration lease = absl::Seconds(10);
  // Transaction pooling only (no LISTEN/NOTIFY there): how often to look
  // for new outbox rows when idle.
  absl::Duration poll_interval = absl::Milliseconds(250);
  std::string holder;  // this relay's name in `leases`; default host:pid:random
  std::function<std::chrono::steady_clock::time_point()> monotonic;  // tests; default steady_clock
};

// The outbox relay's view: one leader at a time (a lease row, so it holds
// behind any connection pooler), so events leave in commit order even with
// several intake replicas. Woken by LISTEN/NOTIFY in session mode, polls in
// transaction mode.
class PgOutboxSource final : public OutboxSource {
 public:
  explicit PgOutboxSource(PgEndpoint db, PgOutboxOptions options = {});
  // Releases the lease (a clean stop hands leadership over at once).
  ~PgOutboxSource() override;

  // Empty unless this relay holds the lease (acquired or renewed here).
  absl::StatusOr<std::vector<IncidentEvent>> FetchUnpublished(int limit) override;
  absl::Status MarkPublished(const std::vector<int64_t>& outbox_ids) override;
  absl::Status WaitForNew(absl::Duration max) override;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Streams affected customers through a server-side cursor.
class PgAudienceSource final : public AudienceSource {
 public:
  explicit PgAudienceSource(PgDatabase db, int fetch_size = 5000);
  ~PgAudienceSource() override;
  absl::Status Stream(const AudienceQuery& query, const std::function<absl::Status(const Recipient&)>& fn) override;
  absl::StatusOr<AudienceSize> Size(IncidentKind kind, const std::vector<std::string>& services,
                                    const Targets& targets) override;

 private:
  std::shared_ptr<pg::PgReads> reads_;  // both reads may go to a replica
  int fetch_size_;
};

// How a notifier holds what it has in flight (see NoticeLedger::Claim).
struct LedgerLease {
  // This process, unique among all workers ever (host, pid, random).
  std::string owner;
  // A lease not renewed for this long may be taken over. Longer than any
  // pause a worker should survive without duplicates (a VM stall, a
  // SIGSTOP); after a crash, the dead worker's in-flight notices wait this
  // long. Renewed when a third of it has passed; a send is started only
  // while two thirds of it remain, as measured locally.
  absl::Duration duration = absl::Seconds(60);
};
// A fresh owner name for this process.
std::string NewLeaseOwner();

class PgNoticeLedger final : public NoticeLedger, public DeadLetterLedger {
 public:
  explicit PgNoticeLedger(PgDatabase db, LedgerLease lease = {});
  ~PgNoticeLedger() override;
  absl::StatusOr<std::vector<Claimed>> Claim(const std::vector<ClaimRequest>& requests, absl::Time now) override;
  absl::StatusOr<bool> Fence(const NoticeKey& key) override;
  absl::Status Record(const std::vector<Outcome>& outcomes, absl::Time now) override;
  absl::Status Hold(const std::vector<std::pair<NoticeJob, absl::Time>>& jobs, absl::Time now) override;
  absl::StatusOr<std::vector<bool>> AreDead(const std::vector<NoticeKey>& keys) override;
  absl::StatusOr<int64_t> CountDead() override;

  // How an in-flight batch names a notice (FNV-1a 64; stored, so stable).
  static int64_t KeyHash(const NoticeKey& key);
  // The claim's probes of existing rows (any keys: $1..$6 the keys, $7
  // their incidents' epochs; one notice's: $1 epoch, $2 incident, $3 the
  // customers, $4 version, $5 kind, $6 occasion) and the settings of the
  // ledger's transactions, for tests that EXPLAIN the probes as the ledger
  // runs them.
  static const char* ClaimLookupSql();
  static const char* ClaimLookupOneNoticeSql();
  static const char* TransactionSettingsSql();

 private:
  using Steady = std::chrono::steady_clock;
  // A key claimed, until Record or Hold settles it.
  struct Pending {
    int64_t batch = 0;       // its notice_inflight row
    int claims = 1;          // 2 when an earlier claim had left it in flight
    int64_t claimed_at = 0;  // microseconds since the epoch
    bool fresh = true;       // no ledger row yet (else a re-claimed row)
  };
  // One notice_inflight row of this process.
  struct Batch {
    size_t open = 0;         // its keys not settled yet
    Steady::time_point renewed;  // taken before the request that granted or renewed it
  };
  struct ClaimTx;   // what one claim transaction decided
  struct HeldRows;  // Hold's held_notices rows, written with the outcomes
  struct Settlement;  // what one Settle writes
  absl::Status RunClaim(const std::vector<ClaimRequest>& requests, absl::Time now, ClaimTx& out);
  void Remember(const std::vector<ClaimRequest>& requests, const ClaimTx& tx, absl::Time now, Steady::time_point t);
  absl::StatusOr<bool> Renew(int64_t batch, int64_t hash, Steady::time_point started);
  void Forget(int64_t batch, const std::vector<int64_t>& kept);
  // Records `outcomes` (and `held`) and takes their keys out of flight:
  // PlanSettlement, WriteSettlement, ForgetSettled.
  absl::Status Settle(const std::vector<Outcome>& outcomes, absl::Time now, const HeldRows* held);
  Settlement PlanSettlement(const std::vector<Outcome>& outcomes, absl::Time now);
  absl::Status WriteSettlement(const Settlement& s, const HeldRows* held, absl::Time now, bool fast);
  void ForgetSettled(const Settlement& s);

  std::shared_ptr<pg::PgPool> pool_;
  LedgerLease lease_;
  std::mutex mu_;
  // By KeyHash: a collision can only send a settlement down the slower,
  // careful path (see Settle).
  absl::flat_hash_map<int64_t, Pending> pending_;  // one entry per notice in flight
  std::unordered_map<int64_t, Batch> batches_;
};

// forewarn-scheduler's view: releases due scheduled notices into the
// outbox and closes maintenance on schedule, as ScheduledReleases decides.
class PgNoticeScheduler final : public NoticeScheduler {
 public:
  explicit PgNoticeScheduler(PgDatabase db);
  ~PgNoticeScheduler() override;
  absl::StatusOr<int> ReleaseDue(absl::Time now, int limit, const DueNoticeDecision& decide) override;

 private:
  std::shared_ptr<pg::PgPool> pool_;
};

class PgHeldNotices final : public HeldNotices {
 public:
  explicit PgHeldNotices(PgDatabase db);
  ~PgHeldNotices() override;
  absl::StatusOr<std::vector<Held>> FetchDue(absl::Time now, int limit) override;
  absl::Status MarkReleased(const std::vector<Held>& released, absl::Time now) override;

 private:
  std::shared_ptr<pg::PgPool> pool_;
};

}  // namespace forewarn
