#include "services/directory/asset.h"

#include <algorithm>
#include <unordered_map>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "services/core/validation.h"

namespace forewarn {
namespace {

bool IsAssetCodeChar(char c) {
  return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == ':' || c == '-';
}

bool IsKindChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
}

absl::Status Invalid(size_t i, absl::string_view field, absl::string_view reason) {
  return absl::InvalidArgumentError(absl::StrCat("assets[", i, "].", field, ": ", reason));
}

absl::Status CheckName(size_t i, absl::string_view field, absl::string_view text) {
  if (text.empty()) return Invalid(i, field, "is required");
  if (!IsValidUtf8(text)) return Invalid(i, field, "is not valid UTF-8");
  if (std::any_of(text.begin(), text.end(), [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; })) {
    return Invalid(i, field, "must not contain control characters");
  }
  if (Utf8Length(text) > kMaxAssetNameChars) {
    return Invalid(i, field, absl::StrCat("is longer than ", kMaxAssetNameChars, " characters"));
  }
  return absl::OkStatus();
}

absl::Status CheckAsset(size_t i, const Asset& a) {
  if (!IsAssetCode(a.code)) {
    return Invalid(i, "code", a.code.empty() ? "is required"
                                              : absl::StrCat("'", absl::CHexEscape(a.code),
                                                             "' is not 1-64 of A-Z a-z 0-9 _ . : -"));
  }
  if (!IsAssetKind(a.kind)) {
    return Invalid(i, "kind", a.kind.empty() ? "is required"
                                              : absl::StrCat("'", absl::CHexEscape(a.kind),
                                                             "' is not 1-32 of a-z 0-9 _"));
  }
  if (!a.parent_code.empty() && !IsAssetCode(a.parent_code)) {
    return Invalid(i, "parent_code",
                   absl::StrCat("'", absl::CHexEscape(a.parent_code), "' is not 1-64 of A-Z a-z 0-9 _ . : -"));
  }
  if (a.parent_code == a.code) return Invalid(i, "parent_code", "is the asset's own code");
  if (absl::Status s = CheckName(i, "name.ar", a.name.ar); !s.ok()) return s;
  return CheckName(i, "name.en", a.name.en);
}

}  // namespace

bool IsAssetCode(std::string_view code) {
  return !code.empty() && code.size() <= 64 && std::all_of(code.begin(), code.end(), IsAssetCodeChar);
}

bool IsAssetKind(std::string_view kind) {
  return !kind.empty() && kind.size() <= 32 && std::all_of(kind.begin(), kind.end(), IsKindChar);
}

absl::Status ValidateAssets(const std::vector<Asset>& assets) {
  if (assets.empty()) return absl::InvalidArgumentError("assets: at least one asset is required");
  if (assets.size() > kMaxAssetsPerUpsert) {
    return absl::InvalidArgumentError(
        absl::StrCat("assets: at most ", kMaxAssetsPerUpsert, " per request (got ", assets.size(), ")"));
  }
  std::unordered_map<std::string_view, size_t> first_at;
  for (size_t i = 0; i < assets.size(); ++i) {
    if (absl::Status s = CheckAsset(i, assets[i]); !s.ok()) return s;
    auto [it, fresh] = first_at.emplace(assets[i].code, i);
    if (!fresh) return Invalid(i, "code", absl::StrCat("'", assets[i].code, "' repeats assets[", it->second, "]"));
  }
  return absl::OkStatus();
}

absl::StatusOr<AssetUpsertCounts> AssetDirectoryService::Upsert(const std::vector<Asset>& assets) {
  if (absl::Status s = ValidateAssets(assets); !s.ok()) return s;
  return store_.Upsert(assets);
}

absl::StatusOr<AssetPage> AssetDirectoryService::List(const AssetFilter& filter) {
  AssetFilter f = filter;
  if (f.page_size == 0) f.page_size = kDefaultPageSize;
  if (f.page_size < 0 || f.page_size > kMaxPageSize) {
    return absl::InvalidArgumentError(
        absl::StrCat("page_size: ", filter.page_size, " is out of range (0-", kMaxPageSize, ")"));
  }
  if (!f.parent_code.empty() && !IsAssetCode(f.parent_code)) {
    return absl::InvalidArgumentError("parent_code: is not an asset code (1-64 of A-Z a-z 0-9 _ . : -)");
  }
  if (!f.after_code.empty() && !IsAssetCode(f.after_code)) {
    return absl::InvalidArgumentError("page_token: not a token ListAssets returned");
  }
  return store_.List(f);
}

}  // namespace forewarn
