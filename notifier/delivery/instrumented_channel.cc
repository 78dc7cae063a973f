#include "notifier/delivery/instrumented_channel.h"

#include <utility>

#include "absl/time/clock.h"
#include "spdlog/spdlog.h"

namespace forewarn {
namespace {

constexpr char kFaults[] = "forewarn_provider_faults_total";
constexpr char kFaultsHelp[] = "Provider calls that failed for a provider or configuration fault, by reason";
constexpr const char* kFaultReasons[] = {"tls", "auth", "config"};

}  // namespace

InstrumentedChannel::InstrumentedChannel(std::string channel, DeliveryChannel& inner, MetricsRegistry& metrics)
    : ForwardingChannel(inner),
      channel_(std::move(channel)),
      metrics_(metrics),
      latency_(metrics.histogram("forewarn_provider_latency_seconds", "Delivery provider call latency",
                                 {{"channel", channel_}}, DefaultLatencyBuckets())),
      ambiguous_(metrics.counter("forewarn_ambiguous_sends_total",
                                 "Sends with an unknown outcome (the provider may have the message), retried with "
                                 "the same message id",
                                 {{"channel", channel_}})) {
  // Every series exists from the start, at zero, so a rate() alert works.
  for (const char* reason : kFaultReasons) metrics.counter(kFaults, kFaultsHelp, {{"channel", channel_}, {"reason", reason}});
}

absl::StatusOr<std::string> InstrumentedChannel::Send(const Recipient& to, const RenderedNotice& notice) {
  const absl::Time start = absl::Now();
  auto result = inner().Send(to, notice);
  latency_.Observe(absl::ToDoubleSeconds(absl::Now() - start));
  if (result.ok()) return result;
  if (const std::string reason = ProviderFaultReason(result.status()); !reason.empty()) {
    metrics_.counter(kFaults, kFaultsHelp, {{"channel", channel_}, {"reason", reason}}).Increment();
    spdlog::warn("event=provider_fault channel={} reason={} status=\"{}\"", channel_, reason,
                 std::string(result.status().message()));
  } else if (IsAmbiguousSend(result.status())) {
    ambiguous_.Increment();
    spdlog::warn("event=ambiguous_send channel={} message_id={} status=\"{}\"", channel_, notice.message_id,
                 std::string(result.status().message()));
  }
  return result;
}

}  // namespace forewarn
