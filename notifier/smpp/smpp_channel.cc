#include "notifier/smpp/smpp_channel.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "notifier/smpp/smpp_parts.h"
#include "services/core/mask.h"

namespace forewarn {

absl::StatusOr<std::string> SmppChannel::Send(const Recipient& to, const RenderedNotice& notice) {
  const std::string_view a = to.address;
  const bool e164 = a.size() >= 8 && a.size() <= 16 && a[0] == '+' && a[1] != '0' &&
                    std::all_of(a.begin() + 1, a.end(), [](char c) { return c >= '0' && c <= '9'; });
  if (!e164) return absl::InvalidArgumentError(absl::StrCat("sms: not an E.164 phone number: ", MaskAddress(to.address)));
  const auto reference = static_cast<uint8_t>(reference_.fetch_add(1) & 0xFF);
  const auto parts = smpp::BuildSubmits(notice.text, std::string(a.substr(1)), source_addr_, reference);
  auto id = session_.SubmitNotice(parts);
  if (!id.ok()) {
    // The same status (its provider-fault and ambiguous-send marks kept) with the masked recipient.
    absl::Status s(id.status().code(),
                   absl::StrCat("sms: send to ", MaskAddress(to.address), " failed: ", id.status().message()));
    id.status().ForEachPayload([&](absl::string_view url, const absl::Cord& payload) { s.SetPayload(url, payload); });
    return s;
  }
  return id;
}

}  // namespace forewarn
