#pragma once

// The status page's HTML: complete documents in the viewer's language
// (lang/dir on <html>), server-rendered, working without JavaScript. A page
// that shows changing data names a version URL and the version it shows
// (data-version-url / data-version on <body>); /refresh.js (RefreshScript)
// polls it and reloads the page when it changes; without scripts a
// <noscript> refresh reloads every 30 s. No external resources.

#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "services/status_page/status_view.h"
#include "services/status_page/viewer.h"

namespace forewarn {

struct PageContext {
  Viewer viewer;
  absl::Time now;
  std::string path;      // this page's path ("/", "/i/RIY-4K7Q", "/n/K7QF2M9X", "/check")
  std::string tz_param;  // the ?tz= the viewer chose, kept in links ("": none)
  // "?lang=LANG" and the chosen tz: the query of links to other pages.
  std::string LinkQuery(absl::string_view language) const;
};

// What a page polls to know it is stale (empty url: it does not poll).
struct Refresh {
  std::string url;      // e.g. "/version?ref=RIY-4K7Q"
  std::string version;  // what the url answers while the page is current
};

// What the message check found.
struct CheckOutcome {
  bool genuine = false;
  std::string ref;
  NoticeKind kind = NoticeKind::kOutageStarted;
  int64_t version = 0;
};

enum class PageMessage { kNotFound, kTooMany, kUnavailable, kBadRequest };

// `/`: open outages, planned maintenance (upcoming or in progress) and
// what was restored or completed within `restored_window` (the heading
// says how long, in hours); by service, then region. IBAN changes are never
// listed (the reader does not return them; they are skipped here too).
std::string OverviewPage(const std::vector<StatusIncident>& incidents, const PageContext& ctx,
                         absl::Duration restored_window, const Refresh& refresh);
// `/i/REF` and `/n/TOKEN`: the facts and the timeline of every change.
std::string IncidentPage(const IncidentTimeline& timeline, const PageContext& ctx, const Refresh& refresh);
// `/check`: the form, and the outcome of a check when there was one.
std::string CheckPage(const PageContext& ctx, const std::optional<CheckOutcome>& outcome);
// 404, 429 (`detail`: seconds to wait), 503, 400 (`detail`: what is wrong).
std::string MessagePage(const PageContext& ctx, PageMessage message, absl::string_view detail = "");
// GET /refresh.js.
absl::string_view RefreshScript();

}  // namespace forewarn
