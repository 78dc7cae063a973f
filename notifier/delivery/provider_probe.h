#pragma once

#include <functional>
#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "services/core/clock.h"

namespace forewarn {

// The start-up check of one provider: runs `probe` until it succeeds, fails
// with anything but UNAVAILABLE (a configuration fault such as a missing
// STARTTLS or a refused login: waiting cannot help), or `wait` has passed on
// `clock` (a provider that is still coming up gets that long). Between tries
// it calls `sleep(interval)`, which returns false when the process is
// stopping. Returns the last status; `what` names the provider in the log
// line of each retry.
absl::Status ProbeProvider(const std::string& what, const std::function<absl::Status()>& probe, absl::Duration wait,
                           const Clock& clock, const std::function<bool(absl::Duration)>& sleep,
                           absl::Duration interval = absl::Seconds(1));

}  // namespace forewarn
