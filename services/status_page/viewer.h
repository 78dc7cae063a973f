#pragma once

// Who looks at a status page: the language (Arabic or English) and the
// time zone the page is shown in, and the formats that follow from them.

#include <string>
#include "absl/strings/string_view.h"

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace forewarn {

// "ar" or "en": `query` (?lang=) when it names one of them, else the first
// of them by preference (q-value, then order) in `accept_language` (e.g.
// "en-GB,en;q=0.9,ar;q=0.8"; "ar-SA" counts as "ar"), else `fallback`.
std::string ChooseLanguage(absl::string_view query, absl::string_view accept_language, absl::string_view fallback);

// An IANA zone by name; INVALID_ARGUMENT naming `field` for an unknown one.
absl::StatusOr<absl::TimeZone> LoadViewerZone(absl::string_view name, absl::string_view field);

struct Viewer {
  std::string language = "en";  // "ar" | "en"
  std::string zone_name = "UTC";
  absl::TimeZone zone = absl::UTCTimeZone();
  bool arabic() const { return language == "ar"; }
};

// "24 June 2025, 14:30" / "24 يونيو 2025، 14:30" in the viewer's zone.
std::string FormatLocal(absl::Time t, const Viewer& viewer);
// RFC 3339 in UTC with seconds ("2025-06-24T11:30:00Z"): feeds and JSON.
std::string FormatUtc(absl::Time t);

}  // namespace forewarn
