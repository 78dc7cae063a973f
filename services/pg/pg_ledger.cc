#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <map>
#include <optional>
#include <random>
#include <string_view>
#include <unordered_set>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "services/core/fnv.h"
#include "services/pg/pg_pool.h"
#include "services/pg/pg_store.h"

namespace forewarn {
namespace {

// A claim, one transaction. A fan-out's keys are new: for them the common
// path is one read-only probe per key and one in-flight row per batch (the
// keys' hashes); the ledger row is written once, with its outcome, by
// Record. Two row writes per notice (a claimed row, then its update) were
// most of the fan-out's database time (bench/, README).
// 1. The rows that exist, by position in the batch (also AreDead's query).
// Every ledger statement names each key's partition ($7 and the like: the
// incident's epoch, migration 14), so PostgreSQL probes one partition per
// key and not every month's. Each key is one descent of the primary key:
// the LATERAL subquery with OFFSET 0 keeps the planner from joining the
// arrays to a whole scan of the incident's rows instead, which it chose
// whenever the partition's statistics were stale (a fan-out's own rows are
// newer than any ANALYZE) or said the incident had many rows: 85-110 ms a
// claim of 5000 keys instead of 5-11 (EXPLAIN ANALYZE, README).
constexpr char kClaimLookup[] =
    "SELECT k.ord, l.state, l.delivery_attempts FROM unnest($1::uuid[], $2::bigint[], $3::text[], $4::text[], "
    "  $5::bigint[], $6::text[], $7::bigint[]) WITH ORDINALITY AS k(iid, ver, kind, occ, cid, ch, ep, ord), "
    "LATERAL (SELECT l.state, l.delivery_attempts FROM notice_ledger l WHERE l.incident_epoch = k.ep "
    "  AND l.incident_id = k.iid AND l.incident_version = k.ver AND l.notice_kind = k.kind AND l.occasion = k.occ "
    "  AND l.customer_id = k.cid AND l.channel = k.ch OFFSET 0) AS l";
// The same for the common claim, a fan-out's: every key of one incident
// version, notice kind and occasion, so one partition, pruned once per
// statement rather than per key, and one array parsed instead of seven.
constexpr char kClaimLookupOneNotice[] =
    "SELECT k.cid, l.channel FROM unnest($3::bigint[]) AS k(cid), "
    "LATERAL (SELECT l.channel FROM notice_ledger l WHERE l.incident_epoch = $1 AND l.incident_id = $2 "
    "  AND l.customer_id = k.cid AND l.incident_version = $4 AND l.notice_kind = $5 AND l.occasion = $6 "
    "  OFFSET 0) AS l";
// 2. Batches in flight for the same incidents: normally other workers'
// current batches (other keys). One that names keys of this claim is either
// live (its owner renews it: those keys are busy) or expired, or this
// process's own (a batch retried in place): those keys are taken over.
#define FW_INFLIGHT_ROWS \
  "SELECT id, key_hashes, owner = $2 AS mine, lease_until > clock_timestamp() AS live FROM notice_inflight "
constexpr char kInflightLookup[] = FW_INFLIGHT_ROWS "WHERE incident_ids && $1::uuid[]";
// The batches a claim would adopt, locked and read again (see
// ConfirmAdoption): a renewal is seen, not overtaken.
constexpr char kInflightRelock[] = FW_INFLIGHT_ROWS "WHERE id = ANY($1::bigint[]) FOR UPDATE";
#undef FW_INFLIGHT_ROWS
// Claims of one incident are serialised (transaction-scoped, so it holds
// behind a transaction-pooling pgbouncer too): two workers never both find
// the same key free.
constexpr char kLockIncidents[] =
    "SELECT pg_advisory_xact_lock(k) FROM (SELECT DISTINCT hashtextextended(i::text, 7) AS k "
    "  FROM unnest($1::uuid[]) AS i ORDER BY 1) AS s";
// Takes hashes ($2) out of in-flight batches ($1): those of this batch are
// this claim's now, or settled. Then a batch left with none is deleted (a
// second statement: one statement cannot change a row twice).
constexpr char kInflightSubtract[] =
    "UPDATE notice_inflight f SET key_hashes = "
    "  ARRAY(SELECT h FROM unnest(f.key_hashes) h EXCEPT SELECT unnest($2::bigint[])) "
    "WHERE f.id = ANY($1::bigint[])";
constexpr char kInflightDropEmpty[] =
    "DELETE FROM notice_inflight WHERE id = ANY($1::bigint[]) AND cardinality(key_hashes) = 0";
// 3. This claim's keys, in flight under this owner's lease until Record or
// Hold settles them.
constexpr char kInflightInsert[] =
    "INSERT INTO notice_inflight (incident_ids, key_hashes, started_at, owner, lease_until) "
    "VALUES ($1::uuid[], $2::bigint[], " FW_AT("$3") ", $4, clock_timestamp() + $5::bigint * interval '1 microsecond') "
    "RETURNING id";
// The owner renews its lease; the keys still in it come back (another
// worker may have taken some over after it expired). No row: all lost.
constexpr char kInflightRenew[] =
    "UPDATE notice_inflight SET lease_until = clock_timestamp() + $3::bigint * interval '1 microsecond' "
    "WHERE id = $1 AND owner = $2 RETURNING key_hashes";
constexpr char kInflightDone[] = "DELETE FROM notice_inflight WHERE id = ANY($1::bigint[])";
// 4. Existing open rows (not busy) are claimed again: claimed earlier but never
// finished (a worker died mid-send), held, or retrying when this copy of the
// job is the latest ($8; an older copy waits). SENT, FAILED, SUPERSEDED and
// DEAD rows stay as they are.
constexpr char kReclaim[] =
    "UPDATE notice_ledger AS l SET state = 'claimed', attempts = l.attempts + 1, claimed_at = " FW_AT("$7") ", "
    "  updated_at = " FW_AT("$7") " "
    "FROM unnest($1::uuid[], $2::bigint[], $3::text[], $4::text[], $5::bigint[], $6::text[], $8::int[], "
    "  $9::bigint[], $10::bigint[]) AS k(iid, ver, kind, occ, cid, ch, att, ord, ep) "
    "WHERE l.incident_epoch = k.ep AND l.incident_id = k.iid AND l.incident_version = k.ver AND l.notice_kind = k.kind "
    "  AND l.occasion = k.occ AND l.customer_id = k.cid AND l.channel = k.ch "
    "  AND (l.state IN ('claimed', 'held') OR (l.state = 'retrying' AND k.att >= l.delivery_attempts)) "
    "RETURNING k.ord, l.attempts";

// A dead-letter replay re-opens its DEAD rows (in the claim's transaction).
constexpr char kRevive[] =
    "WITH r AS ("
    "  UPDATE notice_ledger AS l SET state = 'claimed', delivery_attempts = 0, updated_at = " FW_AT("$7") " "
    "  FROM unnest($1::uuid[], $2::bigint[], $3::text[], $4::text[], $5::bigint[], $6::text[], $8::bigint[]) "
    "    AS k(iid, ver, kind, occ, cid, ch, ep) "
    "  WHERE l.incident_epoch = k.ep AND l.incident_id = k.iid AND l.incident_version = k.ver "
    "    AND l.notice_kind = k.kind AND l.occasion = k.occ AND l.customer_id = k.cid AND l.channel = k.ch "
    "    AND l.state = 'dead' "
    "  RETURNING l.incident_id, l.incident_version, l.notice_kind, l.occasion, l.customer_id, l.channel, "
    "    l.incident_epoch) "
    "DELETE FROM dead_notices d USING r WHERE d.incident_epoch = r.incident_epoch AND d.incident_id = r.incident_id "
    "  AND d.incident_version = r.incident_version AND d.notice_kind = r.notice_kind "
    "  AND d.occasion = r.occasion AND d.customer_id = r.customer_id AND d.channel = r.channel";

// Notices just marked DEAD join the dead-letter queue's count.
constexpr char kAddDead[] =
    "INSERT INTO dead_notices (incident_id, incident_version, notice_kind, occasion, customer_id, channel, dead_at, "
    "  incident_epoch) "
    "SELECT k.iid, k.ver, k.kind, k.occ, k.cid, k.ch, " FW_AT("$7") ", k.ep "
    "FROM unnest($1::uuid[], $2::bigint[], $3::text[], $4::text[], $5::bigint[], $6::text[], $8::bigint[]) "
    "  AS k(iid, ver, kind, occ, cid, ch, ep) "
    "ON CONFLICT DO NOTHING";

constexpr char kCountDead[] = "SELECT count(*) FROM dead_notices";

// Every ledger transaction is a few statements sent back to back. One left
// idle (its worker stopped or stalled mid-transaction) would hold the
// incident's claim lock and its rows for as long as the pause lasts and stall
// every other worker's claims: the server ends it after this instead, and the
// stalled worker's statement fails and is retried. Transaction-local, so it
// holds behind a transaction pooler too.
//
// The ledger's statements find rows by primary key, key by key: a nested
// loop over the keys with an index probe each, which is also the one plan
// in which PostgreSQL prunes the partitions per key (at run time) and probes
// only the key's month. A hash or merge join reads every month's partition
// whole (chosen for a batch of keys while the ledger is small), and a month
// made ahead and analyzed while still empty (a manual ANALYZE) looks free to
// scan whole, a plan that, once cached, would scan it once per key as it
// fills. Both are ruled out in these transactions (in the round trip that
// sets the timeout; the plans are made, and cached, in them). Sequential
// scans only once a claim has read the in-flight batches: that table has no
// index for its look-up by incident, and a whole-index walk of its churned
// primary key instead cost 46 ms a claim (measured, bench --pg-stats).
#define FW_BOUND_IDLE_TRANSACTION \
  "SET LOCAL idle_in_transaction_session_timeout = '5s'; SET LOCAL enable_hashjoin = off; " \
  "SET LOCAL enable_mergejoin = off"
constexpr char kBoundIdleTransaction[] = FW_BOUND_IDLE_TRANSACTION;
constexpr char kNoSeqScan[] = "SET LOCAL enable_seqscan = off";
constexpr char kBoundLedgerTransaction[] = FW_BOUND_IDLE_TRANSACTION "; SET LOCAL enable_seqscan = off";
#undef FW_BOUND_IDLE_TRANSACTION

// Settling: a key that was new when claimed gets its one ledger row here;
// an existing (re-claimed) row is updated while it is still claimed.
#define FW_OUTCOME_ARRAYS                                                                               \
  "unnest($1::uuid[], $2::bigint[], $3::text[], $4::text[], $5::bigint[], $6::text[], $7::text[], " \
  "  $8::text[], $9::text[], $11::int[], $12::int[], $13::bigint[], $14::bigint[], $15::bigint[], "   \
  "  $16::bigint[]) AS u(iid, ver, kind, occ, cid, ch, state, pid, err, att, claims, cat, dl, due, ep) "
#define FW_INSERT_OUTCOMES                                                                                    \
  "INSERT INTO notice_ledger (incident_id, incident_version, notice_kind, occasion, customer_id, channel, "  \
  "  state, provider_id, error, claimed_at, updated_at, attempts, delivery_attempts, deadline_at, "           \
  "  receipt_due_at, incident_epoch) "                                                                         \
  "SELECT u.iid, u.ver, u.kind, u.occ, u.cid, u.ch, u.state, nullif(u.pid, ''), nullif(u.err, ''), "        \
  "  " FW_AT("u.cat") ", " FW_AT("$10") ", u.claims, u.att, " FW_AT("nullif(u.dl, 0)") ", "                 \
  "  " FW_AT("nullif(u.due, 0)") ", u.ep FROM " FW_OUTCOME_ARRAYS
// A key whose row another worker wrote meanwhile keeps that row (new keys
// are otherwise written by COPY: CopyFresh).
constexpr char kRecordInsertIfAbsent[] = FW_INSERT_OUTCOMES "ON CONFLICT DO NOTHING";
constexpr char kRecordUpdate[] =
    "UPDATE notice_ledger AS l SET state = u.state, provider_id = nullif(u.pid, ''), error = nullif(u.err, ''), "
    "  updated_at = " FW_AT("$10") ", deadline_at = " FW_AT("nullif(u.dl, 0)") ", "
    "  receipt_due_at = " FW_AT("nullif(u.due, 0)") ", "
    "  delivery_attempts = CASE WHEN u.state IN ('retrying', 'dead') THEN u.att ELSE l.delivery_attempts END "
    "FROM " FW_OUTCOME_ARRAYS
    "WHERE l.incident_epoch = u.ep AND l.incident_id = u.iid AND l.incident_version = u.ver "
    "  AND l.notice_kind = u.kind AND l.occasion = u.occ AND l.customer_id = u.cid AND l.channel = u.ch "
    "  AND l.state = 'claimed'";
#undef FW_INSERT_OUTCOMES
#undef FW_OUTCOME_ARRAYS

// Parks notices until the customer's window opens; the scheduler re-releases
// them. Holding again (a duplicate delivery, or a worker whose clock is
// behind the scheduler's) moves release_at and counts a new hold, which the
// scheduler's release of an earlier one does not settle.
constexpr char kHold[] =
    "INSERT INTO held_notices (incident_id, version, notice_kind, occasion, customer_id, channel, address, "
    "  locale, time_zone, name, role, release_at) "
    "SELECT k.iid, k.ver, k.kind, k.occ, k.cid, k.ch, k.addr, k.loc, k.tz, k.nm, k.role, "
    "  'epoch'::timestamptz + k.rel * interval '1 microsecond' "
    "FROM unnest($1::uuid[], $2::bigint[], $3::text[], $4::text[], $5::bigint[], $6::text[], $7::text[], "
    "  $8::text[], $9::text[], $10::text[], $11::text[], $12::bigint[]) "
    "  AS k(iid, ver, kind, occ, cid, ch, addr, loc, tz, nm, role, rel) "
    "ON CONFLICT (incident_id, version, notice_kind, occasion, customer_id, channel) DO UPDATE "
    "  SET release_at = EXCLUDED.release_at, released_at = NULL, holds = held_notices.holds + 1";

using pg::KeyArrays;

// Outcomes as statement parameters ($1..$13 but $10, the time).
struct OutcomeArrays {
  KeyArrays keys;
  std::vector<std::string> states, provider_ids, errors;
  std::vector<int> attempts, claims;
  std::vector<int64_t> claimed_at;
  std::vector<int64_t> deadlines, receipt_dues;  // microseconds; 0: none
  void Add(const NoticeLedger::Outcome& o, int claim_count, int64_t claimed_at_us) {
    deadlines.push_back(o.deadline ? pg::ToMicros(*o.deadline) : 0);
    receipt_dues.push_back(o.receipt_due ? pg::ToMicros(*o.receipt_due) : 0);
    keys.Add(o.key);
    states.emplace_back(ToString(o.state));
    provider_ids.push_back(o.provider_id);
    errors.push_back(o.error);
    attempts.push_back(o.attempts);
    claims.push_back(claim_count);
    claimed_at.push_back(claimed_at_us);
  }
  // `pool`: run the pool's statement named `name_or_sql`; nullptr: run the SQL itself.
  void Exec(pqxx::work& tx, const char* name_or_sql, const pg::PgPool* pool, int64_t now_us) const {
    auto run = [&](auto&&... args) {
      return pool ? pool->Exec(tx, name_or_sql, args...) : tx.exec_params(name_or_sql, args...);
    };
    run(pg::TextArray(keys.ids), pg::IntArray(keys.versions), pg::TextArray(keys.kinds), pg::TextArray(keys.occasions),
        pg::IntArray(keys.customers), pg::TextArray(keys.channels), pg::TextArray(states), pg::TextArray(provider_ids),
        pg::TextArray(errors), now_us, pg::IntArray(attempts), pg::IntArray(claims), pg::IntArray(claimed_at),
        pg::IntArray(deadlines), pg::IntArray(receipt_dues), pg::IntArray(keys.epochs));
  }
};

// COPY's text form of timestamps given in microseconds, remembering the last
// one: a batch's rows mostly share their claim time, record time and deadline.
class CopyTime {
 public:
  const char* Text(int64_t us) {
    if (us == 0) return nullptr;  // NULL
    if (text_.empty() || us != us_) {
      us_ = us;
      text_ = absl::FormatTime("%Y-%m-%d %H:%M:%E6S+00", pg::FromMicros(us), absl::UTCTimeZone());
    }
    return text_.c_str();
  }

