#pragma once

#include <mutex>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "services/core/clock.h"
#include "services/core/model.h"
#include "services/core/ports.h"

namespace forewarn {

struct FileOutboxOptions {
  // fsync after every line: durable across power loss, much slower.
  bool fsync = false;
  // A compact record instead of the notice itself: the message id, a 64-bit
  // FNV-1a hash of what was sent (address, subject, text, html, link) and the
  // time. For benchmarks of tens of millions of notices, where the full lines
  // (~1.4 KB each) would fill the disk; duplicates and losses still show.
  bool compact = false;
};

// A delivery channel that appends one JSON object per notice, one per line,
// to <dir>/<channel>.jsonl (sms.jsonl, email.jsonl):
//
//   {"message_id":..,"to":..,"channel":"sms","subject":..,"text":..,"html":..,"unsubscribe_url":..,
//    "sent_at":"2026-01-10T15:30:00Z"}
//
//   compact: {"message_id":..,"channel":"sms","hash":"<16 hex digits>","sent_at":..}
//
// subject, html and unsubscribe_url are omitted when empty. Text is UTF-8 as is (Arabic stays
// readable, not \uXXXX). Several processes and threads may append to the same
// file: each line is written with O_APPEND under flock(LOCK_EX), so lines never
// interleave; a failed write is truncated away so no torn line is left.
// Send returns the message id as the provider id. Thread-safe.
class FileOutboxChannel final : public DeliveryChannel {
 public:
  FileOutboxChannel(std::string dir, Channel channel, const Clock& clock, FileOutboxOptions options = {});
  ~FileOutboxChannel() override;
  FileOutboxChannel(const FileOutboxChannel&) = delete;
  FileOutboxChannel& operator=(const FileOutboxChannel&) = delete;

  // Creates `dir` when missing; FAILED_PRECONDITION when it cannot be created
  // or is not a writable directory. Call once at start-up.
  static absl::Status Validate(const std::string& dir);

  // UNAVAILABLE when the file cannot be opened or written (retryable, e.g.
  // disk full); FAILED_PRECONDITION when access is denied.
  // Buffers the line; Flush() appends everything buffered with one locked
  // write, so concurrent notifiers never interleave and a batch costs one
  // system call.
  absl::StatusOr<std::string> Send(const Recipient& to, const RenderedNotice& notice) override;
  absl::Status Flush() override;
  // Scans the file (under the lock) for lines with these message ids. Only
  // asked about re-claimed notices, which are rare.
  absl::StatusOr<std::set<std::string>> Delivered(const std::vector<std::string>& message_ids) override;

  // <dir>/<channel>.jsonl
  const std::string& path() const { return path_; }

 private:
  absl::Status OpenLocked();

  const std::string path_;
  const Channel channel_;
  const Clock& clock_;
  const FileOutboxOptions options_;
  std::mutex mu_;  // flock is per open file, so threads of this process also take mu_
  int fd_ = -1;           // opened on first Send, closed by the destructor
  std::string pending_;  // lines accepted since the last Flush
};

// A 64-bit hash of the fields of a notice as sent (each preceded by its
// length, so that moving text between fields changes it): what the compact
// record keeps. Not for anything an attacker chooses to collide.
uint64_t NoticeHash(const Recipient& to, const RenderedNotice& notice);

// Appends `s` as a JSON string literal: quotes, backslashes and control
// characters escaped, UTF-8 kept as is, each invalid byte replaced by U+FFFD.
void AppendJsonString(std::string& out, std::string_view s);

}  // namespace forewarn
