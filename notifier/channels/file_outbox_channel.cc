#include "notifier/channels/file_outbox_channel.h"

#include <fstream>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"

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

}  // namespace

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

absl::Status FileOutboxChannel::OpenLocked() {
  if (fd_ >= 0) return absl::OkStatus();
  const int fd = ::open(path_.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return ErrnoStatus(errno, "cannot open", path_);
  fd_ = fd;
  return absl::OkStatus();
}

absl::StatusOr<std::string> FileOutboxChannel::Send(const Recipient& to, const RenderedNotice& notice) {
  nlohmann::ordered_json j;
  j["message_id"] = notice.message_id;
  j["to"] = to.address;
  j["channel"] = ToString(channel_);
  if (!notice.subject.empty()) j["subject"] = notice.subject;
  j["text"] = notice.text;
  if (!notice.html.empty()) j["html"] = notice.html;
  j["sent_at"] = absl::FormatTime("%Y-%m-%d%ET%H:%M:%E*SZ", clock_.Now(), absl::UTCTimeZone());
  // UTF-8 kept as is; invalid bytes become U+FFFD rather than failing the send.
  std::string line = j.dump(-1, ' ', /*ensure_ascii=*/false, nlohmann::json::error_handler_t::replace);
  line += '\n';

  std::lock_guard lock(mu_);
  pending_ += line;
  return notice.message_id;
}

absl::Status FileOutboxChannel::Flush() {
  std::lock_guard lock(mu_);
  if (pending_.empty()) return absl::OkStatus();
  const std::string lines = std::move(pending_);
  pending_.clear();
  if (absl::Status s = OpenLocked(); !s.ok()) return s;
  FileLock file_lock(fd_);
  if (file_lock.error() != 0) return ErrnoStatus(file_lock.error(), "cannot lock", path_);

  // All writers hold the lock, so the current size is where these lines
  // start; on failure the file is cut back there and no torn line remains.
  struct stat st {};
  if (::fstat(fd_, &st) != 0) return ErrnoStatus(errno, "cannot stat", path_);
  size_t done = 0;
  while (done < lines.size()) {
    const ssize_t n = ::write(fd_, lines.data() + done, lines.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int err = n < 0 ? errno : EIO;
      if (::ftruncate(fd_, st.st_size) != 0) {
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
