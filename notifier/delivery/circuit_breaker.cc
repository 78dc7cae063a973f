#include "notifier/delivery/circuit_breaker.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace forewarn {

CircuitBreakerChannel::State CircuitBreakerChannel::state() const {
  std::lock_guard lock(mu_);
  if (state_ == State::kOpen && clock_.Now() >= open_until_) return State::kHalfOpen;
  return state_;
}

std::string CircuitBreakerChannel::fault_reason() const {
  std::lock_guard lock(mu_);
  return fault_;
}

absl::StatusOr<std::string> CircuitBreakerChannel::Send(const Recipient& to, const RenderedNotice& notice) {
  {
    std::lock_guard lock(mu_);
    const auto why = [this] {
      return fault_.empty() ? std::string("repeated failures") : absl::StrCat("a provider fault (", fault_, ")");
    };
    if (state_ == State::kOpen) {
      if (clock_.Now() < open_until_ || probe_in_flight_) {
        return ProviderPausedError(absl::StrCat(provider_, ": circuit open after ", why()));
      }
      state_ = State::kHalfOpen;  // this call is the probe
      probe_in_flight_ = true;
    } else if (state_ == State::kHalfOpen && probe_in_flight_) {
      return ProviderPausedError(absl::StrCat(provider_, ": circuit half-open after ", why(), ", probing"));
    } else if (state_ == State::kHalfOpen) {
      probe_in_flight_ = true;
    }
  }
  auto result = inner().Send(to, notice);
  const std::string fault = ProviderFaultReason(result.status());
  OnResult(result.status(), fault);
  if (!fault.empty()) {
    return ProviderPausedError(
        absl::StrCat(provider_, ": provider fault (", fault, "), circuit open: ", result.status().message()));
  }
  return result;
}

void CircuitBreakerChannel::OnResult(const absl::Status& status, const std::string& fault) {
  std::lock_guard lock(mu_);
  probe_in_flight_ = false;
  if (status.ok() || !IsRetryable(status)) {
    // The provider answered (a permanent error is about the notice).
    state_ = State::kClosed;
    consecutive_failures_ = 0;
    cooldown_ = options_.cooldown;
    fault_.clear();
    return;
  }
  ++consecutive_failures_;
  if (state_ == State::kHalfOpen) {
    cooldown_ = std::min(cooldown_ * 2, options_.max_cooldown);
  }
  if (!fault.empty()) fault_ = fault;  // an ordinary failure keeps an earlier fault's reason
  if (!fault.empty() || state_ == State::kHalfOpen || consecutive_failures_ >= options_.failure_threshold) {
    state_ = State::kOpen;
    open_until_ = clock_.Now() + cooldown_;
  }
}

}  // namespace forewarn
