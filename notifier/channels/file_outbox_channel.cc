#include "notifier/channels/file_outbox_channel.h"

#include <fstream>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <string_view>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/time.h"
#include "spdlog/spdlog.h"

namespace forewarn {
namespace {

absl::Status ErrnoStatus(int err, const char* what, const std::string& path) {
  std::string message = absl::StrCat(what, " ", path, ": ", std::strerror(err));
  if (err == EACCES || err == EPERM || err == EROFS || err == ENOTDIR || err == EISDIR) {
    return absl::FailedPreconditionError(std::move(message));
  }
  return absl::UnavailableError(std::move(message));
}

// Holds flock(LOCK_EX) on fd for its lifetime.
class FileLock {
 public:
  explicit FileLock(int fd) : fd_(fd) {
    int rc;
    do {
      rc = ::flock(fd_, LOCK_EX);
    } while (rc != 0 && errno == EINTR);
    error_ = rc == 0 ? 0 : errno;
  }
  ~FileLock() {
    if (error_ == 0) ::flock(fd_, LOCK_UN);
  }
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;
  int error() const { return error_; }

 private:
  int fd_;
  int error_ = 0;
};

// Length of the valid UTF-8 sequence starting at s[i], or 0 if invalid.
size_t Utf8SequenceLength(std::string_view s, size_t i) {
  const auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char c = byte(i);
  size_t n = 0;
  unsigned char lo = 0x80, hi = 0xBF;  // allowed range of the second byte
  if (c >= 0xC2 && c <= 0xDF) {
    n = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    n = 3;
    if (c == 0xE0) lo = 0xA0;  // no overlong forms
    if (c == 0xED) hi = 0x9F;  // no surrogates
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4;
    if (c == 0xF0) lo = 0x90;
    if (c == 0xF4) hi = 0x8F;  // not above U+10FFFF
  } else {
    return 0;
  }
  if (i + n > s.size() || byte(i + 1) < lo || byte(i + 1) > hi) return 0;
  for (size_t k = 2; k < n; ++k) {
    if ((byte(i + k) & 0xC0) != 0x80) return 0;
  }
  return n;
}

// Whether none of the eight bytes needs escaping or UTF-8 checking: no
// control character, quote, backslash or non-ASCII byte (bit tricks from
// "Bit Twiddling Hacks": a byte is zero where the high bit survives).
bool PlainAscii(uint64_t w) {
  constexpr uint64_t kOnes = 0x0101010101010101ull, kHigh = 0x8080808080808080ull;
  const uint64_t quote = w ^ (kOnes * '"'), backslash = w ^ (kOnes * '\\');
  const uint64_t special = (w - kOnes * 0x20) | (quote - kOnes) | (backslash - kOnes);
  return (((special & ~w) | w) & kHigh) == 0;
}

}  // namespace

void AppendJsonString(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  size_t run = 0;  // start of the pending run of bytes copied as they are
  auto flush = [&](size_t end) { out.append(s.data() + run, end - run); };
  for (size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\' && c < 0x80) {
      // Plain ASCII: skip what follows eight bytes at a time while it lasts.
      ++i;
      uint64_t word;
      while (i + sizeof word <= s.size() && (std::memcpy(&word, s.data() + i, sizeof word), PlainAscii(word))) {
        i += sizeof word;
      }
      continue;
    }
    if (c >= 0x80) {
      if (const size_t n = Utf8SequenceLength(s, i); n > 0) {
        i += n;
        continue;
      }
    }
    flush(i);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      default:
        if (c < 0x20) {
          const char escape[] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 0xF]};
          out.append(escape, sizeof escape);
        } else {
          out += "\xEF\xBF\xBD";  // U+FFFD for an invalid byte
        }
    }
    run = ++i;
  }
  flush(s.size());
  out += '"';
}

