#pragma once

// Short human references for incidents, e.g. RIY-4K7Q: three letters (the
// first region's code, else the kind's: OUT, MNT, IBN), a dash and 4 to 6
// Crockford base32 characters. PostgreSQL assigns them (migration 15); the
// notices show them and the CLI, the API and the status page take them
// wherever they take an incident id. Crockford base32 leaves out I, L, O and
// U, so a reference read aloud or typed from an SMS is not misread; typing
// the look-alikes (o for 0, i or l for 1) and lower case is forgiven.

#include <cstdint>
#include <string>
#include <string_view>

namespace forewarn {

inline constexpr std::string_view kCrockfordAlphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

// The low 5 * `chars` bits of `value` in Crockford base32, most significant
// first (chars <= 12).
std::string CrockfordEncode(uint64_t value, int chars);

// Crockford text as typed: upper case, O read as 0, I and L as 1, dashes and
// spaces dropped.
std::string NormalizeCrockford(std::string_view text);

// A reference as typed: surrounding spaces dropped, upper case, and the
// look-alikes of the part after the dash read as Crockford does. Whatever is
// not a reference comes back changed only in case and spaces.
std::string NormalizeIncidentRef(std::string_view text);

// Whether `text` (normalized) has a reference's shape. An incident id (a
// UUID) never does, so callers can tell the two apart.
bool IsIncidentRef(std::string_view text);

}  // namespace forewarn
