#include <algorithm>
#include <cstdlib>
#include <map>
#include <string_view>
#include <unordered_set>

#include "absl/strings/str_cat.h"
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
constexpr char kClaimLookup[] =
    "SELECT k.ord, l.state, l.delivery_attempts FROM unnest($1::uuid[], $2::bigint[], $3::text[], $4::text[], "
    "  $5::bigint[], $6::text[]) WITH ORDINALITY AS k(iid, ver, kind, occ, cid, ch, ord) "
    "JOIN notice_ledger l ON l.incident_id = k.iid AND l.incident_version = k.ver AND l.notice_kind = k.kind "
    "  AND l.occasion = k.occ AND l.customer_id = k.cid AND l.channel = k.ch";
// 2. Batches in flight for the same incidents: normally only other workers'
// current batches (other keys); a batch a dead worker left behind names
// notices that may have reached the provider.
constexpr char kInflightLookup[] = "SELECT id, key_hashes FROM notice_inflight WHERE incident_ids && $1::uuid[]";
// Takes hashes ($2) out of in-flight batches ($1): those of this batch are
// this claim's now, or settled. Then a batch left with none is deleted (a
// second statement: one statement cannot change a row twice).
constexpr char kInflightSubtract[] =
    "UPDATE notice_inflight f SET key_hashes = "
    "  ARRAY(SELECT h FROM unnest(f.key_hashes) h EXCEPT SELECT unnest($2::bigint[])) "
    "WHERE f.id = ANY($1::bigint[])";
constexpr char kInflightDropEmpty[] =
    "DELETE FROM notice_inflight WHERE id = ANY($1::bigint[]) AND cardinality(key_hashes) = 0";
// 3. This claim's new keys, in flight until Record or Hold settles them.
constexpr char kInflightInsert[] =
    "INSERT INTO notice_inflight (incident_ids, key_hashes, started_at) "
    "VALUES ($1::uuid[], $2::bigint[], " FW_AT("$3") ") RETURNING id";
constexpr char kInflightDone[] = "DELETE FROM notice_inflight WHERE id = ANY($1::bigint[])";
// 4. Existing open rows are claimed again: claimed earlier but never
// finished (a worker died mid-send), held, or retrying when this copy of the
// job is the latest ($8; an older copy waits). SENT, FAILED, SUPERSEDED and
// DEAD rows stay as they are.
constexpr char kReclaim[] =
    "UPDATE notice_ledger AS l SET state = 'claimed', attempts = l.attempts + 1, claimed_at = " FW_AT("$7") ", "
    "  updated_at = " FW_AT("$7") " "
    "FROM unnest($1::uuid[], $2::bigint[], $3::text[], $4::text[], $5::bigint[], $6::text[], $8::int[], "
    "  $9::bigint[]) AS k(iid, ver, kind, occ, cid, ch, att, ord) "
    "WHERE l.incident_id = k.iid AND l.incident_version = k.ver AND l.notice_kind = k.kind "
    "  AND l.occasion = k.occ AND l.customer_id = k.cid AND l.channel = k.ch "
    "  AND (l.state IN ('claimed', 'held') OR (l.state = 'retrying' AND k.att >= l.delivery_attempts)) "
    "RETURNING k.ord, l.attempts";

// A dead-letter replay re-opens its DEAD rows (in the claim's transaction).
constexpr char kRevive[] =
    "WITH r AS ("
    "  UPDATE notice_ledger AS l SET state = 'claimed', delivery_attempts = 0, updated_at = " FW_AT("$7") " "
    "  FROM unnest($1::uuid[], $2::bigint[], $3::text[], $4::text[], $5::bigint[], $6::text[]) "
    "    AS k(iid, ver, kind, occ, cid, ch) "
    "  WHERE l.incident_id = k.iid AND l.incident_version = k.ver AND l.notice_kind = k.kind "
    "    AND l.occasion = k.occ AND l.customer_id = k.cid AND l.channel = k.ch AND l.state = 'dead' "
    "  RETURNING l.incident_id, l.incident_version, l.notice_kind, l.occasion, l.customer_id, l.channel) "
    "DELETE FROM dead_notices d USING r WHERE d.incident_id = r.incident_id "
    "  AND d.incident_version = r.incident_version AND d.notice_kind = r.notice_kind "
    "  AND d.occasion = r.occasion AND d.customer_id = r.customer_id AND d.channel = r.channel";

