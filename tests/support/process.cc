#include "tests/support/process.h"

#include <fcntl.h>
#include <sys/resource.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace forewarn::testing {

ChildProcess::ChildProcess(std::vector<std::string> argv, std::string log_path)
    : argv_(std::move(argv)), log_path_(std::move(log_path)) {}

ChildProcess::~ChildProcess() { Stop(); }

absl::Status ChildProcess::Start() {
  const int log_fd = ::open(log_path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log_fd < 0) return absl::InternalError(absl::StrCat("cannot open ", log_path_));
  std::vector<char*> args;
  for (auto& a : argv_) args.push_back(a.data());
  args.push_back(nullptr);
  const pid_t pid = ::fork();
  if (pid < 0) {
    ::close(log_fd);
    return absl::InternalError("fork failed");
  }
  if (pid == 0) {
    ::dup2(log_fd, STDOUT_FILENO);
    ::dup2(log_fd, STDERR_FILENO);
    if (open_file_limit_ > 0) {
      const rlimit lim{open_file_limit_, open_file_limit_};
      if (::setrlimit(RLIMIT_NOFILE, &lim) != 0) _exit(126);
    }
    ::execv(args[0], args.data());
    _exit(127);
  }
  ::close(log_fd);
  pid_ = pid;
  exit_status_ = -1;
  return absl::OkStatus();
}

bool ChildProcess::Running() {
  if (pid_ <= 0) return false;
  int status = 0;
  const pid_t r = ::waitpid(pid_, &status, WNOHANG);
  if (r == pid_) {
    exit_status_ = status;
    pid_ = -1;
    return false;
  }
  return true;
}

int ChildProcess::Stop(absl::Duration grace) {
  if (pid_ <= 0) return exit_status_;
  ::kill(pid_, SIGTERM);
  const absl::Time deadline = absl::Now() + grace;
  while (absl::Now() < deadline) {
    if (!Running()) return exit_status_;
    absl::SleepFor(absl::Milliseconds(20));
  }
  Kill();
  return exit_status_;
}

void ChildProcess::Kill() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  exit_status_ = status;
  pid_ = -1;
}

absl::Status WaitForFile(const std::string& path, absl::Duration timeout, std::string* content) {
  const absl::Time deadline = absl::Now() + timeout;
  while (absl::Now() < deadline) {
    std::ifstream in(path);
    if (in) {
      std::stringstream ss;
      ss << in.rdbuf();
      std::string text(absl::StripAsciiWhitespace(ss.str()));
      if (!text.empty()) {
        if (content) *content = text;
        return absl::OkStatus();
      }
    }
    absl::SleepFor(absl::Milliseconds(50));
  }
  return absl::DeadlineExceededError(absl::StrCat("timed out waiting for ", path));
}

std::string MakeTempDir(const std::string& prefix) {
  const char* base = std::getenv("TMPDIR");
  std::string tmpl = absl::StrCat(base ? base : "/tmp", "/", prefix, "XXXXXX");
  if (::mkdtemp(tmpl.data()) == nullptr) return "";
  return tmpl;
}

}  // namespace forewarn::testing
