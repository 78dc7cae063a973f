#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace forewarn::testing {

// A child process for end-to-end tests: started with argv, its stdout and
// stderr appended to `log_path`; stopped by pid (SIGTERM, then SIGKILL).
class ChildProcess {
 public:
  ChildProcess(std::vector<std::string> argv, std::string log_path);
  ~ChildProcess();  // Stop()
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  // Runs the child with RLIMIT_NOFILE (soft and hard) at `n`; set before Start.
  void set_open_file_limit(uint64_t n) { open_file_limit_ = n; }
  absl::Status Start();
  // SIGTERM, wait up to `grace`, then SIGKILL. Returns the exit status.
  int Stop(absl::Duration grace = absl::Seconds(10));
  void Kill();  // SIGKILL now (crash simulation)
  bool Running();
  pid_t pid() const { return pid_; }
  const std::string& log_path() const { return log_path_; }

 private:
  std::vector<std::string> argv_;
  std::string log_path_;
  pid_t pid_ = -1;
  int exit_status_ = -1;
  uint64_t open_file_limit_ = 0;  // 0: inherited
};

// Waits for a file to exist and be non-empty; returns its content trimmed.
absl::Status WaitForFile(const std::string& path, absl::Duration timeout, std::string* content);

// A fresh temporary directory (not removed; lives under the system temp dir).
std::string MakeTempDir(const std::string& prefix);

}  // namespace forewarn::testing