// Notices just marked DEAD join the dead-letter queue's count.
constexpr char kAddDead[] =
    "INSERT INTO dead_notices (incident_id, incident_version, notice_kind, occasion, customer_id, channel, dead_at) "
    "SELECT k.iid, k.ver, k.kind, k.occ, k.cid, k.ch, " FW_AT("$7") " "
    "FROM unnest($1::uuid[], $2::bigint[], $3::text[], $4::text[], $5::bigint[], $6::text[]) "
    "  AS k(iid, ver, kind, occ, cid, ch) "
    "ON CONFLICT DO NOTHING";

constexpr char kCountDead[] = "SELECT count(*) FROM dead_notices";

// Settling: a key that was new when claimed gets its one ledger row here;
// an existing (re-claimed) row is updated while it is still claimed.
#define FW_OUTCOME_ARRAYS                                                                               \
  "unnest($1::uuid[], $2::bigint[], $3::text[], $4::text[], $5::bigint[], $6::text[], $7::text[], " \
  "  $8::text[], $9::text[], $11::int[], $12::int[], $13::bigint[]) "                                 \
  "  AS u(iid, ver, kind, occ, cid, ch, state, pid, err, att, claims, cat) "
#define FW_INSERT_OUTCOMES                                                                                    \
  "INSERT INTO notice_ledger (incident_id, incident_version, notice_kind, occasion, customer_id, channel, "  \
  "  state, provider_id, error, claimed_at, updated_at, attempts, delivery_attempts) "                       \
  "SELECT u.iid, u.ver, u.kind, u.occ, u.cid, u.ch, u.state, nullif(u.pid, ''), nullif(u.err, ''), "        \
  "  " FW_AT("u.cat") ", " FW_AT("$10") ", u.claims, u.att FROM " FW_OUTCOME_ARRAYS
constexpr char kRecordInsert[] = FW_INSERT_OUTCOMES;
// A key whose row another worker wrote meanwhile keeps that row.
constexpr char kRecordInsertIfAbsent[] = FW_INSERT_OUTCOMES "ON CONFLICT DO NOTHING";
constexpr char kRecordUpdate[] =
    "UPDATE notice_ledger AS l SET state = u.state, provider_id = nullif(u.pid, ''), error = nullif(u.err, ''), "
    "  updated_at = " FW_AT("$10") ", "
    "  delivery_attempts = CASE WHEN u.state IN ('retrying', 'dead') THEN u.att ELSE l.delivery_attempts END "
    "FROM " FW_OUTCOME_ARRAYS
    "WHERE l.incident_id = u.iid AND l.incident_version = u.ver AND l.notice_kind = u.kind "
    "  AND l.occasion = u.occ AND l.customer_id = u.cid AND l.channel = u.ch AND l.state = 'claimed'";
#undef FW_INSERT_OUTCOMES
#undef FW_OUTCOME_ARRAYS

// Parks notices until the customer's window opens; the scheduler re-releases
// them. Re-holding (a duplicate delivery) just moves release_at.
constexpr char kHold[] =
    "INSERT INTO held_notices (incident_id, version, notice_kind, occasion, customer_id, channel, address, "
    "  locale, time_zone, name, role, release_at) "
    "SELECT k.iid, k.ver, k.kind, k.occ, k.cid, k.ch, k.addr, k.loc, k.tz, k.nm, k.role, "
    "  'epoch'::timestamptz + k.rel * interval '1 microsecond' "
    "FROM unnest($1::uuid[], $2::bigint[], $3::text[], $4::text[], $5::bigint[], $6::text[], $7::text[], "
    "  $8::text[], $9::text[], $10::text[], $11::text[], $12::bigint[]) "
    "  AS k(iid, ver, kind, occ, cid, ch, addr, loc, tz, nm, role, rel) "
    "ON CONFLICT (incident_id, version, notice_kind, occasion, customer_id, channel) DO UPDATE "
    "  SET release_at = EXCLUDED.release_at, released_at = NULL";

