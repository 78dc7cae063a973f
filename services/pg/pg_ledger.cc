#include <map>
#include <tuple>

#include "absl/strings/str_cat.h"
#include "services/pg/pg_pool.h"
#include "services/pg/pg_store.h"

namespace forewarn {
namespace {

// Claims keys that are new, or claimed earlier but never finished (a worker
// died mid-send). SENT and FAILED rows are final and are not returned.
constexpr char kClaim[] =
    "INSERT INTO notice_ledger AS l (incident_id, incident_version, notice_kind, occasion, customer_id, channel, "
    "  state, claimed_at, updated_at) "
    "SELECT k.iid, k.ver, k.kind, k.occ, k.cid, k.ch, 'claimed', " FW_AT("$7") ", " FW_AT("$7") " "
    "FROM unnest($1::uuid[], $2::bigint[], $3::text[], $4::text[], $5::bigint[], $6::text[]) "
    "  AS k(iid, ver, kind, occ, cid, ch) "
    "ON CONFLICT (incident_id, incident_version, notice_kind, occasion, customer_id, channel) DO UPDATE "
    "  SET state = 'claimed', attempts = l.attempts + 1, claimed_at = EXCLUDED.claimed_at, "
    "    updated_at = EXCLUDED.updated_at "
    "  WHERE l.state IN ('claimed', 'held') "
    "RETURNING incident_id::text, incident_version, notice_kind, occasion, customer_id, channel, attempts";

constexpr char kRecord[] =
    "UPDATE notice_ledger AS l SET state = u.state, provider_id = nullif(u.pid, ''), error = nullif(u.err, ''), "
    "  updated_at = " FW_AT("$10") " "
    "FROM unnest($1::uuid[], $2::bigint[], $3::text[], $4::text[], $5::bigint[], $6::text[], $7::text[], "
    "  $8::text[], $9::text[]) AS u(iid, ver, kind, occ, cid, ch, state, pid, err) "
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

using KeyTuple = std::tuple<std::string, int64_t, std::string, std::string, int64_t, std::string>;

KeyTuple TupleOf(const NoticeKey& k) {
  return {k.incident_id, k.version, ToString(k.kind), k.occasion, k.customer_id, ToString(k.channel)};
}

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

PgNoticeLedger::PgNoticeLedger(std::string uri) : pool_(std::make_unique<pg::PgPool>(std::move(uri), 2)) {}
PgNoticeLedger::~PgNoticeLedger() = default;

absl::StatusOr<std::vector<bool>> PgNoticeLedger::Claim(const std::vector<NoticeKey>& keys, absl::Time now,
                                                        std::vector<int>* attempts) {
  KeyArrays a;
  std::map<KeyTuple, size_t> index;
  for (size_t i = 0; i < keys.size(); ++i) {
    a.Add(keys[i]);
    index.emplace(TupleOf(keys[i]), i);
  }
  std::vector<bool> claimable(keys.size(), false);
  if (attempts) attempts->assign(keys.size(), 0);
  auto status = pool_->Run([&](pqxx::connection& c) -> absl::Status {
    pqxx::work tx(c);
    auto rows = tx.exec_params(kClaim, pg::TextArray(a.ids), pg::IntArray(a.versions), pg::TextArray(a.kinds),
                               pg::TextArray(a.occasions), pg::IntArray(a.customers), pg::TextArray(a.channels),
                               pg::ToMicros(now));
    tx.commit();
    for (const auto& r : rows) {
      KeyTuple t{r[0].as<std::string>(), r[1].as<int64_t>(), r[2].as<std::string>(), r[3].as<std::string>(),
                 r[4].as<int64_t>(), r[5].as<std::string>()};
      if (auto it = index.find(t); it != index.end()) {
        claimable[it->second] = true;
        if (attempts) (*attempts)[it->second] = r[6].as<int>();
      }
    }
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  return claimable;
}

absl::Status PgNoticeLedger::Record(const std::vector<Outcome>& outcomes, absl::Time now) {
  KeyArrays a;
  std::vector<std::string> states, provider_ids, errors;
  for (const auto& o : outcomes) {
    a.Add(o.key);
    states.emplace_back(ToString(o.state));
    provider_ids.push_back(o.provider_id);
    errors.push_back(o.error);
  }
  return pool_->Run([&](pqxx::connection& c) -> absl::Status {
    pqxx::work tx(c);
    tx.exec_params(kRecord, pg::TextArray(a.ids), pg::IntArray(a.versions), pg::TextArray(a.kinds),
                   pg::TextArray(a.occasions), pg::IntArray(a.customers), pg::TextArray(a.channels),
                   pg::TextArray(states),
                   pg::TextArray(provider_ids), pg::TextArray(errors), pg::ToMicros(now));
    tx.commit();
    return absl::OkStatus();
  });
}

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
