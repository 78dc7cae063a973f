#include "services/pg/pg_targets.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "services/pg/audience_sql.h"
#include "services/pg/pg_pool.h"

namespace forewarn::pg {
namespace {

constexpr char kUnknownAssets[] =
    "SELECT u.c FROM unnest($1::text[]) WITH ORDINALITY AS u(c, o) "
    "WHERE NOT EXISTS (SELECT 1 FROM assets a WHERE a.code = u.c) ORDER BY u.o LIMIT 10";

absl::Status CheckArea(pqxx::transaction_base& tx, const Area& area, absl::string_view field) {
  SqlArgs args;
  const std::string sql = absl::StrCat("SELECT ST_IsValidReason(", AreaSql(area, args), ")");
  try {
    const auto reason = tx.exec_params1(sql, pqxx::prepare::make_dynamic_params(args.values()))[0];
    if (reason.is_null() || reason.as<std::string>() == "Valid Geometry") return absl::OkStatus();
    // e.g. "Self-intersection[46.71 24.69]": PostGIS names the problem and where.
    return absl::InvalidArgumentError(absl::StrCat(field, ": ", reason.as<std::string>()));
  } catch (const pqxx::data_exception& e) {  // the transaction is lost: the caller returns this
    return absl::InvalidArgumentError(absl::StrCat(field, ": PostGIS cannot read it: ", e.what()));
  }
}

}  // namespace

absl::Status CheckTargets(pqxx::transaction_base& tx, const Targets& targets, absl::string_view prefix) {
  if (!targets.asset_codes.empty()) {
    std::vector<std::string> unknown;
    for (const auto& r : tx.exec_params(kUnknownAssets, TextArray(targets.asset_codes))) {
      unknown.push_back(r[0].as<std::string>());
    }
    if (!unknown.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat(prefix, "asset_codes: unknown asset", unknown.size() > 1 ? "s " : " ",
                       absl::StrJoin(unknown, ", ")));
    }
  }
  if (!targets.audience_id.empty() &&
      tx.exec_params("SELECT 1 FROM audiences WHERE id = $1::uuid", targets.audience_id).empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(prefix, "audience_id: no uploaded audience ", targets.audience_id));
  }
  if (targets.area) return CheckArea(tx, *targets.area, absl::StrCat(prefix, "area"));
  return absl::OkStatus();
}

}  // namespace forewarn::pg
