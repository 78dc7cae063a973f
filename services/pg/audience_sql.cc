#include "services/pg/audience_sql.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "services/pg/pg_pool.h"

namespace forewarn::pg {
namespace {

// Uses one of the incident's services, in any region: what restricts the
// selectors that do not name a service themselves (lists, areas).
std::string UsesService(absl::string_view id, absl::string_view services) {
  return absl::StrCat("EXISTS (SELECT 1 FROM customer_services cs WHERE cs.customer_id = ", id,
                      " AND cs.service_code = ANY(", services, "))");
}

std::string RegionMembers(absl::string_view services, absl::string_view regions) {
  return absl::StrCat("SELECT cs.customer_id FROM customer_services cs WHERE cs.service_code = ANY(", services,
                      ") AND cs.region_code = ANY(", regions, ")");
}

// Attached, for one of the services, to an asset of the subtrees.
std::string AssetMembers(absl::string_view services, absl::string_view assets) {
  return absl::StrCat(
      "SELECT ca.customer_id FROM customer_assets ca WHERE ca.service_code = ANY(", services,
      ") AND ca.asset_code IN (WITH RECURSIVE sub(code) AS (SELECT a.code FROM assets a WHERE a.code = ANY(", assets,
      ") UNION SELECT a.code FROM assets a JOIN sub ON a.parent_code = sub.code) SELECT code FROM sub)");
}

std::string ListMembers(absl::string_view services, absl::string_view audience) {
  return absl::StrCat("SELECT m.customer_id FROM audience_members m WHERE m.audience_id = ", audience, " AND ",
                      UsesService("m.customer_id", services));
}

std::string AreaMembers(absl::string_view services, absl::string_view area) {
  return absl::StrCat("SELECT c.id FROM customers c WHERE ST_Covers(", area, ", c.location) AND ",
                      UsesService("c.id", services));
}

// The customer ids `targets` reach (with repeats).
std::string Members(absl::string_view services, const Targets& targets, SqlArgs& args) {
  std::vector<std::string> branches;
  for (auto& s : SelectorsSql(services, targets, args)) branches.push_back(std::move(s.sql));
  if (branches.empty()) return "SELECT NULL::bigint WHERE false";  // no selector: nobody (refused on input)
  return absl::StrJoin(branches, " UNION ALL ");
}

// Which customers of the 'affected' audience a scope keeps.
std::string ScopeCondition(const AudienceQuery& q, absl::string_view services, SqlArgs& args) {
  const std::string current = Members(services, TargetsOf(q.incident), args);
  if (q.scope == AudienceScope::kAll || q.previous == nullptr) return absl::StrCat("c.id IN (", current, ")");
  const std::string previous = Members(services, TargetsOf(*q.previous), args);
  auto absent = [](const std::string& members) {
    return absl::StrCat("NOT EXISTS (SELECT 1 FROM (", members, ") AS m(id) WHERE m.id = c.id)");
  };
  switch (q.scope) {
    case AudienceScope::kJoined: return absl::StrCat("c.id IN (", current, ") AND ", absent(previous));
    case AudienceScope::kLeft: return absl::StrCat("c.id IN (", previous, ") AND ", absent(current));
    default: return absl::StrCat("c.id IN (", current, ") AND c.id IN (", previous, ")");
  }
}

constexpr char kMember[] =
    "SELECT c.id, c.name, c.locale, c.time_zone, coalesce(c.phone, '') AS phone, coalesce(c.email, '') AS email, "
    "  c.{ch} AS ch, {role} AS role FROM customers c ";

std::string MemberColumns(NoticeCategory category, absl::string_view role) {
  return absl::StrReplaceAll(kMember, {{"{ch}", ChannelsColumn(category)}, {"{role}", role}});
}

std::string AudienceMembers(const AudienceQuery& q, SqlArgs& args) {
  const NoticeCategory category = CategoryOf(q.incident.kind);
  if (q.incident.kind == IncidentKind::kIbanChange) {
    const std::string iban = args.Add(q.incident.old_iban, "text");
    return absl::StrCat(MemberColumns(category, "'holder'::text"),
                        "JOIN accounts acc ON acc.customer_id = c.id WHERE acc.iban = ", iban, " UNION ALL ",
                        MemberColumns(category, "'beneficiary'"),
                        "WHERE EXISTS (SELECT 1 FROM beneficiaries b WHERE b.customer_id = c.id AND b.iban = ", iban,
                        ")");
  }
  const std::string services = args.Add(TextArray(q.incident.services), "text[]");
  return absl::StrCat(MemberColumns(category, "'affected'::text"), "WHERE ", ScopeCondition(q, services, args));
}

}  // namespace

std::string SqlArgs::Add(std::string value, absl::string_view cast) {
  values_.push_back(std::move(value));
  return absl::StrCat("$", next_++, "::", cast);
}

const char* ChannelsColumn(NoticeCategory category) {
  switch (category) {
    case NoticeCategory::kUnplannedOutages: return "channels_unplanned";
    case NoticeCategory::kPlannedMaintenance: return "channels_maintenance";
    case NoticeCategory::kBankingChanges: return "channels_banking";
  }
  return "channels_unplanned";
}

std::string CircleArray(const Circle& c) {
  // %.17g: every double exactly (StrCat would keep six digits, ~10 m of longitude).
  return absl::StrFormat("{%.17g,%.17g,%.17g}", c.latitude, c.longitude, c.radius_meters);
}

std::string AreaSql(const Area& area, SqlArgs& args) {
  if (area.circle) return absl::StrCat("forewarn_area(NULL, ", args.Add(CircleArray(*area.circle), "float8[]"), ")");
  return absl::StrCat("forewarn_area(", args.Add(area.geojson, "text"), ", NULL)");
}

std::vector<SelectorSql> SelectorsSql(absl::string_view services, const Targets& targets, SqlArgs& args) {
  const absl::string_view s = services;
  std::vector<SelectorSql> out;
  if (!targets.regions.empty()) {
    out.push_back({"regions", RegionMembers(s, args.Add(TextArray(targets.regions), "text[]"))});
  }
  if (!targets.asset_codes.empty()) {
    out.push_back({"assets", AssetMembers(s, args.Add(TextArray(targets.asset_codes), "text[]"))});
  }
  if (!targets.audience_id.empty()) out.push_back({"audience", ListMembers(s, args.Add(targets.audience_id, "uuid"))});
  if (targets.area) out.push_back({"area", AreaMembers(s, AreaSql(*targets.area, args))});
  return out;
}

std::string AudienceSql(const AudienceQuery& query, SqlArgs& args) {
  // {ch}: the category's channels (bit 1 SMS, bit 2 email).
  return absl::StrCat(
      "SELECT a.id, a.name, a.locale, a.time_zone, a.phone, a.email, a.role, "
      "  (a.ch & 1) <> 0 AND a.phone <> '' AS by_sms, "
      "  ((a.ch & 2) <> 0 OR ((a.ch & 1) <> 0 AND a.phone = '')) AND a.email <> '' AS by_email FROM (",
      AudienceMembers(query, args), ") a");
}

}  // namespace forewarn::pg
