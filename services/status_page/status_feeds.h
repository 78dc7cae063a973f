#pragma once

// The overview's data as an Atom feed (RFC 4287, one language) and as JSON
// (both languages). Links are absolute under `base_url` ("https://status.example").

#include <string>
#include <vector>

#include "absl/time/time.h"
#include "services/status_page/status_view.h"
#include "services/status_page/viewer.h"

namespace forewarn {

// One entry per incident (IBAN changes skipped), newest change first;
// the entry's id is stable per incident, its <updated> the last change.
std::string AtomFeed(const std::vector<StatusIncident>& incidents, const Viewer& viewer, const std::string& base_url,
                     absl::Time now);

// {"generated_at", "incidents": [{"ref", "url", "kind", "state", "version",
// "services": [{"ar","en"}], "regions", "places", "reason": {"ar","en"},
// "starts_at", "expected_restoration_at", "resolved_at" (or null),
// "updated_at"}]}; times RFC 3339 UTC.
std::string StatusJson(const std::vector<StatusIncident>& incidents, const std::string& base_url, absl::Time now);

}  // namespace forewarn
