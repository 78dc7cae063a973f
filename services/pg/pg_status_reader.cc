#include "services/pg/pg_status_reader.h"

#include <map>

#include "absl/strings/str_cat.h"
#include "services/pg/pg_pool.h"
#include "services/pg/pg_read.h"

namespace forewarn {
namespace {

using pg::FromMicros;

// An incident row as ReadIncident reads it (i: incidents).
constexpr char kIncidentColumns[] =
    "SELECT i.id::text, i.ref, i.version, i.kind, i.state, i.reason_ar, i.reason_en, " FW_TS("i.starts_at") ", "
    FW_TS("i.expected_restoration_at") ", coalesce(" FW_TS("i.resolved_at") ", -1), " FW_TS("i.updated_at") ", "
    "coalesce(i.area_name_ar, ''), coalesce(i.area_name_en, '') FROM incidents i ";

constexpr char kCurrentFilter[] = "WHERE i.kind <> 'iban_change' AND (i.state = 'open' OR i.updated_at >= " FW_AT("$1") ")";
constexpr char kRefFilter[] = "WHERE i.ref = $1";

// The display names of the incidents `filter` selects: (id, list, position,
// ar, en), list 1 services, 2 regions, 3 targeted assets; a code without a
// row shows as itself.
std::string NamesSql(const char* filter) {
  auto list = [&](int n, const char* column, const char* table) {
    return absl::StrCat("SELECT i.id::text, ", n, ", u.o, coalesce(t.name_ar, u.c), coalesce(t.name_en, u.c) ",
                        "FROM incidents i CROSS JOIN LATERAL unnest(i.", column, ") WITH ORDINALITY u(c, o) ",
                        "LEFT JOIN ", table, " t ON t.code = u.c ", filter);
  };
  return absl::StrCat(list(1, "services", "services"), " UNION ALL ", list(2, "regions", "regions"), " UNION ALL ",
                      list(3, "asset_codes", "assets"), " ORDER BY 1, 2, 3");
}

// Every version of incident $1, with whether its selectors differ from the
// version before.
constexpr char kVersions[] =
    "SELECT v.version, v.change, " FW_TS("v.changed_at") ", v.state, v.reason_ar, v.reason_en, "
    FW_TS("v.starts_at") ", " FW_TS("v.expected_restoration_at") ", coalesce(" FW_TS("v.resolved_at") ", -1), "
    "v.version > 1 AND (v.regions IS DISTINCT FROM lag(v.regions) OVER w "
    "  OR v.asset_codes IS DISTINCT FROM lag(v.asset_codes) OVER w "
    "  OR v.audience_id IS DISTINCT FROM lag(v.audience_id) OVER w "
    "  OR v.area_geojson IS DISTINCT FROM lag(v.area_geojson) OVER w "
    "  OR v.area_circle IS DISTINCT FROM lag(v.area_circle) OVER w) "
    "FROM incident_versions v WHERE v.incident_id = $1::uuid WINDOW w AS (ORDER BY v.version) ORDER BY v.version";

constexpr char kLink[] =
    "SELECT i.ref, l.language, l.time_zone FROM status_links l JOIN incidents i ON i.id = l.incident_id "
    "WHERE l.token = $1";

StatusIncident ReadIncident(const pqxx::row& r) {
  StatusIncident i;
  i.id = r[0].as<std::string>();
  i.ref = r[1].as<std::string>();
  i.version = r[2].as<int64_t>();
  i.kind = ParseIncidentKind(r[3].as<std::string>()).value_or(IncidentKind::kUnplannedOutage);
  i.state = ParseIncidentState(r[4].as<std::string>()).value_or(IncidentState::kOpen);
  i.reason = {r[5].as<std::string>(), r[6].as<std::string>()};
  i.starts_at = FromMicros(r[7].as<int64_t>());
  i.expected_restoration_at = FromMicros(r[8].as<int64_t>());
  if (const auto resolved = r[9].as<int64_t>(); resolved >= 0) i.resolved_at = FromMicros(resolved);
  i.updated_at = FromMicros(r[10].as<int64_t>());
  return i;
}

// Adds the rows of NamesSql to `incidents`, then each area's name to its places.
void AddNames(const pqxx::result& names, std::vector<StatusIncident>& incidents, const pqxx::result& rows) {
  std::map<std::string, StatusIncident*> by_id;
  for (StatusIncident& i : incidents) by_id[i.id] = &i;
  for (const auto& r : names) {
    auto it = by_id.find(r[0].as<std::string>());
    if (it == by_id.end()) continue;
    const int list = r[1].as<int>();
    auto& target = list == 1 ? it->second->services : list == 2 ? it->second->regions : it->second->places;
    target.push_back({r[3].as<std::string>(), r[4].as<std::string>()});
  }
  for (size_t n = 0; n < incidents.size(); ++n) {
    LocalizedText area{rows[n][11].as<std::string>(), rows[n][12].as<std::string>()};
    if (!area.en.empty() || !area.ar.empty()) incidents[n].places.push_back(std::move(area));
  }
}

StatusChange ReadChange(const pqxx::row& r) {
  StatusChange c;
  c.version = r[0].as<int64_t>();
  c.change = r[1].as<std::string>();
  c.at = FromMicros(r[2].as<int64_t>());
  c.state = ParseIncidentState(r[3].as<std::string>()).value_or(IncidentState::kOpen);
  c.reason = {r[4].as<std::string>(), r[5].as<std::string>()};
  c.starts_at = FromMicros(r[6].as<int64_t>());
  c.expected_restoration_at = FromMicros(r[7].as<int64_t>());
  if (const auto resolved = r[8].as<int64_t>(); resolved >= 0) c.resolved_at = FromMicros(resolved);
  c.targets_changed = r[9].as<bool>();
  return c;
}

using ReadOnly = pqxx::transaction<pqxx::repeatable_read, pqxx::read_only>;

}  // namespace

PgStatusReader::PgStatusReader(PgDatabase db) : reads_(db.reads()) {}
PgStatusReader::~PgStatusReader() = default;

absl::StatusOr<std::vector<StatusIncident>> PgStatusReader::Current(absl::Time closed_since) {
  std::vector<StatusIncident> out;
  absl::Status s = reads_->CaughtUp("status")->Run([&](pqxx::connection& c) -> absl::Status {
    ReadOnly tx(c);
    const int64_t since = pg::ToMicros(closed_since);
    const pqxx::result rows = tx.exec_params(absl::StrCat(kIncidentColumns, kCurrentFilter), since);
    const pqxx::result names = tx.exec_params(NamesSql(kCurrentFilter), since);
    tx.commit();
    out.clear();
    for (const auto& r : rows) out.push_back(ReadIncident(r));
    AddNames(names, out, rows);
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return out;
}

absl::StatusOr<IncidentTimeline> PgStatusReader::Timeline(absl::string_view ref) {
  IncidentTimeline out;
  absl::Status s = reads_->CaughtUp("status")->Run([&](pqxx::connection& c) -> absl::Status {
    ReadOnly tx(c);
    const std::string key(ref);
    const pqxx::result rows = tx.exec_params(absl::StrCat(kIncidentColumns, kRefFilter), key);
    if (rows.empty()) return absl::NotFoundError(absl::StrCat("incident ", key, " not found"));
    std::vector<StatusIncident> one = {ReadIncident(rows[0])};
    AddNames(tx.exec_params(NamesSql(kRefFilter), key), one, rows);
    const pqxx::result versions = tx.exec_params(kVersions, one.front().id);
    tx.commit();
    out.incident = std::move(one.front());
    out.changes.clear();
    for (const auto& r : versions) out.changes.push_back(ReadChange(r));
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return out;
}

absl::StatusOr<StatusLink> PgStatusReader::Link(absl::string_view token) {
  StatusLink out;
  absl::Status s = reads_->CaughtUp("status")->Run([&](pqxx::connection& c) -> absl::Status {
    ReadOnly tx(c);
    const pqxx::result rows = tx.exec_params(kLink, std::string(token));
    tx.commit();
    if (rows.empty()) return absl::NotFoundError("status link not found");
    out = {rows[0][0].as<std::string>(), rows[0][1].as<std::string>(), rows[0][2].as<std::string>()};
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return out;
}

}  // namespace forewarn
