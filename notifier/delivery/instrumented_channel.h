#pragma once

#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "services/core/model.h"
#include "notifier/delivery/forwarding_channel.h"
#include "services/core/ports.h"
#include "services/http/metrics.h"

namespace forewarn {

// Measures and explains each call to a provider, in one place:
//   forewarn_provider_latency_seconds{channel}    every call
//   forewarn_provider_faults_total{channel,reason} provider faults (TLS,
//       certificate, authentication, configuration: ProviderFaultReason),
//       each with an "event=provider_fault" warning saying why
//   forewarn_ambiguous_sends_total{channel}       sends whose outcome is
//       unknown (IsAmbiguousSend: the provider may have the message), each
//       with an "event=ambiguous_send" warning; the retry carries the same
//       message id, the provider's idempotency reference
// Wrap the provider itself (inside the circuit breaker), so that only real
// calls are counted. Results pass through unchanged. `inner` and `metrics`
// are not owned and must outlive this channel; thread-safety is `inner`'s.
class InstrumentedChannel final : public ForwardingChannel {
 public:
  InstrumentedChannel(std::string channel, DeliveryChannel& inner, MetricsRegistry& metrics);

  absl::StatusOr<std::string> Send(const Recipient& to, const RenderedNotice& notice) override;

 private:
  const std::string channel_;
  MetricsRegistry& metrics_;
  Histogram& latency_;
  Counter& ambiguous_;
};

}  // namespace forewarn
