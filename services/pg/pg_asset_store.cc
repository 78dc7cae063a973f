#include "services/pg/pg_asset_store.h"

#include <algorithm>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "services/pg/customer_sql.h"
#include "services/pg/pg_pool.h"

namespace forewarn {
namespace {

using pg::ArrayLiteral;

// The codes of $1 that no stored asset has.
constexpr char kMissing[] =
    "SELECT u.p FROM unnest($1::text[]) AS u(p) WHERE NOT EXISTS (SELECT 1 FROM assets a WHERE a.code = u.p)";

// New assets inserted, changed ones updated (identical ones not written);
// one row per asset written, true when inserted. The parent key is checked
// at the end of the statement: a parent may come later in the arrays.
constexpr char kUpsert[] =
    "INSERT INTO assets (code, kind, parent_code, name_ar, name_en) "
    "SELECT u.c, u.k, nullif(u.p, ''), u.ar, u.en "
    "FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[]) AS u(c, k, p, ar, en) "
    "ON CONFLICT (code) DO UPDATE SET kind = excluded.kind, parent_code = excluded.parent_code, "
    "  name_ar = excluded.name_ar, name_en = excluded.name_en, updated_at = now() "
    "WHERE (assets.kind, assets.parent_code, assets.name_ar, assets.name_en) IS DISTINCT FROM "
    "  (excluded.kind, excluded.parent_code, excluded.name_ar, excluded.name_en) "
    "RETURNING (xmax = 0) AS inserted";

// An asset of $1 that is now below itself (the first by code), if any. The
// tree was acyclic before the batch, so every cycle passes through an asset
// of the batch; UNION (not ALL) ends a walk that enters a cycle elsewhere.
constexpr char kCycle[] =
    "WITH RECURSIVE up(start, code) AS ("
    "  SELECT a.code, a.parent_code FROM assets a WHERE a.code = ANY($1::text[]) AND a.parent_code IS NOT NULL "
    "  UNION "
    "  SELECT up.start, a.parent_code FROM up JOIN assets a ON a.code = up.code "
    "  WHERE a.parent_code IS NOT NULL AND up.code <> up.start) "
    "SELECT start FROM up WHERE code = start ORDER BY start LIMIT 1";

// A page of children ($1 parent; the roots when the statement is
// asset_roots), codes above $2, $3 rows, each with the distinct customers
// attached to it or below it.
#define FW_ASSET_PAGE(where)                                                                                       \
  "WITH RECURSIVE page AS (SELECT code, kind, parent_code, name_ar, name_en FROM assets WHERE " where              \
  "  AND code > $2 ORDER BY code LIMIT $3), "                                                                      \
  "sub(root, code) AS (SELECT code, code FROM page "                                                               \
  "  UNION ALL SELECT s.root, a.code FROM sub s JOIN assets a ON a.parent_code = s.code), "                        \
  "counts AS (SELECT s.root, count(DISTINCT ca.customer_id) AS n FROM sub s "                                      \
  "  JOIN customer_assets ca ON ca.asset_code = s.code GROUP BY s.root) "                                          \
  "SELECT p.code, p.kind, coalesce(p.parent_code, ''), p.name_ar, p.name_en, coalesce(c.n, 0) "                    \
  "FROM page p LEFT JOIN counts c ON c.root = p.code ORDER BY p.code"
constexpr char kRoots[] = FW_ASSET_PAGE("parent_code IS NULL AND $1::text = ''");
constexpr char kChildren[] = FW_ASSET_PAGE("parent_code = $1");
#undef FW_ASSET_PAGE

constexpr char kExists[] = "SELECT count(*) FROM assets WHERE code = $1";

absl::Status Refuse(size_t i, absl::string_view field, absl::string_view reason) {
  return absl::InvalidArgumentError(absl::StrCat("assets[", i, "].", field, ": ", reason));
}

// INVALID_ARGUMENT for the first asset whose parent is neither in the batch
// nor stored.
absl::Status CheckParents(pqxx::transaction_base& tx, const pg::PgPool& pool, const std::vector<Asset>& assets,
                          const std::unordered_map<std::string_view, size_t>& index) {
  ArrayLiteral outside;
  bool any = false;
  for (const Asset& a : assets) {
    if (a.parent_code.empty() || index.contains(a.parent_code)) continue;
    outside.Add(a.parent_code);
    any = true;
  }
  if (!any) return absl::OkStatus();
  std::unordered_map<std::string, bool> missing;
  for (const auto& r : pool.Exec(tx, "asset_missing", outside.Take())) missing.emplace(r[0].as<std::string>(), true);
  for (size_t i = 0; i < assets.size(); ++i) {
    if (missing.contains(assets[i].parent_code)) {
      return Refuse(i, "parent_code", absl::StrCat("no asset '", assets[i].parent_code, "' (stored or in this request)"));
    }
  }
  return absl::OkStatus();
}

AssetUpsertCounts Write(pqxx::transaction_base& tx, const pg::PgPool& pool, const std::vector<Asset>& assets) {
  ArrayLiteral code, kind, parent, ar, en;
  for (const Asset& a : assets) {
    code.Add(a.code);
    kind.Add(a.kind);
    parent.Add(a.parent_code);
    ar.Add(a.name.ar);
    en.Add(a.name.en);
  }
  AssetUpsertCounts out;
  for (const auto& r : pool.Exec(tx, "asset_upsert", code.Take(), kind.Take(), parent.Take(), ar.Take(), en.Take())) {
    (r[0].as<bool>() ? out.inserted : out.updated)++;
  }
  out.unchanged = static_cast<int64_t>(assets.size()) - out.inserted - out.updated;
  return out;
}

absl::Status CheckAcyclic(pqxx::transaction_base& tx, const pg::PgPool& pool, const std::vector<Asset>& assets,
                          const std::unordered_map<std::string_view, size_t>& index) {
  ArrayLiteral codes;
  for (const Asset& a : assets) codes.Add(a.code);
  auto rows = pool.Exec(tx, "asset_cycle", codes.Take());
  if (rows.empty()) return absl::OkStatus();
  const std::string code = rows[0][0].as<std::string>();
  return Refuse(index.at(code), "parent_code",
                absl::StrCat("would put '", code, "' below itself (a cycle in the asset tree)"));
}

}  // namespace

PgAssetStore::PgAssetStore(PgDatabase db) : pool_(db.pool()) {
  pool_->AddPrepared({{"asset_missing", kMissing},
                      {"asset_upsert", kUpsert},
                      {"asset_cycle", kCycle},
                      {"asset_roots", kRoots},
                      {"asset_children", kChildren},
                      {"asset_exists", kExists}});
}
PgAssetStore::~PgAssetStore() = default;

absl::StatusOr<AssetUpsertCounts> PgAssetStore::Upsert(const std::vector<Asset>& assets) {
  std::unordered_map<std::string_view, size_t> index;
  for (size_t i = 0; i < assets.size(); ++i) index.emplace(assets[i].code, i);
  AssetUpsertCounts counts;
  if (assets.empty()) return counts;
  auto status = pool_->Run([&](pqxx::connection& c) -> absl::Status {
    pqxx::work tx(c);
    if (absl::Status s = CheckParents(tx, *pool_, assets, index); !s.ok()) return s;
    counts = Write(tx, *pool_, assets);
    if (absl::Status s = CheckAcyclic(tx, *pool_, assets, index); !s.ok()) return s;  // rolled back
    tx.commit();
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  return counts;
}

absl::StatusOr<AssetPage> PgAssetStore::List(const AssetFilter& filter) {
  const int page_size = std::clamp(filter.page_size, 1, 5000);
  AssetPage page;
  bool parent_known = true;
  auto status = pool_->Run([&](pqxx::connection& c) -> absl::Status {
    pqxx::read_transaction tx(c);
    const auto rows = pool_->Exec(tx, filter.parent_code.empty() ? "asset_roots" : "asset_children",
                                  filter.parent_code, filter.after_code, int64_t{page_size} + 1);
    for (const auto& r : rows) {
      if (page.assets.size() == static_cast<size_t>(page_size)) {
        page.last_code = page.assets.back().code;
        break;
      }
      page.assets.push_back(Asset{r[0].as<std::string>(), r[1].as<std::string>(), r[2].as<std::string>(),
                                  LocalizedText{r[3].as<std::string>(), r[4].as<std::string>()}});
      page.customers.push_back(r[5].as<int64_t>());
    }
    if (page.assets.empty() && !filter.parent_code.empty()) {
      parent_known = pool_->Exec1(tx, "asset_exists", filter.parent_code)[0].as<int64_t>() > 0;
    }
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  if (!parent_known) return absl::NotFoundError(absl::StrCat("parent_code: no asset '", filter.parent_code, "'"));
  return page;
}

}  // namespace forewarn
