#pragma once

// Uploaded audience lists (UploadAudience): the caller streams the customers
// an incident affects — Forewarn ids, the CRM's external ids, IBANs (an
// account's holder) — in chunks; the list is stored resolved to customer
// ids, and an incident names it by id (Targets.audience_id). Entries that
// name no customer are counted and sampled, never an error.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace forewarn {

inline constexpr size_t kMaxAudienceChunkEntries = 100000;  // ids + external ids + IBANs per chunk
inline constexpr size_t kMaxAudienceLabelChars = 200;
inline constexpr size_t kMaxAudienceExternalIdBytes = 128;  // as the directory's external_id
inline constexpr size_t kAudienceUnknownSample = 20;

// One chunk as the caller sent it (AudienceChunk in the API).
struct AudienceChunk {
  std::string label;  // the first chunk only
  std::vector<int64_t> customer_ids;
  std::vector<std::string> external_ids;
  std::vector<std::string> ibans;
};

// A chunk once checked (CheckAudienceChunk).
struct CheckedAudienceChunk {
  std::vector<int64_t> customer_ids;
  std::vector<std::string> external_ids;
  std::vector<std::string> ibans;            // compact, upper-case (NormalizeIban)
  std::vector<std::string> malformed_ibans;  // as sent: no account can have them, so unknown entries
  int64_t entries() const {
    return static_cast<int64_t>(customer_ids.size() + external_ids.size() + ibans.size() + malformed_ibans.size());
  }
};

// Checks chunk `index` (0-based, as in "chunks[3]") of a stream. The caller
// errs, INVALID_ARGUMENT naming the field ("chunks[3].customer_ids[5]: must
// be positive"), for: more than kMaxAudienceChunkEntries entries, a label
// on a chunk other than the first or longer than 200 characters (or not
// UTF-8, or with control characters), an id <= 0, an external id empty,
// longer than 128 bytes, not UTF-8 or with control characters. A malformed
// IBAN is no error: it is an entry that names no customer.
absl::StatusOr<CheckedAudienceChunk> CheckAudienceChunk(int64_t index, const AudienceChunk& chunk);

// An entry that matched no customer.
struct UnknownEntry {
  enum class Kind { kId, kExternalId, kIban };
  Kind kind = Kind::kId;
  std::string text;  // the id in decimal, the external id, the IBAN as sent or compact
};
// How the sample shows it: "id:17", "external:C-1", "iban:SA03 **** 7519"
// (IBANs masked, mask.h).
std::string SampleText(const UnknownEntry& entry);

// What adding one chunk to a list found.
struct ChunkMatch {
  int64_t added = 0;    // customers new to the list (a customer already in it is not counted again)
  int64_t unknown = 0;  // entries that matched no customer
  std::vector<UnknownEntry> sample;  // up to the sample size asked for
};

// What an upload ends with (UploadedAudience in the API).
struct UploadedAudience {
  std::string id;       // UUID
  int64_t entries = 0;  // entries received
  int64_t customers = 0;  // distinct customers matched
  int64_t unknown = 0;    // entries that matched no customer
  std::vector<std::string> unknown_sample;  // up to 20, SampleText
  bool operator==(const UploadedAudience&) const = default;
};

// The totals written on the list when it is finished.
struct AudienceListSummary {
  std::string label;
  int64_t entries = 0;
  int64_t customers = 0;
  int64_t unknown = 0;
};

// Port: where lists are stored. One list is stored in one transaction, from
// its beginning (Store called) through its chunks (Upload::Add) to its end
// (`fill` returned the summary): until then nobody sees it, and a failed or
// cancelled upload leaves nothing.
class AudienceListStore {
 public:
  // The list being stored.
  class Upload {
   public:
    virtual ~Upload() = default;
    // Adds the customers the chunk's entries name (ids: customers.id,
    // external ids: the directory's, IBANs: the account's holder); counts
    // the entries that name none and returns up to `max_sample` of them.
    virtual absl::StatusOr<ChunkMatch> Add(const CheckedAudienceChunk& chunk, size_t max_sample) = 0;
  };
  virtual ~AudienceListStore() = default;
  // Begins a list created by `created_by`, runs `fill` with it and, when
  // `fill` returns the summary, writes the list's row and commits. Returns
  // the list's id. When `fill` fails (or the store does), nothing is stored
  // and its status is returned.
  virtual absl::StatusOr<std::string> Store(
      const std::string& created_by, const std::function<absl::StatusOr<AudienceListSummary>(Upload&)>& fill) = 0;
};

// The use case: reads a stream of chunks, checks each, stores the list.
class AudienceListService {
 public:
  // The caller's next chunk; nullopt at the end of the stream; an error
  // (the stream broke, the caller cancelled) abandons the upload.
  using ChunkReader = std::function<absl::StatusOr<std::optional<AudienceChunk>>()>;

  explicit AudienceListService(AudienceListStore& store) : store_(store) {}

  // INVALID_ARGUMENT for a chunk CheckAudienceChunk refuses, or a stream
  // with no entry at all ("chunks: the list has no entries"); nothing is
  // stored then.
  absl::StatusOr<UploadedAudience> Upload(const std::string& actor, const ChunkReader& next);

 private:
  AudienceListStore& store_;
};

}  // namespace forewarn
