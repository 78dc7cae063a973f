#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace forewarn {

// How an SMS text is carried: GSM 03.38 7-bit default alphabet (with its
// extension table) when every character fits, UCS-2 otherwise (Arabic, most
// emoji, accented letters outside the default alphabet such as 'ć').
enum class SmsEncoding { kGsm7, kUcs2 };

struct SmsCost {
  SmsEncoding encoding = SmsEncoding::kGsm7;
  // GSM-7: septets (an extension-table character such as '€' or '{' costs 2:
  // ESC + code). UCS-2: UTF-16 code units (characters outside the BMP, e.g.
  // most emoji, cost 2: a surrogate pair).
  int units = 0;
  // Messages the operator bills. One when the text fits a single SMS
  // (160 septets / 70 units, an empty text included); otherwise a
  // concatenated SMS whose parts carry 153 septets / 67 units each (the rest
  // is the UDH). A part never splits an escape pair or a surrogate pair: such
  // a character moves whole to the next part, so the count can exceed
  // ceil(units / 153).
  int segments = 1;
};

// Counts the cost of `utf8`. Invalid UTF-8 bytes count as U+FFFD (UCS-2).
// Pure function, thread-safe.
SmsCost CountSmsSegments(std::string_view utf8);

// A text as the parts an SMS interface (SMPP) carries, split exactly as
// CountSmsSegments counts them (parts.size() == segments): GSM-7 as one
// GSM 03.38 code per octet (unpacked; an extension character is ESC 0x1B
// and its code), UCS-2 as big-endian UTF-16 (a character outside the BMP is
// a surrogate pair, never split across parts). A text that fits one SMS is
// one part; otherwise each part holds at most 153 septets / 67 units, the
// room left by a concatenation header. Pure function, thread-safe.
struct SmsParts {
  SmsEncoding encoding = SmsEncoding::kGsm7;
  std::vector<std::string> parts;
};
SmsParts EncodeSmsParts(std::string_view utf8);

const char* ToString(SmsEncoding encoding);  // "gsm7" | "ucs2"

}  // namespace forewarn
