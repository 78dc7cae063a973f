#include "services/core/iban.h"

#include <map>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace forewarn {
namespace {

// IBAN lengths by country (SWIFT IBAN registry).
const std::map<std::string, size_t>& CountryLengths() {
  static const auto* kLengths = new std::map<std::string, size_t>{
      {"AD", 24}, {"AE", 23}, {"AL", 28}, {"AT", 20}, {"AZ", 28}, {"BA", 20}, {"BE", 16}, {"BG", 22},
      {"BH", 22}, {"BR", 29}, {"BY", 28}, {"CH", 21}, {"CR", 22}, {"CY", 28}, {"CZ", 24}, {"DE", 22},
      {"DK", 18}, {"DO", 28}, {"EE", 20}, {"EG", 29}, {"ES", 24}, {"FI", 18}, {"FO", 18}, {"FR", 27},
      {"GB", 22}, {"GE", 22}, {"GI", 23}, {"GL", 18}, {"GR", 27}, {"GT", 28}, {"HR", 21}, {"HU", 28},
      {"IE", 22}, {"IL", 23}, {"IQ", 23}, {"IS", 26}, {"IT", 27}, {"JO", 30}, {"KW", 30}, {"KZ", 20},
      {"LB", 28}, {"LC", 32}, {"LI", 21}, {"LT", 20}, {"LU", 20}, {"LV", 21}, {"LY", 25}, {"MC", 27},
      {"MD", 24}, {"ME", 22}, {"MK", 19}, {"MR", 27}, {"MT", 31}, {"MU", 30}, {"NL", 18}, {"NO", 15},
      {"PK", 24}, {"PL", 28}, {"PS", 29}, {"PT", 25}, {"QA", 29}, {"RO", 24}, {"RS", 22}, {"SA", 24},
      {"SC", 31}, {"SD", 18}, {"SE", 24}, {"SI", 19}, {"SK", 24}, {"SM", 27}, {"ST", 25}, {"SV", 28},
      {"TL", 23}, {"TN", 24}, {"TR", 26}, {"UA", 29}, {"VA", 22}, {"VG", 24}, {"XK", 20},
  };
  return *kLengths;
}

}  // namespace

absl::StatusOr<std::string> NormalizeIban(absl::string_view field, absl::string_view iban) {
  std::string compact;
  for (char c : iban) {
    if (c == ' ') continue;
    if (!absl::ascii_isalnum(c)) {
      return absl::InvalidArgumentError(absl::StrCat(field, ": may contain only letters, digits and spaces"));
    }
    compact.push_back(absl::ascii_toupper(c));
  }
  if (compact.empty()) return absl::InvalidArgumentError(absl::StrCat(field, ": is required"));
  if (compact.size() < 4 || !absl::ascii_isalpha(compact[0]) || !absl::ascii_isalpha(compact[1]) ||
      !absl::ascii_isdigit(compact[2]) || !absl::ascii_isdigit(compact[3])) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": must start with a country code and two check digits"));
  }
  const std::string country = compact.substr(0, 2);
  auto it = CountryLengths().find(country);
  if (it == CountryLengths().end()) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": unknown IBAN country '", country, "'"));
  }
  if (compact.size() != it->second) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": ", country, " IBANs have ", it->second,
                                                   " characters, got ", compact.size()));
  }
  // ISO 7064 mod 97-10 over the rearranged string, letters as 10..35.
  const std::string rearranged = compact.substr(4) + compact.substr(0, 4);
  int remainder = 0;
  for (char c : rearranged) {
    const int value = absl::ascii_isdigit(c) ? c - '0' : c - 'A' + 10;
    remainder = value >= 10 ? (remainder * 100 + value) % 97 : (remainder * 10 + value) % 97;
  }
  if (remainder != 1) return absl::InvalidArgumentError(absl::StrCat(field, ": check digits do not match"));
  return compact;
}

std::string FormatIban(absl::string_view compact) {
  std::string out;
  for (size_t i = 0; i < compact.size(); ++i) {
    if (i > 0 && i % 4 == 0) out.push_back(' ');
    out.push_back(compact[i]);
  }
  return out;
}

}  // namespace forewarn
