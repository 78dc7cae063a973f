#pragma once

#include <atomic>
#include <functional>
#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace forewarn {

// Process plumbing shared by every service's main(): logging, signals,
// port files. Nothing here is domain logic.

// Structured key=value logs to stderr: "ts=... level=info service=NAME msg".
void SetupLogging(const std::string& service);

// SIGTERM/SIGINT set the returned flag; the service finishes in-flight work
// and exits.
const std::atomic<bool>& InstallStopSignals();

// Sleeps up to `d`, returning early when stop is requested.
void SleepUnlessStopped(const std::atomic<bool>& stop, absl::Duration d);

// Writes `content` to `path` atomically (temp file + rename).
absl::Status WriteFileAtomically(const std::string& path, const std::string& content);

// Retries `fn` with exponential backoff until OK or stop; returns the last status.
absl::Status RetryUntilOk(const std::atomic<bool>& stop, const std::string& what,
                          const std::function<absl::Status()>& fn);

}  // namespace forewarn