struct KeyArrays {
  std::vector<std::string> ids, kinds, occasions, channels;
  std::vector<int64_t> versions, customers;
  void Add(const NoticeKey& k) {
    ids.push_back(k.incident_id);
    versions.push_back(k.version);
    kinds.push_back(ToString(k.kind));
    occasions.push_back(k.occasion);
    customers.push_back(k.customer_id);
    channels.push_back(ToString(k.channel));
  }
};

// Outcomes as statement parameters ($1..$13 but $10, the time).
struct OutcomeArrays {
  KeyArrays keys;
  std::vector<std::string> states, provider_ids, errors;
  std::vector<int> attempts, claims;
  std::vector<int64_t> claimed_at;
  void Add(const NoticeLedger::Outcome& o, int claim_count, int64_t claimed_at_us) {
    keys.Add(o.key);
    states.emplace_back(ToString(o.state));
    provider_ids.push_back(o.provider_id);
    errors.push_back(o.error);
    attempts.push_back(o.attempts);
    claims.push_back(claim_count);
    claimed_at.push_back(claimed_at_us);
  }
  void Exec(pqxx::work& tx, const char* prepared_or_sql, bool prepared, int64_t now_us) const {
    auto run = [&](auto&&... args) {
      return prepared ? tx.exec_prepared(prepared_or_sql, args...) : tx.exec_params(prepared_or_sql, args...);
    };
    run(pg::TextArray(keys.ids), pg::IntArray(keys.versions), pg::TextArray(keys.kinds), pg::TextArray(keys.occasions),
        pg::IntArray(keys.customers), pg::TextArray(keys.channels), pg::TextArray(states), pg::TextArray(provider_ids),
        pg::TextArray(errors), now_us, pg::IntArray(attempts), pg::IntArray(claims), pg::IntArray(claimed_at));
  }
};

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

}  // namespace

int64_t PgNoticeLedger::KeyHash(const NoticeKey& key) {
  // FNV-1a 64 over the key's fields (text terminated, numbers as 8 bytes
  // little-endian): stable across processes and builds, unlike std::hash,
  // because it is stored.
  uint64_t h = 14695981039346656037ull;
  auto byte = [&h](unsigned char c) {
    h ^= c;
    h *= 1099511628211ull;
  };
  auto text = [&](std::string_view s) {
    for (unsigned char c : s) byte(c);
    byte(0xff);
  };
  auto number = [&](int64_t v) {
    for (int i = 0; i < 8; ++i) byte(static_cast<unsigned char>(static_cast<uint64_t>(v) >> (8 * i)));
  };
  text(key.incident_id);
  number(key.version);
  text(ToString(key.kind));
  text(key.occasion);
  number(key.customer_id);
  text(ToString(key.channel));
  return static_cast<int64_t>(h);
}

PgNoticeLedger::PgNoticeLedger(std::string uri)
    : pool_(std::make_unique<pg::PgPool>(std::move(uri), 2,
                                         pg::PgPool::Prepared{{"ledger_claim_lookup", kClaimLookup},
                                                              {"ledger_inflight_lookup", kInflightLookup},
                                                              {"ledger_inflight_insert", kInflightInsert},
                                                              {"ledger_record_insert", kRecordInsert},
                                                              {"ledger_inflight_done", kInflightDone}})) {}
PgNoticeLedger::~PgNoticeLedger() = default;

