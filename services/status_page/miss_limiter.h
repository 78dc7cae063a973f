#pragma once

// Throttles clients that miss: an unknown status token, an unknown incident
// reference or a message code that does not match. Each client (its IP
// address) has a token bucket (TokenBucket: `burst` misses, refilled at one
// per `refill`); a miss takes a token, and while the bucket is empty every
// request that could miss is refused (429 with Retry-After) before it is
// looked up, so tokens and codes cannot be enumerated. Hits cost nothing.

#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "absl/time/time.h"
#include "services/core/clock.h"
#include "services/core/token_bucket.h"

namespace forewarn {

struct MissLimits {
  int burst = 10;
  absl::Duration refill = absl::Seconds(10);  // one miss back per refill
  size_t max_clients = 100000;               // buckets kept; full ones are dropped first
};

class MissLimiter {
 public:
  MissLimiter(const Clock& clock, MissLimits limits) : clock_(clock), limits_(limits) {}

  // Zero when `client` may try now; otherwise how long until it may.
  absl::Duration Blocked(const std::string& client);
  // Counts a miss of `client`.
  void Miss(const std::string& client);
  size_t clients() const;

 private:
  TokenBucket& BucketLocked(const std::string& client);

  const Clock& clock_;
  const MissLimits limits_;
  mutable std::mutex mu_;
  std::map<std::string, std::unique_ptr<TokenBucket>> buckets_;
};

}  // namespace forewarn
