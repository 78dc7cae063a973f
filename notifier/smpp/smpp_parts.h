#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "notifier/smpp/smpp_pdu.h"

namespace forewarn::smpp {

// The submit_sm PDUs' fields for one notice: a text that fits one SMS is one
// submit; a longer one is split as EncodeSmsParts (notifier/sms) splits it —
// GSM-7 153 septets, UCS-2 67 units per part, never an escape or a
// surrogate pair across parts — each part behind a concatenation UDH
// (05 00 03 ref total seq: 8-bit reference, esm_class UDHI 0x40). GSM-7 text
// goes as data_coding 0 (the SMSC's default alphabet, one code per octet),
// anything else (Arabic) as UCS-2, data_coding 8. registered_delivery 1 on
// every part: each part gets its own receipt.
std::vector<SubmitSm> BuildSubmits(std::string_view utf8, const std::string& destination,
                                   const std::string& source_addr, uint8_t reference);

}  // namespace forewarn::smpp
