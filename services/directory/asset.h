#pragma once

// The network asset tree customers attach to (utility: substation > feeder >
// transformer; telco: site > cell; bank: branch) and that incidents target:
// an asset, the rules it must meet, and its storage port. No gRPC, libpqxx
// or librdkafka here.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "services/core/model.h"

namespace forewarn {

struct Asset {
  std::string code;         // unique: 1-64 of A-Z a-z 0-9 _ . : -
  std::string kind;         // 1-32 of a-z 0-9 _ ("substation", "feeder", ...)
  std::string parent_code;  // empty: a root
  LocalizedText name;       // the place as customers know it
  bool operator==(const Asset&) const = default;
};

inline constexpr size_t kMaxAssetsPerUpsert = 10000;
inline constexpr size_t kMaxAssetNameChars = 200;

// ^[A-Za-z0-9_.:-]{1,64}$
bool IsAssetCode(std::string_view code);
// ^[a-z0-9_]{1,32}$
bool IsAssetKind(std::string_view kind);

// Checks one batch of UpsertAssets: at most kMaxAssetsPerUpsert; each
// asset's code and kind syntax, names in both languages (1-200 characters of
// valid UTF-8 without control characters), a parent code of valid syntax
// other than its own code, no code twice. INVALID_ARGUMENT naming the first
// field at fault: "assets[3].parent_code: is the asset's own code". Whether
// the parents exist and the tree stays acyclic is the store's to check.
absl::Status ValidateAssets(const std::vector<Asset>& assets);

struct AssetUpsertCounts {
  int64_t inserted = 0;
  int64_t updated = 0;
  int64_t unchanged = 0;
};

struct AssetFilter {
  std::string parent_code;  // empty: the roots
  int page_size = 100;
  std::string after_code;  // keyset paging: codes above this one
};

struct AssetPage {
  std::vector<Asset> assets;       // by code (byte order)
  std::vector<int64_t> customers;  // per asset: customers attached to it or any asset below it
  std::string last_code;           // "" when this is the last page
};

class AssetStore {
 public:
  virtual ~AssetStore() = default;
  // Writes validated assets (ValidateAssets) in one transaction, all or
  // nothing: new ones inserted, stored ones whose kind, parent or names
  // differ updated, identical ones untouched. A parent may be in the batch
  // (in any order) or stored. INVALID_ARGUMENT naming the asset for an
  // unknown parent ("assets[2].parent_code: no asset 'F-9'") or a cycle the
  // batch would make; nothing is written then.
  virtual absl::StatusOr<AssetUpsertCounts> Upsert(const std::vector<Asset>& assets) = 0;
  // The children of filter.parent_code (the roots when empty), by code,
  // with their subtree's customer counts. NOT_FOUND for an unknown parent.
  virtual absl::StatusOr<AssetPage> List(const AssetFilter& filter) = 0;
};

// The asset tree's use cases, independent of transport.
class AssetDirectoryService {
 public:
  explicit AssetDirectoryService(AssetStore& store) : store_(store) {}

  // ValidateAssets, then AssetStore::Upsert.
  absl::StatusOr<AssetUpsertCounts> Upsert(const std::vector<Asset>& assets);
  // page_size 0: 100; INVALID_ARGUMENT outside 0-5000, for a parent code or
  // page token (after_code) that cannot be an asset code.
  absl::StatusOr<AssetPage> List(const AssetFilter& filter);

  static constexpr int kDefaultPageSize = 100;
  static constexpr int kMaxPageSize = 5000;

 private:
  AssetStore& store_;
};

}  // namespace forewarn
