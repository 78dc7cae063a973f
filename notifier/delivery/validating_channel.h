#pragma once

#include "notifier/delivery/forwarding_channel.h"
#include "services/core/ports.h"

namespace forewarn {

// Checks the recipient address before delivery, whatever the channel: an
// SMS number must be sendable (SendableE164: E.164 of a possible length for
// its country code, or a form libphonenumber normalises and validates), an
// email address must be plausible. A bad address is INVALID_ARGUMENT (permanent:
// reported in the ledger, and SMS falls back to email) — never silently
// skipped.
class ValidatingChannel final : public ForwardingChannel {
 public:
  explicit ValidatingChannel(DeliveryChannel& inner) : ForwardingChannel(inner) {}
  absl::StatusOr<std::string> Send(const Recipient& to, const RenderedNotice& notice) override;
};

}  // namespace forewarn
