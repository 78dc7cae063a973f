#pragma once

#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace forewarn {

// Parses `phone` as written by a customer or a CRM ("+966 50 123 4567",
// "0501234567", "00966501234567") and returns it in E.164 ("+966501234567").
// Numbers without a country code are read in `default_region` (ISO 3166
// alpha-2, e.g. "SA"). INVALID_ARGUMENT when it cannot be parsed or is not a
// valid number for its region (wrong length, unassigned prefix); the message
// never repeats the number in full. Thread-safe.
absl::StatusOr<std::string> NormalizeE164(std::string_view phone, std::string_view default_region = "SA");

// A plausible email address for delivery (RFC 5321-ish, not a full grammar):
// exactly one '@'; local part 1-64 octets; domain of dot-separated non-empty
// labels (at least two), each 1-63 octets of letters, digits, '-' or UTF-8,
// not starting or ending with '-'; total at most 254 octets; no spaces,
// control characters, quotes, angle brackets, commas or semicolons anywhere.
bool IsPlausibleEmail(std::string_view email);

}  // namespace forewarn
