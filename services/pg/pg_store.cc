#include "services/pg/pg_store.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "services/pg/audience_sql.h"
#include "services/pg/pg_pool.h"
#include "services/pg/pg_read.h"
#include "services/pg/pg_targets.h"

namespace forewarn {
namespace {

using pg::FromMicros;
using pg::ToMicros;


// The selectors beside services x regions (columns 16-21 of RowToIncident)
// of an incidents or incident_versions row (`t`: its alias and a dot, or "").
#define FW_TARGET_COLUMNS(t)                                                                                  \
  "array_to_string(" t "asset_codes, ','), coalesce(" t "audience_id::text, ''), coalesce(" t "area_geojson, ''), " \
  "coalesce(array_to_string(" t "area_circle, ','), ''), coalesce(" t "area_name_ar, ''), "                 \
  "coalesce(" t "area_name_en, '')"

// Columns of an incident row, in the order RowToIncident reads them.
constexpr char kIncidentColumns[] =
    "id::text, version, kind, state, array_to_string(services, ','), array_to_string(regions, ','), "
    "reason_ar, reason_en, " FW_TS("starts_at") ", " FW_TS("expected_restoration_at") ", "
    "coalesce(" FW_TS("resolved_at") ", -1), idempotency_key, " FW_TS("created_at") ", " FW_TS("updated_at") ", "
    "coalesce(old_iban, ''), coalesce(new_iban, ''), " FW_TARGET_COLUMNS("") ", ref";

constexpr char kSelectUnknownServices[] =
    "SELECT c FROM unnest($1::text[]) AS c WHERE NOT EXISTS (SELECT 1 FROM services s WHERE s.code = c)";
constexpr char kSelectUnknownRegions[] =
    "SELECT c FROM unnest($1::text[]) AS c WHERE NOT EXISTS (SELECT 1 FROM regions r WHERE r.code = c)";

constexpr char kInsertIncident[] =
    "INSERT INTO incidents (version, kind, state, services, regions, reason_ar, reason_en, starts_at, "
    "expected_restoration_at, idempotency_key, request_hash, created_at, updated_at, old_iban, new_iban, "
    "asset_codes, audience_id, area_geojson, area_circle, area_name_ar, area_name_en) "
    "VALUES (1, $1, 'open', $2::text[], $3::text[], $4, $5, " FW_AT("$6") ", " FW_AT("$7") ", $8, md5($9), "
    FW_AT("$10") ", " FW_AT("$10") ", nullif($11, ''), nullif($12, ''), $13::text[], nullif($14, '')::uuid, "
    "nullif($15, ''), nullif($16, '')::float8[], nullif($17, ''), nullif($18, '')) "
    "ON CONFLICT (idempotency_key) DO NOTHING RETURNING id::text";

constexpr char kSelectByIdempotencyKey[] =
    "SELECT id::text, request_hash = md5($2) FROM incidents WHERE idempotency_key = $1";

constexpr char kSchedule[] =
    "INSERT INTO scheduled_notices (incident_id, version, notice_kind, occasion, due_at) "
    "VALUES ($1::uuid, $2, $3, $4, " FW_AT("$5") ")";

constexpr char kSelectIdByRef[] = "SELECT id::text FROM incidents WHERE ref = $1";

constexpr char kCurrentVersions[] = "SELECT id::text, version FROM incidents WHERE id = ANY($1::uuid[])";

constexpr char kNotifyOutbox[] = "NOTIFY forewarn_outbox";

constexpr char kSelectForUpdate[] = "SELECT version, state FROM incidents WHERE id = $1::uuid FOR UPDATE";
constexpr char kSelectCurrent[] = "SELECT version, state FROM incidents WHERE id = $1::uuid";

constexpr char kUpdateIncident[] =
    "UPDATE incidents SET version = version + 1, "
    "reason_ar = coalesce($2, reason_ar), reason_en = coalesce($3, reason_en), "
    "expected_restoration_at = CASE WHEN $4::bigint < 0 THEN expected_restoration_at ELSE " FW_AT("$4") " END, "
    "starts_at = CASE WHEN $6::bigint < 0 THEN starts_at ELSE " FW_AT("$6") " END, "
    "updated_at = " FW_AT("$5") " WHERE id = $1::uuid";

// Replaces an incident's selectors ($2 regions .. $8 area name en, as in
// kInsertIncident's $3, $13..$18).
constexpr char kRetargetIncident[] =
    "UPDATE incidents SET regions = $2::text[], asset_codes = $3::text[], audience_id = nullif($4, '')::uuid, "
    "area_geojson = nullif($5, ''), area_circle = nullif($6, '')::float8[], area_name_ar = nullif($7, ''), "
    "area_name_en = nullif($8, '') WHERE id = $1::uuid";

// $3: 'resolved' or 'cancelled'.
constexpr char kCloseIncident[] =
    "UPDATE incidents SET version = version + 1, state = $3, "
    "resolved_at = CASE WHEN $3 = 'resolved' THEN " FW_AT("$2") " END, "
    "updated_at = " FW_AT("$2") " WHERE id = $1::uuid";

// A version's first 23 columns, as RowToIncident reads them (v: the
// incident_versions row, i: its incidents row).
#define FW_VERSION_COLUMNS                                                                                      \
  "SELECT i.id::text, v.version, i.kind, v.state, array_to_string(v.services, ','), "                         \
  "array_to_string(v.regions, ','), v.reason_ar, v.reason_en, " FW_TS("v.starts_at") ", "                    \
  FW_TS("v.expected_restoration_at") ", coalesce(" FW_TS("v.resolved_at") ", -1), i.idempotency_key, "     \
  FW_TS("i.created_at") ", " FW_TS("v.changed_at") ", coalesce(v.old_iban, ''), coalesce(v.new_iban, ''), "   \
  FW_TARGET_COLUMNS("v.") ", i.ref, "

constexpr char kSelectVersion[] =
    FW_VERSION_COLUMNS
    // Display names, in code order, joined with the unit separator.
    "array_to_string(ARRAY(SELECT coalesce(s.name_en, u.c) FROM unnest(v.services) WITH ORDINALITY u(c, o) "
    "  LEFT JOIN services s ON s.code = u.c ORDER BY u.o), E'\\x1f'), "
    "array_to_string(ARRAY(SELECT coalesce(s.name_ar, u.c) FROM unnest(v.services) WITH ORDINALITY u(c, o) "
    "  LEFT JOIN services s ON s.code = u.c ORDER BY u.o), E'\\x1f'), "
    "array_to_string(ARRAY(SELECT coalesce(r.name_en, u.c) FROM unnest(v.regions) WITH ORDINALITY u(c, o) "
    "  LEFT JOIN regions r ON r.code = u.c ORDER BY u.o), E'\\x1f'), "
    "array_to_string(ARRAY(SELECT coalesce(r.name_ar, u.c) FROM unnest(v.regions) WITH ORDINALITY u(c, o) "
    "  LEFT JOIN regions r ON r.code = u.c ORDER BY u.o), E'\\x1f'), "
    // The targeted assets' names, in code order.
    "array_to_string(ARRAY(SELECT coalesce(a.name_en, u.c) FROM unnest(v.asset_codes) WITH ORDINALITY u(c, o) "
    "  LEFT JOIN assets a ON a.code = u.c ORDER BY u.o), E'\\x1f'), "
    "array_to_string(ARRAY(SELECT coalesce(a.name_ar, u.c) FROM unnest(v.asset_codes) WITH ORDINALITY u(c, o) "
    "  LEFT JOIN assets a ON a.code = u.c ORDER BY u.o), E'\\x1f') "
    "FROM incident_versions v JOIN incidents i ON i.id = v.incident_id "
    "WHERE v.incident_id = $1::uuid AND v.version = $2";

// Every version with its audit fields.
constexpr char kSelectHistory[] =
    FW_VERSION_COLUMNS
    "v.change, v.actor, v.change_summary "
    "FROM incident_versions v JOIN incidents i ON i.id = v.incident_id "
    "WHERE v.incident_id = $1::uuid ORDER BY v.version";

// The latest immediate notice queued for a version (by the intake or the
// scheduler): what its audience must have been told.
constexpr char kLatestNotice[] =
    "SELECT notice_kind, occasion FROM outbox WHERE incident_id = $1::uuid AND version = $2 "
    "ORDER BY id DESC LIMIT 1";

// The audience of `query` (the audience rule, audience_sql.h, its
// parameters from $5 in `args`), one row per (customer, chosen channel), with
// its ledger state for the notice $3/$4 of version $2 (NULL: no row) and
// whether it informed the customer (sent or delivered there; or not
// delivered there but sent or delivered on the customer's other channel, by
// their choice or by escalation); IBAN beneficiaries are told with their own
// notice kind.
std::string RecipientStates(const AudienceQuery& query, pg::SqlArgs& args) {
  return absl::StrCat(
      "WITH rcpt AS (SELECT a.customer_id, ch.channel, a.role = 'beneficiary' AS beneficiary FROM (",
      pg::AudienceSql(query, args),
      ") AS a(customer_id, name, locale, time_zone, phone, email, role, by_sms, by_email) "
      "CROSS JOIN LATERAL (VALUES ('sms'::text, a.by_sms), ('email', a.by_email)) AS ch(channel, chosen) "
      "WHERE ch.chosen), "
      "st AS ("
      "  SELECT r.customer_id, r.channel, l.state, coalesce(l.state IN ('sent', 'delivered') OR "
      "    (l.state IN ('undelivered', 'expired') AND EXISTS (SELECT 1 FROM notice_ledger o "
      "      WHERE o.incident_epoch = l.incident_epoch AND o.incident_id = l.incident_id AND o.customer_id = l.customer_id AND o.channel <> l.channel "
      "      AND o.incident_version = l.incident_version AND o.notice_kind = l.notice_kind "
      "      AND o.occasion = l.occasion AND o.state IN ('sent', 'delivered'))), false) AS informed "
      "  FROM rcpt r LEFT JOIN notice_ledger l "
      "  ON l.incident_epoch = forewarn_incident_epoch($1::uuid) AND l.incident_id = $1::uuid "
      "  AND l.incident_version = $2 "
      "  AND l.notice_kind = CASE WHEN r.beneficiary THEN 'iban_change_beneficiary' ELSE $3 END "
      "  AND l.occasion = $4 AND l.customer_id = r.customer_id AND l.channel = r.channel) ");
}

constexpr char kCompletenessCounts[] =
    "SELECT count(*), count(*) FILTER (WHERE NOT informed), "
    "count(DISTINCT customer_id) FILTER (WHERE NOT informed), "
    "count(*) FILTER (WHERE state IS NULL), count(*) FILTER (WHERE state = 'failed'), "
    "count(*) FILTER (WHERE state IN ('claimed', 'held', 'retrying')), count(*) FILTER (WHERE state = 'dead') "
    "FROM st";

// A fan-out still in flight: events not yet published, or notices claimed
// within the last minute (a worker may be sending them right now): new ones
// in in-flight batches, re-claimed ones in the ledger.
constexpr char kInFlight[] =
    "SELECT (SELECT count(*) FROM outbox WHERE incident_id = $1::uuid AND published_at IS NULL), "
    "(SELECT count(*) FROM notice_ledger WHERE incident_epoch = forewarn_incident_epoch($1::uuid) "
    "  AND incident_id = $1::uuid AND incident_version = $2 "
    "  AND state = 'claimed' AND updated_at > " FW_AT("$3") " - interval '1 minute') + "
    "(SELECT coalesce(sum(cardinality(key_hashes)), 0) FROM notice_inflight WHERE $1::uuid = ANY(incident_ids) "
    "  AND started_at > " FW_AT("$3") " - interval '1 minute')";

constexpr char kUnpublishedOutbox[] = "SELECT count(*) FROM outbox WHERE published_at IS NULL";

constexpr char kReportCounts[] =
    "SELECT incident_version, notice_kind, occasion, channel, state, count(*) FROM notice_ledger "
    "WHERE incident_epoch = forewarn_incident_epoch($1::uuid) AND incident_id = $1::uuid "
    "GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5";

constexpr char kReportFailures[] =
    "SELECT customer_id, channel, incident_version, notice_kind, coalesce(error, '') FROM notice_ledger "
    "WHERE incident_epoch = forewarn_incident_epoch($1::uuid) AND incident_id = $1::uuid "
    "  AND state IN ('failed', 'dead') ORDER BY customer_id, channel, incident_version LIMIT $2";

// Columns 16-21 (FW_TARGET_COLUMNS).
void ReadTargets(const pqxx::row& r, Incident& inc) {
  inc.asset_codes = pg::SplitCodes(r[16].as<std::string>());
  inc.audience_id = r[17].as<std::string>();
  const auto geojson = r[18].as<std::string>();
  const std::vector<std::string> circle = absl::StrSplit(r[19].as<std::string>(), ',', absl::SkipEmpty());
  if (geojson.empty() && circle.size() != 3) return;
  Area area;
  area.geojson = geojson;
  if (circle.size() == 3) {
    Circle c;
    if (absl::SimpleAtod(circle[0], &c.latitude) && absl::SimpleAtod(circle[1], &c.longitude) &&
        absl::SimpleAtod(circle[2], &c.radius_meters)) {
      area.circle = c;
    }
  }
  area.name = {r[20].as<std::string>(), r[21].as<std::string>()};
  inc.area = std::move(area);
}

Incident RowToIncident(const pqxx::row& r) {
  Incident inc;
  inc.id = r[0].as<std::string>();
  inc.version = r[1].as<int64_t>();
  inc.kind = ParseIncidentKind(r[2].as<std::string>()).value_or(IncidentKind::kUnplannedOutage);
  inc.state = ParseIncidentState(r[3].as<std::string>()).value_or(IncidentState::kOpen);
  inc.services = pg::SplitCodes(r[4].as<std::string>());
  inc.regions = pg::SplitCodes(r[5].as<std::string>());
  inc.reason.ar = r[6].as<std::string>();
  inc.reason.en = r[7].as<std::string>();
  inc.starts_at = FromMicros(r[8].as<int64_t>());
  inc.expected_restoration_at = FromMicros(r[9].as<int64_t>());
  if (const auto resolved = r[10].as<int64_t>(); resolved >= 0) inc.resolved_at = FromMicros(resolved);
  inc.idempotency_key = r[11].as<std::string>();
  inc.created_at = FromMicros(r[12].as<int64_t>());
  inc.updated_at = FromMicros(r[13].as<int64_t>());
  inc.old_iban = r[14].as<std::string>();
  inc.new_iban = r[15].as<std::string>();
  ReadTargets(r, inc);
  inc.ref = r[22].as<std::string>();
  return inc;
}

std::vector<LocalizedText> ZipNames(const std::string& en, const std::string& ar) {
  std::vector<std::string> e = absl::StrSplit(en, '\x1f'), a = absl::StrSplit(ar, '\x1f');
  std::vector<LocalizedText> out;
  for (size_t i = 0; i < e.size() && i < a.size(); ++i) out.push_back({a[i], e[i]});
  return out;
}

absl::StatusOr<Incident> SelectIncident(pqxx::transaction_base& tx, const std::string& id) {
  auto rows = tx.exec_params(absl::StrCat("SELECT ", kIncidentColumns, " FROM incidents WHERE id = $1::uuid"), id);
  if (rows.empty()) return absl::NotFoundError(absl::StrCat("incident ", id, " not found"));
  return RowToIncident(rows[0]);
}

// A version as notices are rendered from it, with its display names.
absl::StatusOr<Incident> SelectVersion(pqxx::transaction_base& tx, const std::string& id, int64_t version) {
  auto rows = tx.exec_params(kSelectVersion, id, version);
  if (rows.empty()) return absl::NotFoundError(absl::StrCat("incident ", id, " version ", version, " not found"));
  const auto& r = rows[0];
  Incident result = RowToIncident(r);
  result.service_names = ZipNames(r[23].as<std::string>(), r[24].as<std::string>());
  result.region_names = ZipNames(r[25].as<std::string>(), r[26].as<std::string>());
  if (!result.asset_codes.empty()) result.place_names = ZipNames(r[27].as<std::string>(), r[28].as<std::string>());
  if (result.area && !result.area->name.en.empty()) result.place_names.push_back(result.area->name);
  return result;
}

absl::Status CheckKnown(pqxx::transaction_base& tx, const char* sql, const std::vector<std::string>& codes,
                        const char* field, const char* what) {
  auto rows = tx.exec_params(sql, pg::TextArray(codes));
  if (rows.empty()) return absl::OkStatus();
  const auto unknown = rows[0][0].as<std::string>();
  size_t index = 0;
  while (index < codes.size() && codes[index] != unknown) ++index;
  return absl::InvalidArgumentError(absl::StrCat(field, "[", index, "]: unknown ", what, " '", unknown, "'"));
}

// An area as its columns (empty: NULL): GeoJSON or a circle "{lat,lon,r}",
// and its names.
struct AreaColumns {
  explicit AreaColumns(const std::optional<Area>& area) {
    if (!area) return;
    geojson = area->geojson;
    if (area->circle) circle = pg::CircleArray(*area->circle);
    name_ar = area->name.ar;
    name_en = area->name.en;
  }
  std::string geojson, circle, name_ar, name_en;
};

// The request as the caller sent it (starts_at unset stays unset), so a retry
// is recognised even when the server filled in the defaults.
std::string CanonicalRequest(const NewIncident& req) {
  const AreaColumns area(req.area);
  return absl::StrCat(ToString(req.kind), "\x1f", absl::StrJoin(req.services, ","), "\x1f",
                      absl::StrJoin(req.regions, ","), "\x1f", req.reason.ar, "\x1f", req.reason.en, "\x1f",
                      req.starts_at ? absl::StrCat(ToMicros(*req.starts_at)) : "", "\x1f",
                      ToMicros(req.expected_restoration_at), "\x1f", req.old_iban, "\x1f", req.new_iban,
                      // Only when there are any: a request made before targeting keeps its form.
                      req.asset_codes.empty() && req.audience_id.empty() && !req.area
                          ? ""
                          : absl::StrCat("\x1f", absl::StrJoin(req.asset_codes, ","), "\x1f", req.audience_id,
                                         "\x1f", area.geojson, "\x1f", area.circle, "\x1f", area.name_ar, "\x1f",
                                         area.name_en));
}

// Replaces the selectors of an open incident, after the checks that need
// the database (INVALID_ARGUMENT, nothing written).
absl::Status Retarget(pqxx::transaction_base& tx, const std::string& id, const Targets& t) {
  if (auto s = CheckKnown(tx, kSelectUnknownRegions, t.regions, "targets.regions", "region"); !s.ok()) return s;
  if (auto s = pg::CheckTargets(tx, t, "targets."); !s.ok()) return s;
  const AreaColumns area(t.area);
  tx.exec_params(kRetargetIncident, id, pg::TextArray(t.regions), pg::TextArray(t.asset_codes), t.audience_id,
                 area.geojson, area.circle, area.name_ar, area.name_en);
  return absl::OkStatus();
}

absl::Status CheckVersion(const std::string& id, int64_t current, int64_t expected) {
  if (expected != 0 && expected != current) {
    return absl::AbortedError(absl::StrCat("incident ", id, " is at version ", current, ", not ", expected,
                                           "; reload and retry"));
  }
  return absl::OkStatus();
}

// How many of the audience lack a sent `out.kind`/`out.occasion` notice of
// `out.version`, by ledger state.
void CountUninformed(pqxx::transaction_base& tx, const AudienceQuery& query, const std::string& kind,
                     Completeness& out) {
  pg::SqlArgs args(5);
  const std::string sql = absl::StrCat(RecipientStates(query, args), kCompletenessCounts);
  auto counts = tx.exec_params1(sql, out.incident_id, out.version, kind, out.occasion,
                                pqxx::prepare::make_dynamic_params(args.values()));
  out.audience = counts[0].as<int64_t>();
  out.uninformed = counts[1].as<int64_t>();
  out.uninformed_customers = counts[2].as<int64_t>();
  out.missing = counts[3].as<int64_t>();
  out.failed = counts[4].as<int64_t>();
  out.pending = counts[5].as<int64_t>();
  out.dead = counts[6].as<int64_t>();
}

// The first `max_listed` uninformed recipients, by customer and channel.
void ListUninformed(pqxx::transaction_base& tx, const AudienceQuery& query, const std::string& kind, int max_listed,
                    Completeness& out) {
  pg::SqlArgs args(5);
  std::string sql = RecipientStates(query, args);
  absl::StrAppend(&sql, "SELECT customer_id, channel, coalesce(state, '') FROM st WHERE NOT informed "
                        "ORDER BY customer_id, channel LIMIT ", args.Add(absl::StrCat(max_listed), "int"));
  for (const auto& r : tx.exec_params(sql, out.incident_id, out.version, kind, out.occasion,
                                      pqxx::prepare::make_dynamic_params(args.values()))) {
    UninformedRecipient u;
    u.customer_id = r[0].as<int64_t>();
    u.channel = ParseChannel(r[1].as<std::string>()).value_or(Channel::kSms);
    if (auto state = ParseNoticeState(r[2].as<std::string>()); state.ok()) u.state = *state;
    out.listed.push_back(u);
  }
}

// The completeness of the incident's current version against its latest
// immediate notice (kind unset when none was queued yet), over the part of
// the audience that notice was for (its occasion's scope: a change of
// targets tells the customers who joined, left or stayed apart).
absl::StatusOr<Completeness> CheckAudience(pqxx::transaction_base& tx, const Incident& incident, int max_listed) {
  Completeness out;
  out.incident_id = incident.id;
  out.version = incident.version;
  auto latest = tx.exec_params(kLatestNotice, incident.id, out.version);
  if (latest.empty()) return out;
  const auto kind_text = latest[0][0].as<std::string>();
  auto kind = ParseNoticeKind(kind_text);
  if (!kind.ok()) return kind.status();
  out.kind = *kind;
  out.occasion = latest[0][1].as<std::string>();
  AudienceQuery query{incident, ScopeOfOccasion(out.occasion)};
  absl::StatusOr<Incident> previous = absl::NotFoundError("no previous version");
  if (query.scope != AudienceScope::kAll) {
    previous = SelectVersion(tx, incident.id, incident.version - 1);
    if (!previous.ok()) return previous.status();
    query.previous = &*previous;
  }
  CountUninformed(tx, query, kind_text, out);
  if (max_listed > 0 && out.uninformed > 0) ListUninformed(tx, query, kind_text, max_listed, out);
  return out;
}

FanOutActivity ReadFanOutActivity(pqxx::transaction_base& tx, const std::string& id, int64_t version,
                                  absl::Time now) {
  auto flight = tx.exec_params1(kInFlight, id, version, ToMicros(now));
  return FanOutActivity{flight[0].as<int64_t>(), flight[1].as<int64_t>()};
}

}  // namespace

namespace pg {

void CommitVersion(pqxx::work& tx, const std::string& id, Change change, const NoticePlan& plan, absl::Time now,
                   const ChangeAudit& audit) {
  const auto version =
      tx.exec_params1(kSnapshotVersion, id, std::string(ToString(change)), audit.actor, audit.summary)[0].as<int64_t>();
  if (plan.cancel_pending) tx.exec_params(kCancelPendingNotices, id, ToMicros(now));
  bool queued = false;
  for (const auto& n : plan.notices) {
    if (n.due_at) {
      tx.exec_params(kSchedule, id, version, ToString(n.kind), n.occasion, ToMicros(*n.due_at));
    } else {
      tx.exec_params(kQueueNotice, id, version, ToString(n.kind), n.occasion, ToMicros(now));
      queued = true;
    }
  }
  if (queued) tx.exec0(kNotifyOutbox);
}

}  // namespace pg

PgDatabase::PgDatabase(PgEndpoint db, int pool_size)
    : pool_(std::make_shared<pg::PgPool>(std::move(db), pool_size)), reads_(std::make_shared<pg::PgReads>(pool_)) {}
const PgEndpoint& PgDatabase::endpoint() const { return pool_->endpoint(); }

PgIncidentStore::PgIncidentStore(PgDatabase db) : pool_(db.pool()), reads_(db.reads()) {}
PgIncidentStore::~PgIncidentStore() = default;

absl::StatusOr<Incident> PgIncidentStore::Create(const NewIncident& req, absl::Time now,
                                                 const std::function<NoticePlan(const Incident&)>& plan,
                                                 const ChangeAudit& audit) {
  absl::StatusOr<Incident> result = absl::InternalError("not run");
  auto status = pool_->Run([&](pqxx::connection& c) -> absl::Status {
    pqxx::work tx(c);
    if (auto s = CheckKnown(tx, kSelectUnknownServices, req.services, "services", "service"); !s.ok()) return s;
    if (auto s = CheckKnown(tx, kSelectUnknownRegions, req.regions, "regions", "region"); !s.ok()) return s;
    const Targets targets{req.regions, req.asset_codes, req.audience_id, req.area};
    if (auto s = pg::CheckTargets(tx, targets, ""); !s.ok()) return s;
    const std::string canonical = CanonicalRequest(req);
    const AreaColumns area(req.area);
    auto inserted = tx.exec_params(kInsertIncident, std::string(ToString(req.kind)), pg::TextArray(req.services),
                                   pg::TextArray(req.regions), req.reason.ar, req.reason.en,
                                   ToMicros(req.starts_at.value_or(now)), ToMicros(req.expected_restoration_at),
                                   req.idempotency_key, canonical, ToMicros(now), req.old_iban, req.new_iban,
                                   pg::TextArray(req.asset_codes), req.audience_id, area.geojson, area.circle,
                                   area.name_ar, area.name_en);
    if (inserted.empty()) {
      // The key was used before: same request → same incident; else conflict.
      auto existing = tx.exec_params(kSelectByIdempotencyKey, req.idempotency_key, canonical);
      if (existing.empty()) return absl::AbortedError("idempotency key vanished; retry");
      const auto id = existing[0][0].as<std::string>();
      if (!existing[0][1].as<bool>()) {
        return absl::AlreadyExistsError(absl::StrCat(
            "idempotency_key: already used for a different request (incident ", id, ")"));
      }
      result = SelectIncident(tx, id);
      return absl::OkStatus();
    }
    const auto id = inserted[0][0].as<std::string>();
    result = SelectIncident(tx, id);
    if (!result.ok()) return result.status();
    pg::CommitVersion(tx, id, Change::kCreated, plan(*result), now, audit);
    tx.commit();
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  return result;
}

absl::StatusOr<Incident> PgIncidentStore::Update(const IncidentUpdate& req, absl::Time now,
                                                 const NoticePlan& plan, const ChangeAudit& audit) {
  absl::StatusOr<Incident> result = absl::InternalError("not run");
  auto status = pool_->Run([&](pqxx::connection& c) -> absl::Status {
    pqxx::work tx(c);
    auto cur = tx.exec_params(kSelectForUpdate, req.id);
    if (cur.empty()) return absl::NotFoundError(absl::StrCat("incident ", req.id, " not found"));
    if (const auto state = cur[0][1].as<std::string>(); state != "open") {
      return absl::FailedPreconditionError(absl::StrCat("incident ", req.id, " is ", state));
    }
    if (auto s = CheckVersion(req.id, cur[0][0].as<int64_t>(), req.expected_version); !s.ok()) return s;
    // NULL (keep) is passed as a null optional; libpqxx 6.4 maps a null
    // const char* to SQL NULL.
    const char* ar = req.reason ? req.reason->ar.c_str() : nullptr;
    const char* en = req.reason ? req.reason->en.c_str() : nullptr;
    tx.exec_params(kUpdateIncident, req.id, ar, en,
                   req.expected_restoration_at ? ToMicros(*req.expected_restoration_at) : int64_t{-1}, ToMicros(now),
                   req.starts_at ? ToMicros(*req.starts_at) : int64_t{-1});
    if (req.targets) {
      if (auto s = Retarget(tx, req.id, *req.targets); !s.ok()) return s;
    }
    pg::CommitVersion(tx, req.id, Change::kUpdated, plan, now, audit);
    result = SelectIncident(tx, req.id);
    tx.commit();
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  return result;
}

absl::StatusOr<Incident> PgIncidentStore::Resolve(const std::string& id, int64_t expected_version, absl::Time now,
                                                  const NoticePlan& plan, const ChangeAudit& audit) {
  return Close(id, expected_version, now, Change::kResolved, plan, audit);
}

absl::StatusOr<Incident> PgIncidentStore::Cancel(const std::string& id, int64_t expected_version, absl::Time now,
                                                 const NoticePlan& plan, const ChangeAudit& audit) {
  return Close(id, expected_version, now, Change::kCancelled, plan, audit);
}

absl::StatusOr<Incident> PgIncidentStore::Close(const std::string& id, int64_t expected_version, absl::Time now,
                                                Change change, const NoticePlan& plan, const ChangeAudit& audit) {
  absl::StatusOr<Incident> result = absl::InternalError("not run");
  auto status = pool_->Run([&](pqxx::connection& c) -> absl::Status {
    pqxx::work tx(c);
    auto cur = tx.exec_params(kSelectForUpdate, id);
    if (cur.empty()) return absl::NotFoundError(absl::StrCat("incident ", id, " not found"));
    if (const auto state = cur[0][1].as<std::string>(); state != "open") {
      return absl::FailedPreconditionError(absl::StrCat("incident ", id, " is already ", state));
    }
    if (auto s = CheckVersion(id, cur[0][0].as<int64_t>(), expected_version); !s.ok()) return s;
    tx.exec_params(kCloseIncident, id, ToMicros(now), change == Change::kResolved ? "resolved" : "cancelled");
    pg::CommitVersion(tx, id, change, plan, now, audit);
    result = SelectIncident(tx, id);
    tx.commit();
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  return result;
}

absl::StatusOr<std::map<std::string, int64_t>> PgIncidentStore::CurrentVersions(const std::vector<std::string>& ids) {
  std::map<std::string, int64_t> out;
  auto status = pool_->Run([&](pqxx::connection& c) -> absl::Status {
    pqxx::read_transaction tx(c);
    for (const auto& r : tx.exec_params(kCurrentVersions, pg::TextArray(ids))) {
      out[r[0].as<std::string>()] = r[1].as<int64_t>();
    }
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  return out;
}

absl::StatusOr<Incident> PgIncidentStore::Get(const std::string& id) {
  absl::StatusOr<Incident> result = absl::InternalError("not run");
  auto status = pool_->Run([&](pqxx::connection& c) -> absl::Status {
    pqxx::read_transaction tx(c);
    result = SelectIncident(tx, id);
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  return result;
}

absl::StatusOr<std::string> PgIncidentStore::IdForRef(const std::string& ref) {
  std::string id;
  auto status = pool_->Run([&](pqxx::connection& c) -> absl::Status {
    pqxx::read_transaction tx(c);
    auto rows = tx.exec_params(kSelectIdByRef, ref);
    if (rows.empty()) return absl::NotFoundError(absl::StrCat("incident ", ref, " not found"));
    id = rows[0][0].as<std::string>();
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  return id;
}

absl::StatusOr<Incident> PgIncidentStore::GetVersion(const std::string& id, int64_t version) {
  absl::StatusOr<Incident> result = absl::InternalError("not run");
  auto status = pool_->Run([&](pqxx::connection& c) -> absl::Status {
    pqxx::read_transaction tx(c);
    result = SelectVersion(tx, id, version);
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  return result;
}

absl::StatusOr<IncidentPage> PgIncidentStore::List(const ListFilter& filter) {
  int64_t offset = 0;
  if (!filter.page_token.empty() && (!absl::SimpleAtoi(filter.page_token, &offset) || offset < 0)) {
    return absl::InvalidArgumentError("page_token: invalid");
  }
  IncidentPage page;
  auto status = pool_->Run([&](pqxx::connection& c) -> absl::Status {
    pqxx::read_transaction tx(c);
    const std::string state = filter.state ? std::string(ToString(*filter.state)) : "";
    auto rows = tx.exec_params(absl::StrCat("SELECT ", kIncidentColumns,
                                            " FROM incidents WHERE ($1 = '' OR state = $1) "
                                            "ORDER BY created_at DESC, id LIMIT $2 OFFSET $3"),
                               state, filter.page_size + 1, offset);
    for (const auto& r : rows) {
      if (static_cast<int>(page.incidents.size()) == filter.page_size) {
        page.next_page_token = absl::StrCat(offset + filter.page_size);
        break;
      }
      page.incidents.push_back(RowToIncident(r));
    }
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  return page;
}

absl::StatusOr<DeliveryReport> PgIncidentStore::Report(const std::string& id, int max_failures) {
  absl::StatusOr<DeliveryReport> result = absl::InternalError("not run");
  auto status = reads_->CaughtUp("report")->Run([&](pqxx::connection& c) -> absl::Status {
    pqxx::read_transaction tx(c);
    auto incident = SelectIncident(tx, id);
    if (!incident.ok()) {
      result = incident.status();
      return absl::OkStatus();
    }
    DeliveryReport report;
    report.incident_id = id;
    report.incident_version = incident->version;
    for (const auto& r : tx.exec_params(kReportCounts, id)) {
      DeliveryCount count;
      count.incident_version = r[0].as<int64_t>();
      count.kind = ParseNoticeKind(r[1].as<std::string>()).value_or(NoticeKind::kOutageStarted);
      count.occasion = r[2].as<std::string>();
      count.channel = ParseChannel(r[3].as<std::string>()).value_or(Channel::kSms);
      count.state = ParseNoticeState(r[4].as<std::string>()).value_or(NoticeState::kClaimed);
      count.count = r[5].as<int64_t>();
      report.counts.push_back(count);
    }
    for (const auto& r : tx.exec_params(kReportFailures, id, max_failures)) {
      DeliveryFailure f;
      f.customer_id = r[0].as<int64_t>();
      f.channel = ParseChannel(r[1].as<std::string>()).value_or(Channel::kSms);
      f.incident_version = r[2].as<int64_t>();
      f.kind = ParseNoticeKind(r[3].as<std::string>()).value_or(NoticeKind::kOutageStarted);
      f.error = r[4].as<std::string>();
      report.failures.push_back(std::move(f));
    }
    result = std::move(report);
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  return result;
}

absl::StatusOr<std::vector<IncidentChangeRecord>> PgIncidentStore::History(const std::string& id) {
  absl::StatusOr<std::vector<IncidentChangeRecord>> result = absl::InternalError("not run");
  auto status = pool_->Run([&](pqxx::connection& c) -> absl::Status {
    pqxx::read_transaction tx(c);
    if (auto current = SelectIncident(tx, id); !current.ok()) {
      result = current.status();
      return absl::OkStatus();
    }
    std::vector<IncidentChangeRecord> out;
    for (const auto& r : tx.exec_params(kSelectHistory, id)) {
      IncidentChangeRecord rec;
      rec.snapshot = RowToIncident(r);
      rec.version = rec.snapshot.version;
      rec.changed_at = rec.snapshot.updated_at;
      rec.change = r[23].as<std::string>();
      rec.actor = r[24].as<std::string>();
      rec.summary = r[25].as<std::string>();
      out.push_back(std::move(rec));
    }
    result = std::move(out);
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  return result;
}

absl::StatusOr<Completeness> PgIncidentStore::CheckCompleteness(const std::string& id, int max_listed, absl::Time now,
                                                                const RedriveDecision& redrive) {
  absl::StatusOr<Completeness> result = absl::InternalError("not run");
  // Without re-drive it writes nothing: a caught-up replica may answer.
  const auto& pool = redrive ? pool_ : reads_->CaughtUp("completeness");
  auto status = pool->Run([&](pqxx::connection& c) -> absl::Status {
    pqxx::work tx(c);
    // Locks the incident so that no new version appears while we look (and
    // a re-driven event is for the version that is current at commit).
    if (tx.exec_params(redrive ? kSelectForUpdate : kSelectCurrent, id).empty()) {
      result = absl::NotFoundError(absl::StrCat("incident ", id, " not found"));
      return absl::OkStatus();
    }
    auto incident = SelectIncident(tx, id);
    if (!incident.ok()) return incident.status();
    auto check = CheckAudience(tx, *incident, max_listed);
    if (!check.ok()) return check.status();
    if (redrive && check->kind && redrive(*check, ReadFanOutActivity(tx, id, check->version, now))) {
      // Exactly what CommitVersion does for an immediate notice.
      tx.exec_params(pg::kQueueNotice, id, check->version, ToString(*check->kind), check->occasion, ToMicros(now));
      tx.exec0(kNotifyOutbox);
      check->redriven = true;
    }
    tx.commit();
    result = std::move(check);
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  return result;
}

absl::StatusOr<int64_t> PgIncidentStore::UnpublishedOutboxCount() { return pool_->Count(kUnpublishedOutbox); }

}  // namespace forewarn
