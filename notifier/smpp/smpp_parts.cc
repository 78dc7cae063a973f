#include "notifier/smpp/smpp_parts.h"

#include "notifier/sms/sms_segments.h"

namespace forewarn::smpp {

std::vector<SubmitSm> BuildSubmits(std::string_view utf8, const std::string& destination,
                                   const std::string& source_addr, uint8_t reference) {
  SmsParts encoded = EncodeSmsParts(utf8);
  const uint8_t coding = encoded.encoding == SmsEncoding::kGsm7 ? kCodingDefault : kCodingUcs2;
  const size_t total = encoded.parts.size();
  std::vector<SubmitSm> out;
  out.reserve(total);
  for (size_t i = 0; i < total; ++i) {
    SubmitSm s;
    s.source_addr = source_addr;
    s.destination = destination;
    s.data_coding = coding;
    s.registered_delivery = 1;
    if (total > 1) {
      s.esm_class = kEsmUdhi;
      s.short_message = {0x05, 0x00, 0x03, static_cast<char>(reference), static_cast<char>(total),
                         static_cast<char>(i + 1)};
    }
    s.short_message += encoded.parts[i];
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace forewarn::smpp
