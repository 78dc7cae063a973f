#pragma once

#include <memory>
#include <vector>

#include "services/directory/asset.h"
#include "services/pg/pg_store.h"

namespace forewarn {

// The network asset tree in PostgreSQL (table assets, migrations/0011), over
// the process's shared pool. An upsert is one transaction of set-based
// statements whatever its size: the parents named but not in the batch
// looked up at once (an unknown one refuses the batch), one INSERT ... ON
// CONFLICT over arrays that writes only the new and changed assets, then a
// recursive walk up from every asset of the batch that refuses it (rolled
// back: nothing stored) if any asset ended up below itself.
//
// List counts, per asset of the page, the distinct customers attached
// (customer_assets) to it or to any asset below it.
class PgAssetStore final : public AssetStore {
 public:
  explicit PgAssetStore(PgDatabase db);
  ~PgAssetStore() override;

  absl::StatusOr<AssetUpsertCounts> Upsert(const std::vector<Asset>& assets) override;
  absl::StatusOr<AssetPage> List(const AssetFilter& filter) override;

 private:
  std::shared_ptr<pg::PgPool> pool_;
};

}  // namespace forewarn
