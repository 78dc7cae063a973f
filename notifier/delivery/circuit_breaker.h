#pragma once

#include <mutex>
#include <string>

#include "services/core/clock.h"
#include "notifier/delivery/forwarding_channel.h"
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
//
// A provider fault (ProviderFaultReason: TLS, certificate, authentication, a
// misconfigured endpoint) opens the circuit at once, whatever the count: it
// would fail every notice alike. That call, too, returns ProviderPausedError
// (naming the reason and the provider's message), so the notice keeps its
// attempts and waits with its batch; fault_reason() says why until a call
// succeeds again (readiness reads it).
class CircuitBreakerChannel final : public ForwardingChannel {
 public:
  struct Options {
    int failure_threshold = 5;
    absl::Duration cooldown = absl::Seconds(1);
    absl::Duration max_cooldown = absl::Seconds(30);
  };
  enum class State { kClosed, kOpen, kHalfOpen };

  CircuitBreakerChannel(std::string provider, DeliveryChannel& inner, const Clock& clock, Options options)
      : ForwardingChannel(inner), provider_(std::move(provider)), clock_(clock), options_(options),
        cooldown_(options.cooldown) {}

  absl::StatusOr<std::string> Send(const Recipient& to, const RenderedNotice& notice) override;

  State state() const;
  // The reason of the provider fault that holds the circuit open ("tls",
  // "auth", "config"); empty when the circuit is closed or open for
  // ordinary failures. Thread-safe.
  std::string fault_reason() const;

 private:
  void OnResult(const absl::Status& status, const std::string& fault);

  const std::string provider_;
  const Clock& clock_;
  const Options options_;
  mutable std::mutex mu_;
  State state_ = State::kClosed;
  int consecutive_failures_ = 0;
  absl::Duration cooldown_;
  absl::Time open_until_ = absl::InfinitePast();
  bool probe_in_flight_ = false;
  std::string fault_;  // the provider fault that opened the circuit, if any
};

}  // namespace forewarn
