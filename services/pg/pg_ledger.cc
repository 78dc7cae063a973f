#include <algorithm>

#include "absl/strings/str_cat.h"
#include "services/pg/pg_pool.h"
#include "services/pg/pg_store.h"

namespace forewarn {
namespace {

// A claim in three steps, one transaction. A fan-out's keys are new, so the
// common path is one read-only probe per key and one plain insert; an
// INSERT ... ON CONFLICT (a speculative insertion per row) cost as much as
// both together in the fan-out benchmark.
// 1. The rows that exist, by position in the batch (also AreDead's query).
constexpr char kClaimLookup[] =
    "SELECT k.ord, l.state, l.delivery_attempts FROM unnest($1::uuid[], $2::bigint[], $3::text[], $4::text[], "
    "  $5::bigint[], $6::text[]) WITH ORDINALITY AS k(iid, ver, kind, occ, cid, ch, ord) "
    "JOIN notice_ledger l ON l.incident_id = k.iid AND l.incident_version = k.ver AND l.notice_kind = k.kind "
    "  AND l.occasion = k.occ AND l.customer_id = k.cid AND l.channel = k.ch";
// 2. New keys are inserted claimed ($8: the job's failed attempts). A
// concurrent claim of the same key fails the transaction (unique
// violation); the caller retries and then finds the row.
constexpr char kClaimInsert[] =
    "INSERT INTO notice_ledger (incident_id, incident_version, notice_kind, occasion, customer_id, channel, "
    "  state, claimed_at, updated_at, delivery_attempts) "
    "SELECT k.iid, k.ver, k.kind, k.occ, k.cid, k.ch, 'claimed', " FW_AT("$7") ", " FW_AT("$7") ", k.att "
    "FROM unnest($1::uuid[], $2::bigint[], $3::text[], $4::text[], $5::bigint[], $6::text[], $8::int[]) "
    "  AS k(iid, ver, kind, occ, cid, ch, att)";
// 3. Existing open rows are claimed again: claimed earlier but never
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

constexpr char kRecord[] =
    "UPDATE notice_ledger AS l SET state = u.state, provider_id = nullif(u.pid, ''), error = nullif(u.err, ''), "
    "  updated_at = " FW_AT("$10") ", "
    "  delivery_attempts = CASE WHEN u.state IN ('retrying', 'dead') THEN u.att ELSE l.delivery_attempts END "
    "FROM unnest($1::uuid[], $2::bigint[], $3::text[], $4::text[], $5::bigint[], $6::text[], $7::text[], "
    "  $8::text[], $9::text[], $11::int[]) AS u(iid, ver, kind, occ, cid, ch, state, pid, err, att) "
    "WHERE l.incident_id = u.iid AND l.incident_version = u.ver AND l.notice_kind = u.kind "
    "  AND l.occasion = u.occ AND l.customer_id = u.cid AND l.channel = u.ch AND l.state = 'claimed'";

// Parks claimed notices until the customer's window opens; the scheduler
// re-releases them. Re-holding (a duplicate delivery) just moves release_at.
constexpr char kHold[] =
    "WITH h AS ("
    "  INSERT INTO held_notices (incident_id, version, notice_kind, occasion, customer_id, channel, address, "
    "    locale, time_zone, name, role, release_at) "
    "  SELECT k.iid, k.ver, k.kind, k.occ, k.cid, k.ch, k.addr, k.loc, k.tz, k.nm, k.role, "
    "    'epoch'::timestamptz + k.rel * interval '1 microsecond' "
    "  FROM unnest($1::uuid[], $2::bigint[], $3::text[], $4::text[], $5::bigint[], $6::text[], $7::text[], "
    "    $8::text[], $9::text[], $10::text[], $11::text[], $12::bigint[]) "
    "    AS k(iid, ver, kind, occ, cid, ch, addr, loc, tz, nm, role, rel) "
    "  ON CONFLICT (incident_id, version, notice_kind, occasion, customer_id, channel) DO UPDATE "
    "    SET release_at = EXCLUDED.release_at, released_at = NULL "
    "  RETURNING incident_id, version, notice_kind, occasion, customer_id, channel) "
    "UPDATE notice_ledger AS l SET state = 'held', "
    "  updated_at = " FW_AT("$13") " "
    "FROM h WHERE l.incident_id = h.incident_id AND l.incident_version = h.version "
    "  AND l.notice_kind = h.notice_kind AND l.occasion = h.occasion AND l.customer_id = h.customer_id "
    "  AND l.channel = h.channel AND l.state = 'claimed'";

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

}  // namespace

PgNoticeLedger::PgNoticeLedger(std::string uri)
    : pool_(std::make_unique<pg::PgPool>(std::move(uri), 2,
                                         pg::PgPool::Prepared{{"ledger_claim_lookup", kClaimLookup},
                                                              {"ledger_claim_insert", kClaimInsert},
                                                              {"ledger_record", kRecord}})) {}
PgNoticeLedger::~PgNoticeLedger() = default;

absl::StatusOr<std::vector<bool>> PgNoticeLedger::Claim(const std::vector<ClaimRequest>& requests, absl::Time now,
                                                        std::vector<int>* claims) {
  KeyArrays all, revive;
  std::vector<int> attempts;
  for (const auto& r : requests) {
    all.Add(r.key);
    attempts.push_back(r.attempt);
    if (r.revive) revive.Add(r.key);
  }
  std::vector<bool> claimable(requests.size(), false);
  if (claims) claims->assign(requests.size(), 0);
  auto status = pool_->Run([&](pqxx::connection& c) -> absl::Status {
    std::fill(claimable.begin(), claimable.end(), false);
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
    KeyArrays fresh, again;
    std::vector<int> fresh_attempts, again_attempts;
    std::vector<int64_t> again_index;
    for (size_t i = 0; i < requests.size(); ++i) {
      if (!exists[i]) {
        fresh.Add(requests[i].key);
        fresh_attempts.push_back(attempts[i]);
      } else {
        again.Add(requests[i].key);
        again_attempts.push_back(attempts[i]);
        again_index.push_back(static_cast<int64_t>(i));
      }
    }
    if (!fresh.ids.empty()) {
      try {
        tx.exec_prepared("ledger_claim_insert", pg::TextArray(fresh.ids), pg::IntArray(fresh.versions),
                         pg::TextArray(fresh.kinds), pg::TextArray(fresh.occasions), pg::IntArray(fresh.customers),
                         pg::TextArray(fresh.channels), pg::ToMicros(now), pg::IntArray(fresh_attempts));
      } catch (const pqxx::unique_violation&) {
        return absl::AbortedError("notice ledger: another worker claimed some of these notices; retry");
      }
      for (size_t i = 0; i < requests.size(); ++i) {
        if (exists[i]) continue;
        claimable[i] = true;
        if (claims) (*claims)[i] = 1;
      }
    }
    if (!again.ids.empty()) {
      for (const auto& r : tx.exec_params(kReclaim, pg::TextArray(again.ids), pg::IntArray(again.versions),
                                          pg::TextArray(again.kinds), pg::TextArray(again.occasions),
                                          pg::IntArray(again.customers), pg::TextArray(again.channels),
                                          pg::ToMicros(now), pg::IntArray(again_attempts),
                                          pg::IntArray(again_index))) {
        const auto i = r[0].as<size_t>();
        claimable[i] = true;
        if (claims) (*claims)[i] = r[1].as<int>();
      }
    }
    tx.commit();
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  return claimable;
}

absl::Status PgNoticeLedger::Record(const std::vector<Outcome>& outcomes, absl::Time now) {
  KeyArrays a, dead;
  std::vector<std::string> states, provider_ids, errors;
  std::vector<int> attempts;
  for (const auto& o : outcomes) {
    a.Add(o.key);
    states.emplace_back(ToString(o.state));
    provider_ids.push_back(o.provider_id);
    errors.push_back(o.error);
    attempts.push_back(o.attempts);
    if (o.state == NoticeState::kDead) dead.Add(o.key);
  }
  return pool_->Run([&](pqxx::connection& c) -> absl::Status {
    pqxx::work tx(c);
    tx.exec_prepared("ledger_record", pg::TextArray(a.ids), pg::IntArray(a.versions), pg::TextArray(a.kinds),
                   pg::TextArray(a.occasions), pg::IntArray(a.customers), pg::TextArray(a.channels),
                   pg::TextArray(states), pg::TextArray(provider_ids), pg::TextArray(errors), pg::ToMicros(now),
                   pg::IntArray(attempts));
    if (!dead.ids.empty()) {
      tx.exec_params(kAddDead, pg::TextArray(dead.ids), pg::IntArray(dead.versions), pg::TextArray(dead.kinds),
                     pg::TextArray(dead.occasions), pg::IntArray(dead.customers), pg::TextArray(dead.channels),
                     pg::ToMicros(now));
    }
    tx.commit();
    return absl::OkStatus();
  });
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
  KeyArrays a;
  std::vector<std::string> addresses, locales, zones, names, roles;
  std::vector<int64_t> release;
  for (const auto& [job, until] : jobs) {
    a.Add(KeyOf(job));
    addresses.push_back(job.recipient.address);
    locales.push_back(job.recipient.locale);
    zones.push_back(job.recipient.time_zone);
    names.push_back(job.recipient.name);
    roles.push_back(ToString(job.recipient.role));
    release.push_back(pg::ToMicros(until));
  }
  return pool_->Run([&](pqxx::connection& c) -> absl::Status {
    pqxx::work tx(c);
    tx.exec_params(kHold, pg::TextArray(a.ids), pg::IntArray(a.versions), pg::TextArray(a.kinds),
                   pg::TextArray(a.occasions), pg::IntArray(a.customers), pg::TextArray(a.channels),
                   pg::TextArray(addresses), pg::TextArray(locales), pg::TextArray(zones), pg::TextArray(names),
                   pg::TextArray(roles), pg::IntArray(release), pg::ToMicros(now));
    tx.commit();
    return absl::OkStatus();
  });
}

}  // namespace forewarn
