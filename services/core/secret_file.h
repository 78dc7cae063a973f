#pragma once

// Secrets Forewarn signs with (receipt signatures, message codes): read from
// a file, and HMAC-SHA256 under them.

#include <array>
#include <cstddef>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace forewarn {

inline constexpr size_t kMinSecretBytes = 32;

// INVALID_ARGUMENT "WHAT has N bytes, needs at least 32" for a secret under
// kMinSecretBytes; the secret never appears in the message.
absl::Status CheckSecretLength(std::string_view secret, std::string_view what);

// The file's one line that is neither blank nor a '#' comment, of at least
// kMinSecretBytes. FAILED_PRECONDITION naming the file (unreadable, no or
// several secret lines, too short); the secret never appears in a message.
absl::StatusOr<std::string> ReadSecretFile(const std::string& path);

// HMAC-SHA256(secret, domain || data): `domain` keeps the MACs of different
// purposes apart under one secret.
std::array<unsigned char, 32> HmacSha256(std::string_view secret, std::string_view domain, std::string_view data);

}  // namespace forewarn
