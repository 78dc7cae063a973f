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

// The notifier's check before each SMS: a number already in E.164 (as the
// directory stores every number it accepts, after NormalizeE164) is taken
// as it is when its country code exists and its length is possible there;
// any other form goes through NormalizeE164. The numbering plan's patterns
// (libphonenumber's regular expressions, 14 % of the notifier's CPU in the
// fan-out benchmark) are thus checked once, where a number enters, and not
// again for every notice; a well-formed number that no operator assigned
// is refused by the provider instead. INVALID_ARGUMENT as NormalizeE164.
absl::StatusOr<std::string> SendableE164(std::string_view phone, std::string_view default_region = "SA");

// A plausible email address for delivery (RFC 5321-ish, not a full grammar):
// exactly one '@'; local part 1-64 octets; domain of dot-separated non-empty
// labels (at least two), each 1-63 octets of letters, digits, '-' or UTF-8,
// not starting or ending with '-'; total at most 254 octets; no spaces,
// control characters, quotes, angle brackets, commas or semicolons anywhere.
bool IsPlausibleEmail(std::string_view email);

}  // namespace forewarn
