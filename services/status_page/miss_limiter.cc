#include "services/status_page/miss_limiter.h"

#include <algorithm>

namespace forewarn {

absl::Duration MissLimiter::Blocked(const std::string& client) {
  std::lock_guard lock(mu_);
  auto it = buckets_.find(client);
  return it == buckets_.end() ? absl::ZeroDuration() : it->second->TimeUntilAvailable(1);
}

void MissLimiter::Miss(const std::string& client) {
  std::lock_guard lock(mu_);
  BucketLocked(client).TryTake(1);
}

size_t MissLimiter::clients() const {
  std::lock_guard lock(mu_);
  return buckets_.size();
}

TokenBucket& MissLimiter::BucketLocked(const std::string& client) {
  auto it = buckets_.find(client);
  if (it != buckets_.end()) return *it->second;
  if (buckets_.size() >= limits_.max_clients) {
    // Full buckets carry no memory of misses: forget them first.
    std::erase_if(buckets_, [&](auto& kv) { return kv.second->TimeUntilAvailable(kv.second->burst()) == absl::ZeroDuration(); });
    if (buckets_.size() >= limits_.max_clients) buckets_.erase(buckets_.begin());
  }
  const double rate = 1.0 / std::max(0.001, absl::ToDoubleSeconds(limits_.refill));
  auto bucket = std::make_unique<TokenBucket>(rate, std::max(1, limits_.burst), clock_);
  return *buckets_.emplace(client, std::move(bucket)).first->second;
}

}  // namespace forewarn
