#include "services/cli/audience_upload.h"

#include <fstream>
#include <iostream>
#include <memory>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "services/core/audience_lists.h"
#include "services/core/validation.h"

namespace forewarn::cli {
namespace {

// Checked here so that a refused entry is named by its line (the intake
// would name its chunk and index). Strings that are not UTF-8 would not even
// parse as a chunk there.
constexpr size_t kMaxExternalIdBytes = kMaxAudienceExternalIdBytes;

absl::Status Unreadable(absl::string_view reason) { return absl::InvalidArgumentError(reason); }

absl::Status AddId(absl::string_view text, v1::AudienceChunk& chunk) {
  int64_t id = 0;
  if (!absl::SimpleAtoi(text, &id) || id <= 0) {
    return Unreadable(absl::StrCat("id '", text, "' is not a positive number"));
  }
  chunk.add_customer_ids(id);
  return absl::OkStatus();
}

absl::Status AddExternalId(absl::string_view text, v1::AudienceChunk& chunk) {
  if (text.size() > kMaxExternalIdBytes) {
    return Unreadable(absl::StrCat("external id longer than ", kMaxExternalIdBytes, " bytes"));
  }
  for (char c : text) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return Unreadable("external id with control characters");
  }
  chunk.add_external_ids(std::string(text));
  return absl::OkStatus();
}

absl::Status AddEntry(absl::string_view kind, absl::string_view text, v1::AudienceChunk& chunk) {
  text = absl::StripAsciiWhitespace(text);
  if (text.empty()) return Unreadable(absl::StrCat("empty ", kind));
  if (kind == "id") return AddId(text, chunk);
  if (kind == "external_id") return AddExternalId(text, chunk);
  chunk.add_ibans(std::string(text));  // a malformed IBAN is the intake's to count as unknown
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<int> AddAudienceLine(absl::string_view line, absl::string_view by, v1::AudienceChunk& chunk) {
  line = absl::StripAsciiWhitespace(line);
  if (line.empty() || line.front() == '#') return 0;
  if (!IsValidUtf8(line)) return Unreadable("not valid UTF-8");
  if (!by.empty()) {
    if (auto s = AddEntry(by, line, chunk); !s.ok()) return s;
    return 1;
  }
  const auto colon = line.find(':');
  const absl::string_view prefix = colon == absl::string_view::npos ? line : line.substr(0, colon);
  absl::string_view kind;
  if (prefix == "id") kind = "id";
  if (prefix == "external") kind = "external_id";
  if (prefix == "iban") kind = "iban";
  if (colon == absl::string_view::npos || kind.empty()) {
    return Unreadable("expected id:NUMBER, external:ID or iban:IBAN (or give --by)");
  }
  if (auto s = AddEntry(kind, line.substr(colon + 1), chunk); !s.ok()) return s;
  return 1;
}

namespace {

// The stream of one upload: chunks written as they fill.
class Upload {
 public:
  Upload(Session& session, const AudienceUploadFlags& flags)
      : context_(session.NewContext(/*deadline=*/false)),
        writer_(session.stub().UploadAudience(context_.get(), &response_)) {
    chunk_.set_label(flags.label);
  }

  // Sends the chunk when full; false when the intake has ended the stream.
  bool Added() {
    if (++entries_ < kAudienceChunkEntries) return true;
    return Send();
  }
  // The last chunk, marked so (the intake stores nothing from a stream
  // without it), with the entries not sent yet.
  grpc::Status Finish() {
    chunk_.set_last(true);
    Send();
    writer_->WritesDone();
    return writer_->Finish();
  }
  void Cancel() {
    context_->TryCancel();
    writer_->Finish();
  }
  v1::AudienceChunk& chunk() { return chunk_; }
  const v1::UploadedAudience& response() const { return response_; }

 private:
  bool Send() {
    const bool ok = writer_->Write(chunk_);
    chunk_.Clear();
    entries_ = 0;
    return ok;
  }

  std::unique_ptr<grpc::ClientContext> context_;
  v1::UploadedAudience response_;
  std::unique_ptr<grpc::ClientWriterInterface<v1::AudienceChunk>> writer_;
  v1::AudienceChunk chunk_;
  int entries_ = 0;
};

}  // namespace

int RunAudienceUpload(Session& session, const AudienceUploadFlags& flags) {
  std::ifstream file;
  if (flags.path != "-") {
    file.open(flags.path, std::ios::binary);
    if (!file) return session.UsageError(absl::StrCat("cannot read ", flags.path));
  }
  std::istream& in = flags.path == "-" ? std::cin : file;
  const std::string name = flags.path == "-" ? "stdin" : flags.path;
  Upload upload(session, flags);
  std::string line;
  for (int64_t number = 1; std::getline(in, line); ++number) {
    auto added = AddAudienceLine(line, flags.by, upload.chunk());
    if (!added.ok()) {
      upload.Cancel();
      session.err() << "error: " << name << ":" << number << ": " << added.status().message()
                    << " (nothing stored)\n";
      return kExitFailed;
    }
    if (*added > 0 && !upload.Added()) break;  // the intake ended the stream: Finish says why
  }
  if (in.bad()) {
    upload.Cancel();
    session.err() << "error: " << name << ": read failed (nothing stored)\n";
    return kExitFailed;
  }
  if (grpc::Status status = upload.Finish(); !status.ok()) return session.Fail(status);
  session.printer().Print(upload.response());
  return 0;
}

}  // namespace forewarn::cli