namespace {

// Four independent lanes of eight bytes (a multiply and a shift per word;
// the lanes overlap in the CPU), folded with MurmurHash3's final mix. FNV-1a,
// a byte at a time and bound by its multiply's latency, was a sixth of the
// notifier's CPU with the compact outbox (bench/ --perf). Each field's
// length goes in first, so fields cannot trade bytes. Words are read in the
// machine's byte order.
class WordHash {
 public:
  WordHash& Field(std::string_view s) {
    Mix(lane_[0], s.size());
    size_t i = 0;
    for (uint64_t w[4]; i + sizeof w <= s.size(); i += sizeof w) {
      std::memcpy(w, s.data() + i, sizeof w);
      for (int k = 0; k < 4; ++k) Mix(lane_[k], w[k]);
    }
    for (uint64_t w; i < s.size(); i += sizeof w) {
      w = 0;
      std::memcpy(&w, s.data() + i, std::min(sizeof w, s.size() - i));
      Mix(lane_[0], w);
    }
    return *this;
  }
  uint64_t value() const {
    uint64_t h = lane_[0];
    for (int k = 1; k < 4; ++k) Mix(h, lane_[k]);
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    return h ^ (h >> 33);
  }

 private:
  static void Mix(uint64_t& h, uint64_t w) {
    h = (h ^ w) * 0x9e3779b97f4a7c15ull;
    h ^= h >> 29;
  }
  uint64_t lane_[4] = {0x243f6a8885a308d3ull, 0x13198a2e03707344ull, 0xa4093822299f31d0ull, 0x082efa98ec4e6c89ull};
};

}  // namespace

uint64_t NoticeHash(const Recipient& to, const RenderedNotice& notice) {
  return WordHash()
      .Field(to.address)
      .Field(notice.subject)
      .Field(notice.text)
      .Field(notice.html)
      .Field(notice.unsubscribe_url)
      .value();
}

FileOutboxChannel::FileOutboxChannel(std::string dir, Channel channel, const Clock& clock,
                                     FileOutboxOptions options)
    : path_((std::filesystem::path(std::move(dir)) / (std::string(ToString(channel)) + ".jsonl")).string()),
      channel_(channel),
      clock_(clock),
      options_(options) {}

FileOutboxChannel::~FileOutboxChannel() {
  if (fd_ >= 0) ::close(fd_);
}

absl::Status FileOutboxChannel::Validate(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    return absl::FailedPreconditionError(absl::StrCat("cannot create outbox dir ", dir, ": ", ec.message()));
  }
  if (!std::filesystem::is_directory(dir, ec)) {
    return absl::FailedPreconditionError(absl::StrCat("outbox path ", dir, " is not a directory"));
  }
  if (::access(dir.c_str(), W_OK | X_OK) != 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("outbox dir ", dir, " is not writable: ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

namespace {

// A writer killed mid-write (SIGKILL during a large write()) leaves a torn
// last line: never acknowledged, so the ledger did not record it and it is
// sent again. Called with the file lock held, before reading or appending:
// cuts the file back to its last complete line, so the next lines do not
// continue a broken one. Returns the file's size afterwards.
absl::StatusOr<off_t> CutTornTail(int fd, const std::string& path) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) return ErrnoStatus(errno, "cannot stat", path);
  off_t end = st.st_size;
  char buf[4096];
  while (end > 0) {
    const off_t from = std::max<off_t>(0, end - static_cast<off_t>(sizeof(buf)));
    const ssize_t n = ::pread(fd, buf, static_cast<size_t>(end - from), from);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return ErrnoStatus(n < 0 ? errno : EIO, "cannot read", path);
    const std::string_view chunk(buf, static_cast<size_t>(n));
    if (const size_t nl = chunk.rfind('\n'); nl != std::string_view::npos) {
      end = from + static_cast<off_t>(nl) + 1;
      break;
    }
    end = from;
  }
  if (end == st.st_size) return end;
  spdlog::warn("event=outbox_torn_line_cut file={} bytes={}", path, st.st_size - end);
  if (::ftruncate(fd, end) != 0) return ErrnoStatus(errno, "cannot cut a torn line from", path);
  return end;
}

}  // namespace