 private:
  int64_t us_ = 0;
  std::string text_;
};

// New keys' rows through COPY: measured 5.2 against 8.4 microseconds of the
// server's time per row for INSERT ... SELECT FROM unnest() of the same rows
// (the function scan materialises every array). A row another worker wrote
// meanwhile fails the whole COPY (unique violation: ALREADY_EXISTS), and the
// settlement is written again the careful way.
void CopyFresh(pqxx::work& tx, const OutcomeArrays& a, int64_t now_us) {
  static const std::vector<std::string> kColumns = {
      "incident_id", "incident_version", "notice_kind", "occasion", "customer_id", "channel", "state",
      "provider_id", "error", "claimed_at", "updated_at", "attempts", "delivery_attempts", "deadline_at",
      "receipt_due_at", "incident_epoch"};
  pqxx::stream_to copy(tx, "notice_ledger", kColumns);
  CopyTime claimed, now, deadline, due;
  const char* now_text = now.Text(now_us);
  auto nullable = [](const std::string& v) { return v.empty() ? nullptr : v.c_str(); };
  for (size_t i = 0; i < a.keys.ids.size(); ++i) {
    copy << std::make_tuple(a.keys.ids[i], a.keys.versions[i], a.keys.kinds[i], a.keys.occasions[i],
                            a.keys.customers[i], a.keys.channels[i], a.states[i], nullable(a.provider_ids[i]),
                            nullable(a.errors[i]), claimed.Text(a.claimed_at[i]), now_text, a.claims[i],
                            a.attempts[i], deadline.Text(a.deadlines[i]), due.Text(a.receipt_dues[i]),
                            a.keys.epochs[i]);
  }
  copy.complete();
}

void Subtract(pqxx::work& tx, const std::vector<int64_t>& batches, const std::vector<int64_t>& hashes) {
  tx.exec_params(kInflightSubtract, pg::IntArray(batches), pg::IntArray(hashes));
  tx.exec_params(kInflightDropEmpty, pg::IntArray(batches));
}

// Parses a bigint[] in text form ("{1,-2,3}").
std::vector<int64_t> ParseBigintArray(const char* text) {
  std::vector<int64_t> out;
  const char* p = text;
  if (*p == '{') ++p;
  while (*p && *p != '}') {
    char* end = nullptr;
    out.push_back(std::strtoll(p, &end, 10));
    if (end == p) break;
    p = *end == ',' ? end + 1 : end;
  }
  return out;
}

// This claim's keys in other in-flight batches: busy under another owner's
// live lease; else taken over (an expired lease) or this process's own (a
// batch retried in place), their batches adopted once confirmed.
struct Overlap {
  std::unordered_set<int64_t> busy, taken_over;
  std::map<int64_t, std::vector<int64_t>> adoptable;  // batch id -> this claim's keys in it
  std::vector<int64_t> adopted;
};
Overlap FindOverlap(pqxx::work& tx, const pg::PgPool& pool, const std::vector<std::string>& incidents,
                    const std::string& owner, const std::unordered_set<int64_t>& batch) {
  Overlap out;
  for (const auto& r : pool.Exec(tx, "ledger_inflight_lookup", pg::TextArray(incidents), owner)) {
    const bool mine = r[2].as<bool>(), live = r[3].as<bool>();
    std::vector<int64_t> keys;
    for (int64_t h : ParseBigintArray(r[1].c_str())) {
      if (!batch.contains(h)) continue;
      keys.push_back(h);
      if (!mine && live) out.busy.insert(h);
      if (!mine && !live) out.taken_over.insert(h);
    }
    if (!keys.empty() && (mine || !live)) out.adoptable[r[0].as<int64_t>()] = std::move(keys);
  }
  return out;
}

// The batches to adopt are locked and read again after the ledger rows were
// read. One whose owner renewed its lease meanwhile, or that was settled or
// changed meanwhile (its notices' rows may be newer than that read), is left
// alone: its notices are busy and come again. Locking only these (rarely
// any) keeps other workers' Records from waiting on a claim.
void ConfirmAdoption(pqxx::work& tx, const std::string& owner, Overlap& o) {
  if (o.adoptable.empty()) return;
  std::vector<int64_t> ids;
  for (const auto& [id, keys] : o.adoptable) ids.push_back(id);
  std::map<int64_t, std::unordered_set<int64_t>> now;  // still adoptable: id -> its keys
  for (const auto& r : tx.exec_params(kInflightRelock, pg::IntArray(ids), owner)) {
    if (r[2].as<bool>() || !r[3].as<bool>()) {
      const std::vector<int64_t> keys = ParseBigintArray(r[1].c_str());
      now[r[0].as<int64_t>()] = std::unordered_set<int64_t>(keys.begin(), keys.end());
    }
  }
  for (const auto& [id, keys] : o.adoptable) {
    auto it = now.find(id);
    const bool unchanged = it != now.end() && std::all_of(keys.begin(), keys.end(),
                                                          [&](int64_t h) { return it->second.contains(h); });
    if (unchanged) {
      o.adopted.push_back(id);
      continue;
    }
    for (int64_t h : keys) {
      o.taken_over.erase(h);
      o.busy.insert(h);
    }
  }
}

// Whether every key is of the first key's incident version, kind and occasion.
bool OneNotice(const KeyArrays& all) {
  for (size_t i = 1; i < all.ids.size(); ++i) {
    if (all.ids[i] != all.ids[0] || all.versions[i] != all.versions[0] || all.kinds[i] != all.kinds[0] ||
        all.occasions[i] != all.occasions[0]) {
      return false;
    }
  }
  return !all.ids.empty();
}

// Which keys of the claim have a ledger row, by position.
std::vector<bool> ExistingRows(pqxx::work& tx, const pg::PgPool& pool, const KeyArrays& all) {
  std::vector<bool> exists(all.ids.size(), false);
  if (OneNotice(all)) {
    absl::flat_hash_map<std::pair<int64_t, std::string>, size_t> position;
    position.reserve(all.ids.size());
    for (size_t i = 0; i < all.ids.size(); ++i) position.try_emplace({all.customers[i], all.channels[i]}, i);
    for (const auto& r : pool.Exec(tx, "ledger_claim_lookup_one", all.epochs[0], all.ids[0],
                                   pg::IntArray(all.customers), all.versions[0], all.kinds[0], all.occasions[0])) {
      if (auto it = position.find(std::make_pair(r[0].as<int64_t>(), r[1].as<std::string>())); it != position.end()) {
        exists[it->second] = true;
      }
    }
    return exists;
  }
  for (const auto& r : pool.Exec(tx, "ledger_claim_lookup", pg::TextArray(all.ids), pg::IntArray(all.versions),
                                 pg::TextArray(all.kinds), pg::TextArray(all.occasions), pg::IntArray(all.customers),
                                 pg::TextArray(all.channels), pg::IntArray(all.epochs))) {
    exists[r[0].as<size_t>() - 1] = true;
  }
  return exists;
}

// Who sends what, by position: a key under another worker's live lease is
// busy; a key with no row is claimed new (a taken-over one counts as a second
// claim); an open row (claimed, held, retrying) is claimed again. Returns the
// hashes this claim now holds.
std::vector<int64_t> ClaimKeys(pqxx::work& tx, const std::vector<NoticeLedger::ClaimRequest>& requests,
                               const Overlap& overlap, const std::vector<bool>& exists, absl::Time now,
                               const std::vector<int64_t>& hashes, std::vector<NoticeLedger::Claimed>& claimed,
                               std::vector<bool>& fresh) {
  KeyArrays again;
  std::vector<int> again_attempts;
  std::vector<int64_t> again_index, claimed_hashes;
  for (size_t i = 0; i < requests.size(); ++i) {
    if (overlap.busy.contains(hashes[i])) {
      claimed[i].busy = true;
    } else if (!exists[i]) {
      claimed[i] = {true, false, overlap.taken_over.contains(hashes[i]) ? 2 : 1};
      fresh[i] = true;
      claimed_hashes.push_back(hashes[i]);
    } else {
      again.Add(requests[i].key);
      again_attempts.push_back(requests[i].attempt);
      again_index.push_back(static_cast<int64_t>(i));
    }
  }
  if (again.ids.empty()) return claimed_hashes;
  for (const auto& r : tx.exec_params(kReclaim, pg::TextArray(again.ids), pg::IntArray(again.versions),
                                      pg::TextArray(again.kinds), pg::TextArray(again.occasions),
                                      pg::IntArray(again.customers), pg::TextArray(again.channels), pg::ToMicros(now),
                                      pg::IntArray(again_attempts), pg::IntArray(again_index),
                                      pg::IntArray(again.epochs))) {
    const auto i = r[0].as<size_t>();
    claimed[i] = {true, false, r[1].as<int>()};
    claimed_hashes.push_back(hashes[i]);
  }
  return claimed_hashes;
}

}  // namespace

const char* PgNoticeLedger::ClaimLookupSql() { return kClaimLookup; }
const char* PgNoticeLedger::ClaimLookupOneNoticeSql() { return kClaimLookupOneNotice; }
const char* PgNoticeLedger::TransactionSettingsSql() { return kBoundLedgerTransaction; }

int64_t PgNoticeLedger::KeyHash(const NoticeKey& key) {
  // FNV-1a 64 over the key's fields (text terminated by 0xff, numbers as 8
  // bytes little-endian): stable, because it is stored.
  return static_cast<int64_t>(Fnv1a64()
                                  .Field(key.incident_id, 0xff)
                                  .Number(key.version)
                                  .Field(ToString(key.kind), 0xff)
                                  .Field(key.occasion, 0xff)
                                  .Number(key.customer_id)
                                  .Field(ToString(key.channel), 0xff)
                                  .value());
}

std::string NewLeaseOwner() {
  char host[256] = {};
  if (gethostname(host, sizeof(host) - 1) != 0) host[0] = '\0';
  std::random_device random;
  return absl::StrCat(host, "/", getpid(), "/", absl::Hex(uint64_t{random()} << 32 | random(), absl::kZeroPad16));
}

PgNoticeLedger::PgNoticeLedger(PgDatabase db, LedgerLease lease) : pool_(db.pool()), lease_(std::move(lease)) {
  pool_->AddPrepared({{"ledger_claim_lookup", kClaimLookup},
                      {"ledger_claim_lookup_one", kClaimLookupOneNotice},
                      {"ledger_inflight_lookup", kInflightLookup},
                      {"ledger_inflight_insert", kInflightInsert},
                      {"ledger_inflight_done", kInflightDone}});
  if (lease_.owner.empty()) lease_.owner = NewLeaseOwner();
}
PgNoticeLedger::~PgNoticeLedger() = default;

// What one claim transaction decided, by position in the request.
struct PgNoticeLedger::ClaimTx {
  std::vector<Claimed> claimed;
  std::vector<bool> fresh;  // claimed with no ledger row yet
  std::vector<int64_t> hashes;
  int64_t inflight_id = 0;  // this claim's notice_inflight row (0: nothing claimed)
};

absl::StatusOr<std::vector<NoticeLedger::Claimed>> PgNoticeLedger::Claim(const std::vector<ClaimRequest>& requests,
                                                                         absl::Time now) {
  ClaimTx out;
  const Steady::time_point started = Steady::now();  // the lease is granted after this
  if (auto s = RunClaim(requests, now, out); !s.ok()) return s;
  if (out.inflight_id != 0) Remember(requests, out, now, started);
  return std::move(out.claimed);
}

absl::Status PgNoticeLedger::RunClaim(const std::vector<ClaimRequest>& requests, absl::Time now, ClaimTx& out) {
  KeyArrays all, revive;
  std::vector<std::string> incidents;
  for (const auto& r : requests) {
    all.Add(r.key);
    out.hashes.push_back(KeyHash(r.key));
    if (r.revive) revive.Add(r.key);
    if (std::find(incidents.begin(), incidents.end(), r.key.incident_id) == incidents.end()) {
      incidents.push_back(r.key.incident_id);
    }
  }
  const std::unordered_set<int64_t> batch(out.hashes.begin(), out.hashes.end());
  return pool_->Run([&](pqxx::connection& c) -> absl::Status {
    out.claimed.assign(requests.size(), Claimed{});
    out.fresh.assign(requests.size(), false);
    out.inflight_id = 0;
    pqxx::work tx(c);
    tx.exec0(kBoundIdleTransaction);
    tx.exec_params(kLockIncidents, pg::TextArray(incidents));
    if (!revive.ids.empty()) {
      tx.exec_params(kRevive, pg::TextArray(revive.ids), pg::IntArray(revive.versions), pg::TextArray(revive.kinds),
                     pg::TextArray(revive.occasions), pg::IntArray(revive.customers), pg::TextArray(revive.channels),
                     pg::ToMicros(now), pg::IntArray(revive.epochs));
    }
    // In-flight batches first, then the ledger rows: a worker's Record
    // takes keys out of its batch and writes their rows in one transaction,
    // which can commit between two statements of this one (each sees what
    // was committed when it began). Read the other way round, a key
    // recorded in between would be in neither (no row yet, no longer in
    // flight) and sent again. This way it is in one of them: in flight if
    // that Record had not committed when the batches were read, else its
    // row is seen by the lookup after. Nothing is locked while the rows are
    // looked up, so Records never wait for a claim (they did, 2× the
    // database's CPU at 1M notices, when the batches were read FOR UPDATE).
    Overlap overlap = FindOverlap(tx, *pool_, incidents, lease_.owner, batch);
    tx.exec0(kNoSeqScan);
    const std::vector<bool> exists = ExistingRows(tx, *pool_, all);
    ConfirmAdoption(tx, lease_.owner, overlap);
    if (!overlap.adopted.empty()) Subtract(tx, overlap.adopted, out.hashes);
    const std::vector<int64_t> claimed_hashes =
        ClaimKeys(tx, requests, overlap, exists, now, out.hashes, out.claimed, out.fresh);
    if (!claimed_hashes.empty()) {
      out.inflight_id = pool_->Exec1(tx, "ledger_inflight_insert", pg::TextArray(incidents),
                                          pg::IntArray(claimed_hashes), pg::ToMicros(now), lease_.owner,
                                          absl::ToInt64Microseconds(lease_.duration))[0]
                            .as<int64_t>();
    }
    tx.commit();
    return absl::OkStatus();
  });
}

// Keeps what this process now holds, to settle and renew it.
void PgNoticeLedger::Remember(const std::vector<ClaimRequest>& requests, const ClaimTx& tx, absl::Time now,
                              Steady::time_point started) {
  std::lock_guard lock(mu_);
  const int64_t now_us = pg::ToMicros(now);
  Batch& b = batches_[tx.inflight_id];
  b.renewed = started;
  for (size_t i = 0; i < requests.size(); ++i) {
    if (!tx.claimed[i].send) continue;
    Pending p{tx.inflight_id, tx.claimed[i].claims, now_us, tx.fresh[i]};
    auto [it, inserted] = pending_.try_emplace(tx.hashes[i], p);
    if (!inserted) {
      if (it->second.batch == tx.inflight_id) continue;  // the same key twice in one claim
      // Claimed again before it was settled (a batch retried in place):
      // the claim took it out of its earlier batch.
      if (auto e = batches_.find(it->second.batch); e != batches_.end() && --e->second.open == 0) batches_.erase(e);
      p.claims = std::max(p.claims, it->second.claims);
      it->second = p;
    }
    ++b.open;
  }
}

absl::StatusOr<bool> PgNoticeLedger::Fence(const NoticeKey& key) {
  const int64_t hash = KeyHash(key);
  const Steady::time_point now = Steady::now();
  int64_t batch = 0;
  {
    std::lock_guard lock(mu_);
    auto p = pending_.find(hash);
    if (p == pending_.end()) return absl::FailedPreconditionError("fence: the notice was not claimed by this worker");
    batch = p->second.batch;
    auto b = batches_.find(batch);
    if (b == batches_.end()) return false;
    if (now - b->second.renewed < absl::ToChronoMicroseconds(lease_.duration / 3)) return true;
  }
  return Renew(batch, hash, now);
}

// Renews the lease of `batch`; whether `hash` is still in it. When the
// database cannot be reached the lease still holds for two thirds of its
// length from the last renewal, as measured here once the attempt failed
// (not when it began: the attempt itself may have taken long, e.g. a worker
// stopped mid-transaction, and the lease may have run out meanwhile).
absl::StatusOr<bool> PgNoticeLedger::Renew(int64_t batch, int64_t hash, Steady::time_point started) {
  std::optional<std::vector<int64_t>> kept;
  auto status = pool_->Run([&](pqxx::connection& c) -> absl::Status {
    pqxx::work tx(c);
    tx.exec0(kBoundIdleTransaction);
    auto rows = tx.exec_params(kInflightRenew, batch, lease_.owner, absl::ToInt64Microseconds(lease_.duration));
    kept.reset();
    if (!rows.empty()) kept = ParseBigintArray(rows[0][0].c_str());
    tx.commit();
    return absl::OkStatus();
  });
  if (!status.ok()) {
    std::lock_guard lock(mu_);
    auto b = batches_.find(batch);
    if (b != batches_.end() &&
        Steady::now() - b->second.renewed < absl::ToChronoMicroseconds(lease_.duration * 2 / 3)) {
      return true;
    }
    return absl::UnavailableError(absl::StrCat("lease of in-flight notices not confirmed: ", status.message()));
  }
  if (!kept) {
    Forget(batch, {});
    return false;
  }
  {
    std::lock_guard lock(mu_);
    if (auto b = batches_.find(batch); b != batches_.end()) b->second.renewed = started;
  }
  Forget(batch, *kept);
  return std::find(kept->begin(), kept->end(), hash) != kept->end();
}

// Drops what another worker took over from `batch` (all but `kept`).
void PgNoticeLedger::Forget(int64_t batch, const std::vector<int64_t>& kept) {
  const std::unordered_set<int64_t> keep(kept.begin(), kept.end());
  std::lock_guard lock(mu_);
  const size_t lost = absl::erase_if(
      pending_, [&](const auto& entry) { return entry.second.batch == batch && !keep.contains(entry.first); });
  auto b = batches_.find(batch);
  if (b == batches_.end()) return;
  b->second.open -= std::min(lost, b->second.open);
  if (keep.empty()) batches_.erase(b);
}

struct PgNoticeLedger::HeldRows {
  KeyArrays keys;
  std::vector<std::string> addresses, locales, zones, names, roles;
  std::vector<int64_t> release;
};

// What one Settle writes, worked out from this process's claims.
struct PgNoticeLedger::Settlement {
  // Keys claimed new get their ledger row now; the others (re-claimed
  // rows, or keys this process did not claim) are updated.
  OutcomeArrays fresh, other;
  KeyArrays dead;
  std::map<int64_t, std::vector<int64_t>> settled;  // in-flight batch -> hashes settled now
  // Batches whose keys are all settled leave the in-flight table; ones
  // settled in part lose the settled keys' hashes.
  std::vector<int64_t> done, partial, partial_hashes;
};

PgNoticeLedger::Settlement PgNoticeLedger::PlanSettlement(const std::vector<Outcome>& outcomes, absl::Time now) {
  Settlement s;
  std::lock_guard lock(mu_);
  for (const auto& o : outcomes) {
    const int64_t hash = KeyHash(o.key);
    if (auto it = pending_.find(hash); it != pending_.end()) {
      (it->second.fresh ? s.fresh : s.other).Add(o, it->second.claims, it->second.claimed_at);
      s.settled[it->second.batch].push_back(hash);
    } else {
      s.other.Add(o, 1, pg::ToMicros(now));
    }
    if (o.state == NoticeState::kDead) s.dead.Add(o.key);
  }
  for (const auto& [batch, hashes] : s.settled) {
    auto it = batches_.find(batch);
    if (it == batches_.end() || it->second.open <= hashes.size()) {
      s.done.push_back(batch);
    } else {
      s.partial.push_back(batch);
      s.partial_hashes.insert(s.partial_hashes.end(), hashes.begin(), hashes.end());
    }
  }
  return s;
}

// The fast path inserts the fresh keys' rows in one statement; it fails
// (ALREADY_EXISTS) on a row someone else settled meanwhile (a worker that
// took over this partition), and the caller then takes the careful path:
// a re-claimed row is updated while claimed, a key with no row is inserted,
// a row settled by someone else stays as it is.
absl::Status PgNoticeLedger::WriteSettlement(const Settlement& s, const HeldRows* held, absl::Time now, bool fast) {
  const int64_t now_us = pg::ToMicros(now);
  return pool_->Run([&](pqxx::connection& c) -> absl::Status {
    pqxx::work tx(c);
    tx.exec0(kBoundLedgerTransaction);
    if (held) {
      const KeyArrays& k = held->keys;
      tx.exec_params(kHold, pg::TextArray(k.ids), pg::IntArray(k.versions), pg::TextArray(k.kinds),
                     pg::TextArray(k.occasions), pg::IntArray(k.customers), pg::TextArray(k.channels),
                     pg::TextArray(held->addresses), pg::TextArray(held->locales), pg::TextArray(held->zones),
                     pg::TextArray(held->names), pg::TextArray(held->roles), pg::IntArray(held->release));
    }
    auto careful = [&](const OutcomeArrays& a) {
      if (a.keys.ids.empty()) return;
      a.Exec(tx, kRecordUpdate, nullptr, now_us);
      a.Exec(tx, kRecordInsertIfAbsent, nullptr, now_us);
    };
    if (!fast) {
      careful(s.fresh);
    } else if (!s.fresh.keys.ids.empty()) {
      CopyFresh(tx, s.fresh, now_us);
    }
    careful(s.other);
    if (!s.dead.ids.empty()) {
      tx.exec_params(kAddDead, pg::TextArray(s.dead.ids), pg::IntArray(s.dead.versions), pg::TextArray(s.dead.kinds),
                     pg::TextArray(s.dead.occasions), pg::IntArray(s.dead.customers), pg::TextArray(s.dead.channels),
                     now_us, pg::IntArray(s.dead.epochs));
    }
    if (!s.done.empty()) pool_->Exec(tx, "ledger_inflight_done", pg::IntArray(s.done));
    if (!s.partial.empty()) Subtract(tx, s.partial, s.partial_hashes);
    tx.commit();
    return absl::OkStatus();
  });
}

// Takes the settled keys out of this process's claims.
void PgNoticeLedger::ForgetSettled(const Settlement& s) {
  std::lock_guard lock(mu_);
  for (const auto& [batch, hashes] : s.settled) {
    for (int64_t hash : hashes) pending_.erase(hash);
    if (auto it = batches_.find(batch); it != batches_.end()) it->second.open -= hashes.size();
  }
  for (int64_t batch : s.done) batches_.erase(batch);
}

absl::Status PgNoticeLedger::Settle(const std::vector<Outcome>& outcomes, absl::Time now, const HeldRows* held) {
  const Settlement s = PlanSettlement(outcomes, now);
  absl::Status status = WriteSettlement(s, held, now, /*fast=*/true);
  if (absl::IsAlreadyExists(status)) status = WriteSettlement(s, held, now, /*fast=*/false);
  if (!status.ok()) return status;
  ForgetSettled(s);
  return absl::OkStatus();
}

absl::Status PgNoticeLedger::Record(const std::vector<Outcome>& outcomes, absl::Time now) {
  return Settle(outcomes, now, nullptr);
}

absl::StatusOr<std::vector<bool>> PgNoticeLedger::AreDead(const std::vector<NoticeKey>& keys) {
  KeyArrays a;
  for (const auto& k : keys) a.Add(k);
  std::vector<bool> dead(keys.size(), false);
  auto status = pool_->Run([&](pqxx::connection& c) -> absl::Status {
    pqxx::read_transaction tx(c);
    tx.exec0(kBoundLedgerTransaction);
    std::fill(dead.begin(), dead.end(), false);
    for (const auto& r : pool_->Exec(tx, "ledger_claim_lookup", pg::TextArray(a.ids), pg::IntArray(a.versions),
                                          pg::TextArray(a.kinds), pg::TextArray(a.occasions),
                                          pg::IntArray(a.customers), pg::TextArray(a.channels),
                                          pg::IntArray(a.epochs))) {
      if (r[1].as<std::string>() == ToString(NoticeState::kDead)) dead[r[0].as<size_t>() - 1] = true;
    }
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  return dead;
}

absl::StatusOr<int64_t> PgNoticeLedger::CountDead() { return pool_->Count(kCountDead); }

absl::Status PgNoticeLedger::Hold(const std::vector<std::pair<NoticeJob, absl::Time>>& jobs, absl::Time now) {
  HeldRows rows;
  std::vector<Outcome> held;
  for (const auto& [job, until] : jobs) {
    NoticeKey key = KeyOf(job);
    rows.keys.Add(key);
    rows.addresses.push_back(job.recipient.address);
    rows.locales.push_back(job.recipient.locale);
    rows.zones.push_back(job.recipient.time_zone);
    rows.names.push_back(job.recipient.name);
    rows.roles.push_back(ToString(job.recipient.role));
    rows.release.push_back(pg::ToMicros(until));
    held.push_back({std::move(key), NoticeState::kHeld, "", "", job.attempt});
  }
  return Settle(held, now, &rows);
}

}  // namespace forewarn
