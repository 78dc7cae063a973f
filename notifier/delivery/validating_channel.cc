#include "notifier/delivery/validating_channel.h"

#include "notifier/sms/phone.h"

namespace forewarn {

absl::StatusOr<std::string> ValidatingChannel::Send(const Recipient& to, const RenderedNotice& notice) {
  if (to.channel == Channel::kSms) {
    auto e164 = SendableE164(to.address);
    if (!e164.ok()) return absl::InvalidArgumentError("invalid mobile number");
    if (*e164 != to.address) {
      Recipient normalized = to;
      normalized.address = *e164;
      return inner().Send(normalized, notice);
    }
  } else if (!IsPlausibleEmail(to.address)) {
    return absl::InvalidArgumentError("invalid email address");
  }
  return inner().Send(to, notice);
}

}  // namespace forewarn