absl::Status FileOutboxChannel::OpenLocked() {
  if (fd_ >= 0) return absl::OkStatus();
  const int fd = ::open(path_.c_str(), O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return ErrnoStatus(errno, "cannot open", path_);
  fd_ = fd;
  return absl::OkStatus();
}

absl::StatusOr<std::string> FileOutboxChannel::Send(const Recipient& to, const RenderedNotice& notice) {
  const std::string sent_at = absl::FormatTime("%Y-%m-%d%ET%H:%M:%E*SZ", clock_.Now(), absl::UTCTimeZone());
  // One JSON object per line, message_id first (Delivered() relies on it),
  // appended straight to the batch buffer. Written by hand: a generic JSON
  // library was a sixth of the notifier's CPU in the fan-out benchmark.
  std::lock_guard lock(mu_);
  bool first = true;
  auto field = [&](std::string_view name, std::string_view value) {
    pending_ += first ? "{\"" : ",\"";
    first = false;
    pending_ += name;
    pending_ += "\":";
    AppendJsonString(pending_, value);
  };
  field("message_id", notice.message_id);
  if (options_.compact) {
    field("channel", ToString(channel_));
    field("hash", absl::StrFormat("%016x", NoticeHash(to, notice)));
    field("sent_at", sent_at);
    pending_ += "}\n";
    return notice.message_id;
  }
  field("to", to.address);
  field("channel", ToString(channel_));
  if (!notice.subject.empty()) field("subject", notice.subject);
  field("text", notice.text);
  if (!notice.html.empty()) field("html", notice.html);
  if (!notice.unsubscribe_url.empty()) field("unsubscribe_url", notice.unsubscribe_url);
  field("sent_at", sent_at);
  pending_ += "}\n";
  return notice.message_id;
}

absl::Status FileOutboxChannel::Flush() {
  std::lock_guard lock(mu_);
  if (pending_.empty()) return absl::OkStatus();
  // Whatever happens, these lines are done with (the caller records them
  // as sent only on OK); the buffer keeps its capacity for the next batch.
  struct Clear {
    std::string& s;
    ~Clear() { s.clear(); }
  } clear{pending_};
  const std::string_view lines = pending_;
  if (absl::Status s = OpenLocked(); !s.ok()) return s;
  FileLock file_lock(fd_);
  if (file_lock.error() != 0) return ErrnoStatus(file_lock.error(), "cannot lock", path_);

  // All writers hold the lock, so the current size is where these lines
  // start; on failure the file is cut back there and no torn line remains.
  const absl::StatusOr<off_t> start = CutTornTail(fd_, path_);
  if (!start.ok()) return start.status();
  size_t done = 0;
  while (done < lines.size()) {
    const ssize_t n = ::write(fd_, lines.data() + done, lines.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int err = n < 0 ? errno : EIO;
      if (::ftruncate(fd_, *start) != 0) {
        // Nothing more to do: report the write error.
      }
      return ErrnoStatus(err, "cannot write", path_);
    }
    done += static_cast<size_t>(n);
  }
  if (options_.fsync && ::fsync(fd_) != 0) return ErrnoStatus(errno, "cannot fsync", path_);
  return absl::OkStatus();
}

absl::StatusOr<std::set<std::string>> FileOutboxChannel::Delivered(const std::vector<std::string>& message_ids) {
  std::set<std::string> wanted(message_ids.begin(), message_ids.end()), found;
  std::lock_guard lock(mu_);
  if (absl::Status s = OpenLocked(); !s.ok()) return s;
  FileLock file_lock(fd_);
  if (file_lock.error() != 0) return ErrnoStatus(file_lock.error(), "cannot lock", path_);
  if (auto cut = CutTornTail(fd_, path_); !cut.ok()) return cut.status();
  std::ifstream in(path_);
  // Every line starts {"message_id":"<id>", (written by Send).
  constexpr std::string_view kPrefix = R"({"message_id":")";
  for (std::string line; std::getline(in, line);) {
    if (line.compare(0, kPrefix.size(), kPrefix) != 0) continue;
    const auto end = line.find('"', kPrefix.size());
    if (end == std::string::npos) continue;
    std::string id = line.substr(kPrefix.size(), end - kPrefix.size());
    if (wanted.contains(id)) found.insert(std::move(id));
  }
  return found;
}

}  // namespace forewarn
