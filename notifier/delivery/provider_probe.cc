#include "notifier/delivery/provider_probe.h"

#include <algorithm>

#include "spdlog/spdlog.h"

namespace forewarn {

absl::Status ProbeProvider(const std::string& what, const std::function<absl::Status()>& probe, absl::Duration wait,
                           const Clock& clock, const std::function<bool(absl::Duration)>& sleep,
                           absl::Duration interval) {
  const absl::Time deadline = clock.Now() + wait;
  while (true) {
    absl::Status s = probe();
    if (s.ok() || s.code() != absl::StatusCode::kUnavailable) return s;
    const absl::Duration left = deadline - clock.Now();
    if (left <= absl::ZeroDuration()) return s;
    spdlog::warn("event=provider_probe_retry provider=\"{}\" left_ms={} status=\"{}\"", what,
                 absl::ToInt64Milliseconds(left), std::string(s.message()));
    if (!sleep(std::min(interval, left))) return s;
  }
}

}  // namespace forewarn
