#pragma once

// forewarn audience upload: a list of affected customers streamed through
// IncidentService.UploadAudience.
//
// One entry a line: with --by, the line is the entry (a Forewarn id, an
// external id or an IBAN); without it, each line says what it is: "id:123",
// "external:C-1", "iban:SA03 8000 ...". Blank lines and lines starting with
// '#' are skipped; surrounding spaces and a CR are ignored. Entries are sent
// in chunks of kChunkEntries as the file is read, so memory stays flat for
// any length of list.

#include <string>
#include "absl/strings/string_view.h"

#include "absl/status/statusor.h"
#include "forewarn/v1/incident.pb.h"
#include "services/cli/session.h"

namespace forewarn::cli {

inline constexpr int kAudienceChunkEntries = 10000;

struct AudienceUploadFlags {
  std::string path;   // "-": standard input
  std::string label;  // what the list is, for the audit
  std::string by;     // "", "id", "external_id", "iban"
};

// Adds the entry of one line to `chunk`: 1 when it added one, 0 for a blank
// line or a comment. INVALID_ARGUMENT with the reason (without the file and
// line: the caller adds them) for a line that cannot be read: not UTF-8, an
// unknown prefix, an id that is not a positive number, an empty entry, an
// external id longer than 128 bytes or with control characters.
absl::StatusOr<int> AddAudienceLine(absl::string_view line, absl::string_view by, v1::AudienceChunk& chunk);

// Streams the file and prints the intake's answer. Exit codes: 0 the list
// is stored (unknown entries are reported, not fatal); 1 the intake refused
// it, the stream failed, or a line could not be read ("FILE:LINE: reason";
// the stream is cancelled: nothing stored); 2 bad usage (unreadable file).
int RunAudienceUpload(Session& session, const AudienceUploadFlags& flags);

}  // namespace forewarn::cli