absl::StatusOr<std::vector<bool>> PgNoticeLedger::Claim(const std::vector<ClaimRequest>& requests, absl::Time now,
                                                        std::vector<int>* claims) {
  KeyArrays all, revive;
  std::vector<int64_t> hashes;
  std::vector<std::string> incidents;
  hashes.reserve(requests.size());
  for (const auto& r : requests) {
    all.Add(r.key);
    hashes.push_back(KeyHash(r.key));
    if (r.revive) revive.Add(r.key);
    if (std::find(incidents.begin(), incidents.end(), r.key.incident_id) == incidents.end()) {
      incidents.push_back(r.key.incident_id);
    }
  }
  const std::unordered_set<int64_t> batch(hashes.begin(), hashes.end());
  std::vector<bool> claimable, fresh;
  std::vector<int> counts;
  int64_t inflight_id = 0;
  auto status = pool_->Run([&](pqxx::connection& c) -> absl::Status {
    claimable.assign(requests.size(), false);
    fresh.assign(requests.size(), false);
    counts.assign(requests.size(), 0);
    inflight_id = 0;
    pqxx::work tx(c);
    if (!revive.ids.empty()) {
      tx.exec_params(kRevive, pg::TextArray(revive.ids), pg::IntArray(revive.versions), pg::TextArray(revive.kinds),
                     pg::TextArray(revive.occasions), pg::IntArray(revive.customers), pg::TextArray(revive.channels),
                     pg::ToMicros(now));
    }
    std::vector<bool> exists(requests.size(), false);
    for (const auto& r : tx.exec_prepared("ledger_claim_lookup", pg::TextArray(all.ids), pg::IntArray(all.versions),
                                          pg::TextArray(all.kinds), pg::TextArray(all.occasions),
                                          pg::IntArray(all.customers), pg::TextArray(all.channels))) {
      exists[r[0].as<size_t>() - 1] = true;
    }
    std::unordered_set<int64_t> left_in_flight;
    std::vector<int64_t> adopted;
    for (const auto& r : tx.exec_prepared("ledger_inflight_lookup", pg::TextArray(incidents))) {
      bool overlaps = false;
      for (int64_t h : ParseBigintArray(r[1].c_str())) {
        if (batch.contains(h)) {
          left_in_flight.insert(h);
          overlaps = true;
        }
      }
      if (overlaps) adopted.push_back(r[0].as<int64_t>());
    }
    if (!adopted.empty()) Subtract(tx, adopted, hashes);
    KeyArrays again;
    std::vector<int> again_attempts;
    std::vector<int64_t> again_index, fresh_hashes;
    for (size_t i = 0; i < requests.size(); ++i) {
      if (!exists[i]) {
        claimable[i] = fresh[i] = true;
        counts[i] = left_in_flight.contains(hashes[i]) ? 2 : 1;
        fresh_hashes.push_back(hashes[i]);
      } else {
        again.Add(requests[i].key);
        again_attempts.push_back(requests[i].attempt);
        again_index.push_back(static_cast<int64_t>(i));
      }
    }
    if (!fresh_hashes.empty()) {
      inflight_id = tx.exec_prepared1("ledger_inflight_insert", pg::TextArray(incidents),
                                      pg::IntArray(fresh_hashes), pg::ToMicros(now))[0]
                        .as<int64_t>();
    }
    if (!again.ids.empty()) {
      for (const auto& r : tx.exec_params(kReclaim, pg::TextArray(again.ids), pg::IntArray(again.versions),
                                          pg::TextArray(again.kinds), pg::TextArray(again.occasions),
                                          pg::IntArray(again.customers), pg::TextArray(again.channels),
                                          pg::ToMicros(now), pg::IntArray(again_attempts),
                                          pg::IntArray(again_index))) {
        const auto i = r[0].as<size_t>();
        claimable[i] = true;
        counts[i] = r[1].as<int>();
      }
    }
    tx.commit();
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  if (inflight_id != 0) {
    std::lock_guard lock(mu_);
    const int64_t now_us = pg::ToMicros(now);
    size_t& open = open_[inflight_id];
    for (size_t i = 0; i < requests.size(); ++i) {
      if (!fresh[i]) continue;
      Pending p{inflight_id, counts[i], now_us};
      auto [it, inserted] = pending_.try_emplace(hashes[i], p);
      if (!inserted) {
        if (it->second.batch == inflight_id) continue;  // the same key twice in one claim
        // Claimed again before it was settled (a batch retried in place):
        // the claim above took it out of its earlier batch.
        if (auto b = open_.find(it->second.batch); b != open_.end() && --b->second == 0) open_.erase(b);
        it->second = p;
      }
      ++open;
    }
  }
  if (claims) *claims = std::move(counts);
  return claimable;
}

struct PgNoticeLedger::HeldRows {
  KeyArrays keys;
  std::vector<std::string> addresses, locales, zones, names, roles;
  std::vector<int64_t> release;
};

absl::Status PgNoticeLedger::Settle(const std::vector<Outcome>& outcomes, absl::Time now, const HeldRows* held) {
  // Keys claimed new get their ledger row now; the others (re-claimed
  // rows) are updated. A batch whose keys are all settled leaves the
  // in-flight table; one settled in part loses the settled keys' hashes.
  OutcomeArrays fresh, other;
  KeyArrays dead;
  std::map<int64_t, std::vector<int64_t>> settled;  // in-flight batch -> hashes settled now
  std::vector<int64_t> done, partial, partial_hashes;
  {
    std::lock_guard lock(mu_);
    for (const auto& o : outcomes) {
      const int64_t hash = KeyHash(o.key);
      if (auto it = pending_.find(hash); it != pending_.end()) {
        fresh.Add(o, it->second.claims, it->second.claimed_at);
        settled[it->second.batch].push_back(hash);
      } else {
        other.Add(o, 1, pg::ToMicros(now));
      }
      if (o.state == NoticeState::kDead) dead.Add(o.key);
    }
    for (const auto& [batch, hashes] : settled) {
      auto it = open_.find(batch);
      if (it == open_.end() || it->second <= hashes.size()) {
        done.push_back(batch);
      } else {
        partial.push_back(batch);
        partial_hashes.insert(partial_hashes.end(), hashes.begin(), hashes.end());
      }
    }
  }
  const int64_t now_us = pg::ToMicros(now);
  auto run = [&](bool fast) {
    return pool_->Run([&](pqxx::connection& c) -> absl::Status {
      pqxx::work tx(c);
      if (held) {
        const KeyArrays& k = held->keys;
        tx.exec_params(kHold, pg::TextArray(k.ids), pg::IntArray(k.versions), pg::TextArray(k.kinds),
                       pg::TextArray(k.occasions), pg::IntArray(k.customers), pg::TextArray(k.channels),
                       pg::TextArray(held->addresses), pg::TextArray(held->locales), pg::TextArray(held->zones),
                       pg::TextArray(held->names), pg::TextArray(held->roles), pg::IntArray(held->release));
      }
      // The slow path: a re-claimed row is updated while claimed; a key
      // with no row is inserted; a row someone else settled meanwhile (a
      // worker that took over this partition) stays as it is. The fast
      // path, a plain insert, fails on such a row and falls back to it.
      auto careful = [&](const OutcomeArrays& a) {
        if (a.keys.ids.empty()) return;
        a.Exec(tx, kRecordUpdate, false, now_us);
        a.Exec(tx, kRecordInsertIfAbsent, false, now_us);
      };
      if (!fast) {
        careful(fresh);
      } else if (!fresh.keys.ids.empty()) {
        fresh.Exec(tx, "ledger_record_insert", true, now_us);
      }
      careful(other);
      if (!dead.ids.empty()) {
        tx.exec_params(kAddDead, pg::TextArray(dead.ids), pg::IntArray(dead.versions), pg::TextArray(dead.kinds),
                       pg::TextArray(dead.occasions), pg::IntArray(dead.customers), pg::TextArray(dead.channels),
                       now_us);
      }
      if (!done.empty()) tx.exec_prepared("ledger_inflight_done", pg::IntArray(done));
      if (!partial.empty()) Subtract(tx, partial, partial_hashes);
      tx.commit();
      return absl::OkStatus();
    });
  };
  absl::Status status = run(true);
  if (absl::IsAlreadyExists(status)) status = run(false);
  if (!status.ok()) return status;
  std::lock_guard lock(mu_);
  for (const auto& [batch, hashes] : settled) {
    for (int64_t hash : hashes) pending_.erase(hash);
    if (auto it = open_.find(batch); it != open_.end()) it->second -= hashes.size();
  }
  for (int64_t batch : done) open_.erase(batch);
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
    std::fill(dead.begin(), dead.end(), false);
    for (const auto& r : tx.exec_prepared("ledger_claim_lookup", pg::TextArray(a.ids), pg::IntArray(a.versions),
                                          pg::TextArray(a.kinds), pg::TextArray(a.occasions),
                                          pg::IntArray(a.customers), pg::TextArray(a.channels))) {
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
