#pragma once

#include <mutex>

#include "absl/time/time.h"
#include "services/core/clock.h"

namespace forewarn {

// A token bucket: tokens accrue at `rate_per_second` up to `burst`; taking n
// tokens spends them. The bucket starts full. Time comes from the injected
// Clock (FakeClock in tests); a clock that goes backwards adds no tokens.
//
// rate_per_second <= 0 means "no limit": every request is available at once.
// burst is at least 1 (smaller values are raised to 1) so a single message can
// always eventually pass. Thread-safe: one bucket per provider may be shared
// by every worker thread sending through that provider.
class TokenBucket {
 public:
  TokenBucket(double rate_per_second, double burst, const Clock& clock);
  TokenBucket(const TokenBucket&) = delete;
  TokenBucket& operator=(const TokenBucket&) = delete;

  // How long until `n` tokens will be available (zero when they are now).
  // absl::InfiniteDuration() when n exceeds the burst (it never will be).
  absl::Duration TimeUntilAvailable(double n = 1);
  // Takes `n` tokens when available now; false (nothing taken) otherwise.
  bool TryTake(double n = 1);

  double rate_per_second() const { return rate_; }
  double burst() const { return burst_; }

 private:
  void RefillLocked();

  const double rate_;
  const double burst_;
  const Clock& clock_;
  std::mutex mu_;
  double tokens_;
  absl::Time last_;
};

}  // namespace forewarn
