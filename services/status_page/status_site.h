#pragma once

// forewarn-status's use cases, one per route, independent of the HTTP
// library: a request's few inputs in, a status, a content type and a body
// out (services/status_http serves them over cpp-httplib).
//
// Misses (an unknown status token, an unknown or malformed incident
// reference, an IBAN change's reference, a message code that does not
// match) answer 404 (the check: "not confirmed") and are counted against
// the client in the MissLimiter; a client with no misses left gets 429 with
// Retry-After on every route that could miss, before anything is looked up.

#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "services/core/clock.h"
#include "services/core/message_code.h"
#include "services/http/metrics.h"
#include "services/status_page/miss_limiter.h"
#include "services/status_page/status_pages.h"
#include "services/status_page/status_view.h"

namespace forewarn {

struct SiteOptions {
  std::string default_language = "ar";         // without ?lang= or a known Accept-Language
  std::string default_time_zone = "Asia/Riyadh";  // without ?tz= (checked by the caller)
  absl::Duration restored_window = absl::Hours(24);  // "recently restored" on the overview
};

struct SiteRequest {
  std::string client;           // the client's address, for the miss limiter
  std::string lang;             // ?lang=
  std::string accept_language;  // the header
  std::string tz;               // ?tz=
  std::string base_url;         // "https://status.example": absolute links of the feeds
};

struct SiteResponse {
  int status = 200;
  std::string content_type;
  std::string body;
  int retry_after_seconds = 0;  // 429 only
};

class StatusSite {
 public:
  // `codes` may be null: the message check is then off (404). Everything
  // must outlive the site.
  StatusSite(StatusReader& reader, const MessageCodes* codes, MissLimiter& limiter, const Clock& clock,
             MetricsRegistry& metrics, SiteOptions options);

  SiteResponse Overview(const SiteRequest& req);                         // GET /
  SiteResponse Incident(const SiteRequest& req, absl::string_view ref);   // GET /i/{ref}
  SiteResponse Link(const SiteRequest& req, absl::string_view token);     // GET /n/{token}
  SiteResponse CheckForm(const SiteRequest& req);                        // GET /check
  SiteResponse Check(const SiteRequest& req, absl::string_view ref, absl::string_view code);  // POST /check
  // GET /version[?ref=REF]: what the page shows now (the incident's version,
  // or a fingerprint of the overview), text/plain; pages poll it.
  SiteResponse Version(const SiteRequest& req, absl::string_view ref);
  SiteResponse Atom(const SiteRequest& req);  // GET /feed.atom
  SiteResponse Json(const SiteRequest& req);  // GET /status.json
  SiteResponse NotFound(const SiteRequest& req);  // any other path

 private:
  struct Page;
  absl::StatusOr<Page> Start(const SiteRequest& req, std::string path, absl::string_view language = "",
                             absl::string_view zone = "");
  SiteResponse BadRequest(const SiteRequest& req, const absl::Status& status);
  SiteResponse Throttled(const Page& page, const char* route, absl::Duration wait);
  SiteResponse Missed(const Page& page, const char* route);
  SiteResponse Unavailable(const Page& page, const absl::Status& status);
  SiteResponse ShowIncident(const Page& page, const IncidentTimeline& timeline);
  std::optional<SiteResponse> Busy(const Page& page, const char* route);
  // The timeline of `ref` if the pages may show it: NOT_FOUND for an
  // unknown reference and for an IBAN change (personal: never shown).
  absl::StatusOr<IncidentTimeline> Shown(const std::string& ref);
  bool CodeMatches(const IncidentTimeline& timeline, absl::string_view code, CheckOutcome* out) const;
  absl::StatusOr<std::vector<StatusIncident>> Current();

  StatusReader& reader_;
  const MessageCodes* const codes_;
  MissLimiter& limiter_;
  const Clock& clock_;
  MetricsRegistry& metrics_;
  const SiteOptions options_;
};

}  // namespace forewarn
