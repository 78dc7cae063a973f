#include "notifier/sms/sms_segments.h"

#include <cstdint>
#include <vector>

namespace forewarn {
namespace {

constexpr int kGsmSingle = 160;
constexpr int kGsmPart = 153;
constexpr int kUcs2Single = 70;
constexpr int kUcs2Part = 67;

constexpr char32_t kEsc = 0x110000;  // not a code point: never matches decoded text

// GSM 03.38 default alphabet (3GPP TS 23.038 §6.2.1), indexed by GSM code
// 0x00-0x7F. 0x1B (ESC) is the escape to the extension table, not a
// character. 0x09 is listed as 'Ç' but shown as 'ç' by handsets; senders map
// both to it (kBasicAliases).
// clang-format off
constexpr char32_t kBasic[128] = {
    U'@', U'£', U'$', U'¥', U'è', U'é', U'ù', U'ì', U'ò', U'Ç', U'\n', U'Ø', U'ø', U'\r', U'Å', U'å',
    U'Δ', U'_', U'Φ', U'Γ', U'Λ', U'Ω', U'Π', U'Ψ', U'Σ', U'Θ', U'Ξ', kEsc, U'Æ', U'æ', U'ß', U'É',
    U' ', U'!', U'"', U'#', U'¤', U'%', U'&', U'\'', U'(', U')', U'*', U'+', U',', U'-', U'.', U'/',
    U'0', U'1', U'2', U'3', U'4', U'5', U'6', U'7', U'8', U'9', U':', U';', U'<', U'=', U'>', U'?',
    U'¡', U'A', U'B', U'C', U'D', U'E', U'F', U'G', U'H', U'I', U'J', U'K', U'L', U'M', U'N', U'O',
    U'P', U'Q', U'R', U'S', U'T', U'U', U'V', U'W', U'X', U'Y', U'Z', U'Ä', U'Ö', U'Ñ', U'Ü', U'§',
    U'¿', U'a', U'b', U'c', U'd', U'e', U'f', U'g', U'h', U'i', U'j', U'k', U'l', U'm', U'n', U'o',
    U'p', U'q', U'r', U's', U't', U'u', U'v', U'w', U'x', U'y', U'z', U'ä', U'ö', U'ñ', U'ü', U'à',
};
// clang-format on
static_assert(kBasic[0x1B] == kEsc && kBasic[0x7F] == U'à', "GSM default alphabet is 128 codes");
constexpr char32_t kBasicAliases[] = {U'ç'};  // sent as 0x09

// GSM 03.38 extension table (ESC + code): form feed, ^ { } \ [ ~ ] | €.
constexpr char32_t kExtension[] = {U'\f', U'^', U'{', U'}', U'\\', U'[', U'~', U']', U'|', U'€'};

// Septets for one code point in GSM-7: 1 (default alphabet), 2 (extension
// table) or 0 when it is not representable.
int GsmSeptets(char32_t c) {
  for (char32_t b : kBasic) {
    if (b == c) return 1;
  }
  for (char32_t b : kBasicAliases) {
    if (b == c) return 1;
  }
  for (char32_t e : kExtension) {
    if (e == c) return 2;
  }
  return 0;
}

// Decodes one UTF-8 sequence at `s[*i]`, advancing *i; malformed input
// (overlong, surrogates, truncated, > U+10FFFF) yields U+FFFD for one byte.
char32_t NextCodePoint(std::string_view s, size_t* i) {
  const auto byte = [&](size_t k) { return static_cast<uint8_t>(s[k]); };
  const uint8_t b0 = byte(*i);
  int len = 0;
  char32_t cp = 0;
  if (b0 < 0x80) {
    ++*i;
    return b0;
  } else if ((b0 & 0xE0) == 0xC0) {
    len = 2;
    cp = b0 & 0x1F;
  } else if ((b0 & 0xF0) == 0xE0) {
    len = 3;
    cp = b0 & 0x0F;
  } else if ((b0 & 0xF8) == 0xF0) {
    len = 4;
    cp = b0 & 0x07;
  } else {
    ++*i;
    return 0xFFFD;
  }
  if (*i + len > s.size()) {
    ++*i;
    return 0xFFFD;
  }
  for (int k = 1; k < len; ++k) {
    const uint8_t b = byte(*i + k);
    if ((b & 0xC0) != 0x80) {
      ++*i;
      return 0xFFFD;
    }
    cp = (cp << 6) | (b & 0x3F);
  }
  static constexpr char32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < kMin[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
    ++*i;
    return 0xFFFD;
  }
  *i += len;
  return cp;
}

// Parts needed for characters of the given unit widths, each part holding
// `per_part` units and no character split across parts.
template <typename Widths>
int CountParts(const Widths& widths, int per_part) {
  int parts = 1;
  int used = 0;
  for (int w : widths) {
    if (used + w > per_part) {
      ++parts;
      used = 0;
    }
    used += w;
  }
  return parts;
}

// The GSM 03.38 bytes of a code point GsmSeptets accepts: one code, or ESC
// and the extension code.
std::string GsmBytes(char32_t c) {
  for (int i = 0; i < 128; ++i) {
    if (kBasic[i] == c) return std::string(1, static_cast<char>(i));
  }
  for (char32_t b : kBasicAliases) {
    if (b == c) return std::string(1, '\x09');
  }
  static constexpr char kExtensionCodes[] = {0x0A, 0x14, 0x28, 0x29, 0x2F, 0x3C, 0x3D, 0x3E, 0x40, 0x65};
  static_assert(sizeof(kExtensionCodes) == sizeof(kExtension) / sizeof(kExtension[0]));
  for (size_t i = 0; i < sizeof(kExtensionCodes); ++i) {
    if (kExtension[i] == c) return std::string{'\x1B', kExtensionCodes[i]};
  }
  return "?";
}

// Big-endian UTF-16 of a code point: 2 bytes, or 4 for a surrogate pair.
std::string Utf16Bytes(char32_t c) {
  const auto unit = [](std::string& out, uint32_t u) {
    out.push_back(static_cast<char>((u >> 8) & 0xFF));
    out.push_back(static_cast<char>(u & 0xFF));
  };
  std::string out;
  if (c > 0xFFFF) {
    const uint32_t v = static_cast<uint32_t>(c) - 0x10000;
    unit(out, 0xD800 + (v >> 10));
    unit(out, 0xDC00 + (v & 0x3FF));
  } else {
    unit(out, static_cast<uint32_t>(c));
  }
  return out;
}

}  // namespace

SmsParts EncodeSmsParts(std::string_view utf8) {
  const SmsCost cost = CountSmsSegments(utf8);
  SmsParts out;
  out.encoding = cost.encoding;
  const bool gsm = cost.encoding == SmsEncoding::kGsm7;
  // Bytes per unit: a septet is one octet, a UTF-16 unit two.
  const size_t unit_bytes = gsm ? 1 : 2;
  const size_t per_part = (cost.segments == 1 ? (gsm ? kGsmSingle : kUcs2Single) : (gsm ? kGsmPart : kUcs2Part)) *
                          unit_bytes;
  out.parts.emplace_back();
  for (size_t i = 0; i < utf8.size();) {
    const char32_t c = NextCodePoint(utf8, &i);
    std::string bytes = gsm ? GsmBytes(c) : Utf16Bytes(c);
    if (out.parts.back().size() + bytes.size() > per_part) out.parts.emplace_back();
    out.parts.back() += bytes;
  }
  return out;
}

SmsCost CountSmsSegments(std::string_view utf8) {
  // Widths per character in both encodings; a text is UCS-2 as soon as one
  // character is not in GSM-7.
  std::vector<int8_t> gsm;
  std::vector<int8_t> ucs2;
  gsm.reserve(utf8.size());
  ucs2.reserve(utf8.size());
  bool is_gsm = true;
  for (size_t i = 0; i < utf8.size();) {
    const char32_t c = NextCodePoint(utf8, &i);
    const int septets = GsmSeptets(c);
    if (septets == 0) is_gsm = false;
    gsm.push_back(static_cast<int8_t>(septets));
    ucs2.push_back(static_cast<int8_t>(c > 0xFFFF ? 2 : 1));
  }

  SmsCost cost;
  const auto& widths = is_gsm ? gsm : ucs2;
  cost.encoding = is_gsm ? SmsEncoding::kGsm7 : SmsEncoding::kUcs2;
  cost.units = 0;
  for (int w : widths) cost.units += w;
  const int single = is_gsm ? kGsmSingle : kUcs2Single;
  const int part = is_gsm ? kGsmPart : kUcs2Part;
  cost.segments = cost.units <= single ? 1 : CountParts(widths, part);
  return cost;
}

const char* ToString(SmsEncoding encoding) { return encoding == SmsEncoding::kGsm7 ? "gsm7" : "ucs2"; }

}  // namespace forewarn
