#include "notifier/delivery/circuit_breaker.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace forewarn {

CircuitBreakerChannel::State CircuitBreakerChannel::state() const {
  std::lock_guard lock(mu_);
  if (state_ == State::kOpen && clock_.Now() >= open_until_) return State::kHalfOpen;
  return state_;
}

absl::StatusOr<std::string> CircuitBreakerChannel::Send(const Recipient& to, const RenderedNotice& notice) {
  {
    std::lock_guard lock(mu_);
    if (state_ == State::kOpen) {
      if (clock_.Now() < open_until_ || probe_in_flight_) {
        return ProviderPausedError(absl::StrCat(provider_, ": circuit open after repeated failures"));
      }
      state_ = State::kHalfOpen;  // this call is the probe
      probe_in_flight_ = true;
    } else if (state_ == State::kHalfOpen && probe_in_flight_) {
      return ProviderPausedError(absl::StrCat(provider_, ": circuit half-open, probing"));
    } else if (state_ == State::kHalfOpen) {
      probe_in_flight_ = true;
    }
  }
  auto result = inner_.Send(to, notice);
  OnResult(result.status());
  return result;
}

void CircuitBreakerChannel::OnResult(const absl::Status& status) {
  std::lock_guard lock(mu_);
  probe_in_flight_ = false;
  if (status.ok() || !IsRetryable(status)) {
    // The provider answered (a permanent error is about the notice).
    state_ = State::kClosed;
    consecutive_failures_ = 0;
    cooldown_ = options_.cooldown;
    return;
  }
  ++consecutive_failures_;
  if (state_ == State::kHalfOpen) {
    cooldown_ = std::min(cooldown_ * 2, options_.max_cooldown);
  }
  if (state_ == State::kHalfOpen || consecutive_failures_ >= options_.failure_threshold) {
    state_ = State::kOpen;
    open_until_ = clock_.Now() + cooldown_;
  }
}

}  // namespace forewarn
