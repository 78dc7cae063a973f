#pragma once

#include <mutex>
#include <string>

#include "services/core/clock.h"
#include "services/core/ports.h"

namespace forewarn {

// Stops hammering a provider that keeps failing: after `failure_threshold`
// consecutive transient failures the circuit opens and Send fails fast with
// ProviderPausedError (UNAVAILABLE; the notices stay queued: the notifier
// retries the batch without consuming more, and the notices keep their
// delivery attempts). After the cooldown one call probes the provider
// (half-open): success closes the circuit, failure reopens it with a doubled
// cooldown (up to max_cooldown). Permanent failures (a bad address) say
// nothing about the provider and do not count.
class CircuitBreakerChannel final : public DeliveryChannel {
 public:
  struct Options {
    int failure_threshold = 5;
    absl::Duration cooldown = absl::Seconds(1);
    absl::Duration max_cooldown = absl::Seconds(30);
  };
  enum class State { kClosed, kOpen, kHalfOpen };

  CircuitBreakerChannel(std::string provider, DeliveryChannel& inner, const Clock& clock, Options options)
      : provider_(std::move(provider)), inner_(inner), clock_(clock), options_(options),
        cooldown_(options.cooldown) {}

  absl::StatusOr<std::string> Send(const Recipient& to, const RenderedNotice& notice) override;
  absl::Status Flush() override { return inner_.Flush(); }
  absl::StatusOr<std::set<std::string>> Delivered(const std::vector<std::string>& ids) override {
    return inner_.Delivered(ids);
  }

  State state() const;

 private:
  void OnResult(const absl::Status& status);

  const std::string provider_;
  DeliveryChannel& inner_;
  const Clock& clock_;
  const Options options_;
  mutable std::mutex mu_;
  State state_ = State::kClosed;
  int consecutive_failures_ = 0;
  absl::Duration cooldown_;
  absl::Time open_until_ = absl::InfinitePast();
  bool probe_in_flight_ = false;
};

}  // namespace forewarn
