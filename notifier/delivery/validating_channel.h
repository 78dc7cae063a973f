#pragma once

#include "services/core/ports.h"

namespace forewarn {

// Checks the recipient address before delivery, whatever the channel: an
// SMS number must be a valid E.164 mobile number (libphonenumber), an email
// address must be plausible. A bad address is INVALID_ARGUMENT (permanent:
// reported in the ledger, and SMS falls back to email) — never silently
// skipped.
class ValidatingChannel final : public DeliveryChannel {
 public:
  explicit ValidatingChannel(DeliveryChannel& inner) : inner_(inner) {}
  absl::StatusOr<std::string> Send(const Recipient& to, const RenderedNotice& notice) override;
  absl::Status Flush() override { return inner_.Flush(); }
  absl::StatusOr<std::set<std::string>> Delivered(const std::vector<std::string>& ids) override {
    return inner_.Delivered(ids);
  }

 private:
  DeliveryChannel& inner_;
};

}  // namespace forewarn
