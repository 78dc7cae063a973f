#pragma once

#include <string>
#include <string_view>

namespace forewarn {

// Personal data never reaches a log unmasked. These keep just enough to
// correlate ("+9665*****123", "a***@example.com", "SA03 **** **** 1234").
std::string MaskPhone(std::string_view phone);
std::string MaskEmail(std::string_view email);
std::string MaskIban(std::string_view iban);
// Masks a recipient address of either kind.
std::string MaskAddress(std::string_view address);

}  // namespace forewarn
