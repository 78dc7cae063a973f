#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace forewarn {

// Validates an IBAN (ISO 13616): country code, the country's length, the
// character set and the mod-97 check digits. Spaces are ignored and letters
// upper-cased. Returns the compact form ("SA0380000000608010167519").
// INVALID_ARGUMENT names `field` and says what is wrong.
absl::StatusOr<std::string> NormalizeIban(absl::string_view field, absl::string_view iban);

// "SA03 8000 0000 6080 1016 7519"
std::string FormatIban(absl::string_view compact);

}  // namespace forewarn
