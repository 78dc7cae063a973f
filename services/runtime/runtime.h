#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "services/consumer/consumer_loop.h"
#include "services/core/clock.h"
#include "services/http/server.h"

namespace forewarn {

// Process plumbing shared by every service's main(): logging, signals,
// port files. Nothing here is domain logic.

// Structured key=value logs to stderr: "ts=... level=info service=NAME msg".
void SetupLogging(const std::string& service);

// Raises the open-file soft limit (RLIMIT_NOFILE) to the hard limit, logs
// both ("event=open_file_limit") and returns the soft limit in force. Every
// service main calls it at start: each socket, database and broker
// connection is a descriptor, and distributions start processes at 1024.
uint64_t RaiseOpenFileLimit();

// SIGTERM/SIGINT set the returned flag; the service finishes in-flight work
// and exits.
const std::atomic<bool>& InstallStopSignals();

// Sleeps up to `d`, returning early when stop is requested.
void SleepUnlessStopped(const std::atomic<bool>& stop, absl::Duration d);

// A sleep that ends early on stop: waits up to d, false when stopping.
std::function<bool(absl::Duration)> StopAwareSleep(const std::atomic<bool>& stop);

// Logs event=startup_failed with `status` and returns `exit_code`.
int StartupFailed(const absl::Status& status, int exit_code);

// Writes `content` to `path` atomically (temp file + rename).
absl::Status WriteFileAtomically(const std::string& path, const std::string& content);

// The system clock shifted by an offset in seconds read from `path` (missing
// or unreadable file = no shift). Lets end-to-end tests and drills move the
// time every service sees, while they run. Never set in production.
//
// The file is read on every reading, so a service never acts on the old time
// after another service acted on the new one and told it so (a scheduler's
// release reaching a notifier that still saw the quiet hours of the day
// before, say). Replace it atomically (WriteFileAtomically).
class OffsetFileClock final : public Clock {
 public:
  explicit OffsetFileClock(std::string path) : path_(std::move(path)) {}
  absl::Time Now() const override;

 private:
  std::string path_;
};

// The clock a service runs on: OffsetFileClock when `offset_file` is set,
// else the system clock shifted by `offset_seconds`.
std::unique_ptr<Clock> MakeServiceClock(const std::string& offset_file, int64_t offset_seconds);

// Starts the metrics and health server when `listen` is non-empty (nullptr
// otherwise) and writes the bound port to `port_file` when given.
absl::StatusOr<std::unique_ptr<ObservabilityServer>> StartObservabilityIfConfigured(
    const std::string& listen, const std::string& port_file, MetricsRegistry& registry,
    std::function<bool()> ready = {});

// Retries `fn` with exponential backoff until OK or stop; returns the last status.
absl::Status RetryUntilOk(const std::atomic<bool>& stop, const std::string& what,
                          const std::function<absl::Status()>& fn);

// How a service's consume loop waits and retries: on `clock`, with
// StopAwareSleep and RetryUntilOk on `stop`.
ConsumeRuntime ServiceConsumeRuntime(const Clock& clock, const std::atomic<bool>& stop);

}  // namespace forewarn
