#include "services/core/audience_lists.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "services/core/iban.h"
#include "services/core/mask.h"
#include "services/core/validation.h"

namespace forewarn {
namespace {

absl::Status Invalid(absl::string_view field, absl::string_view reason) {
  return absl::InvalidArgumentError(absl::StrCat(field, ": ", reason));
}

bool HasControl(absl::string_view s) {
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) return true;
  }
  return false;
}

absl::Status CheckLabel(const std::string& chunk, int64_t index, const std::string& label) {
  if (label.empty()) return absl::OkStatus();
  const std::string field = absl::StrCat(chunk, ".label");
  if (index != 0) return Invalid(field, "only the first chunk may carry the label");
  if (!IsValidUtf8(label)) return Invalid(field, "is not valid UTF-8");
  if (HasControl(label)) return Invalid(field, "must not contain control characters");
  if (const size_t n = Utf8Length(label); n > kMaxAudienceLabelChars) {
    return Invalid(field, absl::StrCat("is ", n, " characters, at most ", kMaxAudienceLabelChars, " allowed"));
  }
  return absl::OkStatus();
}

absl::Status CheckExternalId(const std::string& field, const std::string& id) {
  if (id.empty()) return Invalid(field, "must not be empty");
  if (id.size() > kMaxAudienceExternalIdBytes) {
    return Invalid(field, absl::StrCat("is longer than ", kMaxAudienceExternalIdBytes, " bytes"));
  }
  if (!IsValidUtf8(id)) return Invalid(field, "is not valid UTF-8");
  if (HasControl(id)) return Invalid(field, "must not contain control characters");
  return absl::OkStatus();
}

void AddSample(std::vector<std::string>& sample, const UnknownEntry& entry) {
  if (sample.size() < kAudienceUnknownSample) sample.push_back(SampleText(entry));
}

}  // namespace

absl::StatusOr<CheckedAudienceChunk> CheckAudienceChunk(int64_t index, const AudienceChunk& chunk) {
  const std::string at = absl::StrCat("chunks[", index, "]");
  const size_t entries = chunk.customer_ids.size() + chunk.external_ids.size() + chunk.ibans.size();
  if (entries > kMaxAudienceChunkEntries) {
    return Invalid(at, absl::StrCat("has ", entries, " entries, at most ", kMaxAudienceChunkEntries, " per chunk"));
  }
  if (auto s = CheckLabel(at, index, chunk.label); !s.ok()) return s;
  CheckedAudienceChunk out;
  for (size_t i = 0; i < chunk.customer_ids.size(); ++i) {
    if (chunk.customer_ids[i] <= 0) return Invalid(absl::StrCat(at, ".customer_ids[", i, "]"), "must be positive");
  }
  out.customer_ids = chunk.customer_ids;
  for (size_t i = 0; i < chunk.external_ids.size(); ++i) {
    if (auto s = CheckExternalId(absl::StrCat(at, ".external_ids[", i, "]"), chunk.external_ids[i]); !s.ok()) return s;
  }
  out.external_ids = chunk.external_ids;
  for (const auto& iban : chunk.ibans) {
    auto compact = NormalizeIban("iban", iban);
    if (compact.ok()) {
      out.ibans.push_back(std::move(*compact));
    } else {
      out.malformed_ibans.push_back(iban);
    }
  }
  return out;
}

std::string SampleText(const UnknownEntry& entry) {
  switch (entry.kind) {
    case UnknownEntry::Kind::kId: return absl::StrCat("id:", entry.text);
    case UnknownEntry::Kind::kExternalId: return absl::StrCat("external:", entry.text);
    case UnknownEntry::Kind::kIban: return absl::StrCat("iban:", MaskIban(entry.text));
  }
  return entry.text;
}

absl::StatusOr<UploadedAudience> AudienceListService::Upload(const std::string& actor, const ChunkReader& next) {
  UploadedAudience out;
  auto fill = [&](AudienceListStore::Upload& upload) -> absl::StatusOr<AudienceListSummary> {
    AudienceListSummary summary;
    for (int64_t index = 0;; ++index) {
      auto chunk = next();
      if (!chunk.ok()) return chunk.status();
      if (!chunk->has_value()) break;
      if (index == 0) summary.label = (*chunk)->label;
      auto checked = CheckAudienceChunk(index, **chunk);
      if (!checked.ok()) return checked.status();
      for (const auto& iban : checked->malformed_ibans) AddSample(out.unknown_sample, {UnknownEntry::Kind::kIban, iban});
      const size_t room = kAudienceUnknownSample - out.unknown_sample.size();
      auto match = upload.Add(*checked, room);
      if (!match.ok()) return match.status();
      for (const auto& entry : match->sample) AddSample(out.unknown_sample, entry);
      summary.entries += checked->entries();
      summary.customers += match->added;
      summary.unknown += match->unknown + static_cast<int64_t>(checked->malformed_ibans.size());
    }
    if (summary.entries == 0) return Invalid("chunks", "the list has no entries");
    out.entries = summary.entries;
    out.customers = summary.customers;
    out.unknown = summary.unknown;
    return summary;
  };
  auto id = store_.Store(actor, fill);
  if (!id.ok()) return id.status();
  out.id = std::move(*id);
  return out;
}

}  // namespace forewarn
