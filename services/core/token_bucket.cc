#include "services/core/token_bucket.h"

#include <algorithm>
#include <cmath>

namespace forewarn {

TokenBucket::TokenBucket(double rate_per_second, double burst, const Clock& clock)
    : rate_(rate_per_second), burst_(std::max(burst, 1.0)), clock_(clock), tokens_(burst_), last_(clock.Now()) {}

void TokenBucket::RefillLocked() {
  const absl::Time now = clock_.Now();
  if (now <= last_) return;  // no time passed, or the clock stepped back
  tokens_ = std::min(burst_, tokens_ + absl::ToDoubleSeconds(now - last_) * rate_);
  last_ = now;
}

absl::Duration TokenBucket::TimeUntilAvailable(double n) {
  if (rate_ <= 0) return absl::ZeroDuration();
  if (n > burst_) return absl::InfiniteDuration();
  std::lock_guard lock(mu_);
  RefillLocked();
  if (tokens_ >= n) return absl::ZeroDuration();
  // Round up to the next nanosecond so that waiting exactly this long
  // guarantees the tokens are there.
  const double seconds = (n - tokens_) / rate_;
  return absl::Nanoseconds(std::ceil(seconds * 1e9));
}

bool TokenBucket::TryTake(double n) {
  if (rate_ <= 0) return true;
  if (n > burst_) return false;
  std::lock_guard lock(mu_);
  RefillLocked();
  // Tolerate floating-point dust (e.g. 0.1 * 10 accrual steps).
  if (tokens_ + 1e-9 < n) return false;
  tokens_ = std::max(0.0, tokens_ - n);
  return true;
}

}  // namespace forewarn
