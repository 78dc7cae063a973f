#include "services/status_page/status_site.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "services/core/fnv.h"
#include "services/core/incident_ref.h"
#include "services/status_page/status_feeds.h"
#include "spdlog/spdlog.h"

namespace forewarn {
namespace {

constexpr char kHtml[] = "text/html; charset=utf-8";
constexpr char kText[] = "text/plain; charset=utf-8";

SiteResponse Html(int status, std::string body) { return {status, kHtml, std::move(body), 0}; }

// A status token as it may be typed: 8 letters or digits, upper-cased.
bool LooksLikeToken(absl::string_view token) {
  return token.size() == 8 && std::all_of(token.begin(), token.end(), [](char c) {
           return absl::ascii_isalnum(static_cast<unsigned char>(c));
         });
}

// The overview's fingerprint: which incidents it lists, at which version.
std::string Fingerprint(std::vector<StatusIncident> incidents) {
  std::sort(incidents.begin(), incidents.end(), [](const auto& a, const auto& b) { return a.ref < b.ref; });
  Fnv1a64 h;
  for (const StatusIncident& i : incidents) h.Field(i.ref, 0).Number(i.version);
  return absl::StrCat(h.value());
}

}  // namespace

struct StatusSite::Page {
  PageContext ctx;
  std::string client;
};

StatusSite::StatusSite(StatusReader& reader, const MessageCodes* codes, MissLimiter& limiter, const Clock& clock,
                       MetricsRegistry& metrics, SiteOptions options)
    : reader_(reader), codes_(codes), limiter_(limiter), clock_(clock), metrics_(metrics), options_(std::move(options)) {}

// The viewer of a request: ?lang= or else `language` (a link's) or else
// Accept-Language; ?tz= or else `zone` (a link's) or else the default.
absl::StatusOr<StatusSite::Page> StatusSite::Start(const SiteRequest& req, std::string path,
                                                   absl::string_view language, absl::string_view zone) {
  Page page;
  Viewer& v = page.ctx.viewer;
  v.language = ChooseLanguage(req.lang, language.empty() ? req.accept_language : language, options_.default_language);
  v.zone_name = !req.tz.empty() ? req.tz : !zone.empty() ? std::string(zone) : options_.default_time_zone;
  absl::StatusOr<absl::TimeZone> tz = LoadViewerZone(v.zone_name, req.tz.empty() ? "time_zone" : "tz");
  page.ctx.now = clock_.Now();
  page.ctx.path = std::move(path);
  page.ctx.tz_param = req.tz;
  page.client = req.client;
  if (!tz.ok()) return tz.status();
  v.zone = *tz;
  return page;
}

SiteResponse StatusSite::BadRequest(const SiteRequest& req, const absl::Status& status) {
  SiteRequest fallback = req;
  fallback.tz.clear();
  absl::StatusOr<Page> page = Start(fallback, "/");
  std::string body = page.ok() ? MessagePage(page->ctx, PageMessage::kBadRequest, status.message())
                               : absl::StrCat(status.message(), "\n");
  return {400, page.ok() ? kHtml : kText, std::move(body), 0};
}

std::optional<SiteResponse> StatusSite::Busy(const Page& page, const char* route) {
  const absl::Duration wait = limiter_.Blocked(page.client);
  if (wait <= absl::ZeroDuration()) return std::nullopt;
  return Throttled(page, route, wait);
}

SiteResponse StatusSite::Throttled(const Page& page, const char* route, absl::Duration wait) {
  metrics_.counter("forewarn_status_throttled_total", "Requests refused (429) to clients out of misses",
                   {{"route", route}})
      .Increment();
  const int seconds = static_cast<int>(std::ceil(absl::ToDoubleSeconds(wait)));
  SiteResponse res = Html(429, MessagePage(page.ctx, PageMessage::kTooMany, absl::StrCat(seconds)));
  res.retry_after_seconds = seconds;
  return res;
}

SiteResponse StatusSite::Missed(const Page& page, const char* route) {
  limiter_.Miss(page.client);
  metrics_.counter("forewarn_status_misses_total", "Unknown status tokens, references and unconfirmed codes",
                   {{"route", route}})
      .Increment();
  return Html(404, MessagePage(page.ctx, PageMessage::kNotFound));
}

SiteResponse StatusSite::Unavailable(const Page& page, const absl::Status& status) {
  metrics_.counter("forewarn_status_read_errors_total", "Status reads that failed (database unavailable)").Increment();
  spdlog::warn("event=status_read_failed status=\"{}\"", status.ToString());
  return Html(503, MessagePage(page.ctx, PageMessage::kUnavailable));
}

absl::StatusOr<std::vector<StatusIncident>> StatusSite::Current() {
  return reader_.Current(clock_.Now() - options_.restored_window);
}

SiteResponse StatusSite::Overview(const SiteRequest& req) {
  absl::StatusOr<Page> page = Start(req, "/");
  if (!page.ok()) return BadRequest(req, page.status());
  absl::StatusOr<std::vector<StatusIncident>> current = Current();
  if (!current.ok()) return Unavailable(*page, current.status());
  return Html(200, OverviewPage(*current, page->ctx, options_.restored_window, {"/version", Fingerprint(*current)}));
}

SiteResponse StatusSite::ShowIncident(const Page& page, const IncidentTimeline& timeline) {
  const std::string& ref = timeline.incident.ref;
  return Html(200, IncidentPage(timeline, page.ctx,
                                {absl::StrCat("/version?ref=", ref), absl::StrCat(timeline.incident.version)}));
}

SiteResponse StatusSite::Incident(const SiteRequest& req, absl::string_view raw_ref) {
  const std::string ref = NormalizeIncidentRef(std::string(raw_ref));
  absl::StatusOr<Page> page = Start(req, absl::StrCat("/i/", IsIncidentRef(ref) ? ref : ""));
  if (!page.ok()) return BadRequest(req, page.status());
  if (auto busy = Busy(*page, "incident")) return *busy;
  if (!IsIncidentRef(ref)) return Missed(*page, "incident");
  absl::StatusOr<IncidentTimeline> timeline = Shown(ref);
  if (absl::IsNotFound(timeline.status())) return Missed(*page, "incident");
  if (!timeline.ok()) return Unavailable(*page, timeline.status());
  return ShowIncident(*page, *timeline);
}

SiteResponse StatusSite::Link(const SiteRequest& req, absl::string_view raw_token) {
  const std::string token = absl::AsciiStrToUpper(raw_token);
  absl::StatusOr<Page> probe = Start(req, "/");
  if (!probe.ok()) return BadRequest(req, probe.status());
  if (auto busy = Busy(*probe, "link")) return *busy;
  if (!LooksLikeToken(token)) return Missed(*probe, "link");
  absl::StatusOr<StatusLink> link = reader_.Link(token);
  if (absl::IsNotFound(link.status())) return Missed(*probe, "link");
  if (!link.ok()) return Unavailable(*probe, link.status());
  absl::StatusOr<Page> page = Start(req, absl::StrCat("/n/", token), link->language, link->time_zone);
  if (!page.ok()) return BadRequest(req, page.status());
  absl::StatusOr<IncidentTimeline> timeline = Shown(link->ref);
  if (absl::IsNotFound(timeline.status())) return Missed(*page, "link");
  if (!timeline.ok()) return Unavailable(*page, timeline.status());
  return ShowIncident(*page, *timeline);
}

SiteResponse StatusSite::CheckForm(const SiteRequest& req) {
  absl::StatusOr<Page> page = Start(req, "/check");
  if (!page.ok()) return BadRequest(req, page.status());
  if (codes_ == nullptr) return Html(404, MessagePage(page->ctx, PageMessage::kNotFound));
  return Html(200, CheckPage(page->ctx, std::nullopt));
}

absl::StatusOr<IncidentTimeline> StatusSite::Shown(const std::string& ref) {
  absl::StatusOr<IncidentTimeline> timeline = reader_.Timeline(ref);
  if (timeline.ok() && timeline->incident.kind == IncidentKind::kIbanChange) {
    return absl::NotFoundError("an IBAN change is personal: never shown");
  }
  return timeline;
}

bool StatusSite::CodeMatches(const IncidentTimeline& timeline, absl::string_view code, CheckOutcome* out) const {
  const NoticeCategory category = CategoryOf(timeline.incident.kind);
  for (const StatusChange& change : timeline.changes) {
    for (NoticeKind kind : AllNoticeKinds()) {
      if (CategoryOf(kind) != category) continue;
      if (codes_->Matches(std::string(code), MessageCodeInput{timeline.incident.id, change.version, ToString(kind)})) {
        *out = {true, timeline.incident.ref, kind, change.version};
        return true;
      }
    }
  }
  return false;
}

SiteResponse StatusSite::Check(const SiteRequest& req, absl::string_view raw_ref, absl::string_view raw_code) {
  absl::StatusOr<Page> page = Start(req, "/check");
  if (!page.ok()) return BadRequest(req, page.status());
  if (codes_ == nullptr) return Html(404, MessagePage(page->ctx, PageMessage::kNotFound));
  if (auto busy = Busy(*page, "check")) return *busy;
  const std::string ref = NormalizeIncidentRef(std::string(raw_ref));
  const std::string code(absl::StripAsciiWhitespace(raw_code));
  CheckOutcome outcome;
  if (IsIncidentRef(ref) && !code.empty() && code.size() <= 32) {
    absl::StatusOr<IncidentTimeline> timeline = reader_.Timeline(ref);
    if (!timeline.ok() && !absl::IsNotFound(timeline.status())) return Unavailable(*page, timeline.status());
    if (timeline.ok()) CodeMatches(*timeline, code, &outcome);
  }
  metrics_.counter("forewarn_status_checks_total", "Message checks by outcome",
                   {{"outcome", outcome.genuine ? "genuine" : "rejected"}})
      .Increment();
  if (!outcome.genuine) Missed(*page, "check");  // the same answer for an unknown reference and a wrong code
  return Html(200, CheckPage(page->ctx, outcome));
}

SiteResponse StatusSite::Version(const SiteRequest& req, absl::string_view raw_ref) {
  absl::StatusOr<Page> page = Start(req, "/");
  if (!page.ok()) return BadRequest(req, page.status());
  if (raw_ref.empty()) {
    absl::StatusOr<std::vector<StatusIncident>> current = Current();
    if (!current.ok()) return Unavailable(*page, current.status());
    return {200, kText, Fingerprint(*current), 0};
  }
  if (auto busy = Busy(*page, "version")) return *busy;
  const std::string ref = NormalizeIncidentRef(std::string(raw_ref));
  absl::StatusOr<IncidentTimeline> timeline = IsIncidentRef(ref) ? Shown(ref) : absl::NotFoundError("not a reference");
  if (absl::IsNotFound(timeline.status())) return Missed(*page, "version");
  if (!timeline.ok()) return Unavailable(*page, timeline.status());
  return {200, kText, absl::StrCat(timeline->incident.version), 0};
}

SiteResponse StatusSite::Atom(const SiteRequest& req) {
  absl::StatusOr<Page> page = Start(req, "/feed.atom");
  if (!page.ok()) return BadRequest(req, page.status());
  absl::StatusOr<std::vector<StatusIncident>> current = Current();
  if (!current.ok()) return Unavailable(*page, current.status());
  return {200, "application/atom+xml; charset=utf-8", AtomFeed(*current, page->ctx.viewer, req.base_url, page->ctx.now),
          0};
}

SiteResponse StatusSite::Json(const SiteRequest& req) {
  absl::StatusOr<Page> page = Start(req, "/status.json");
  if (!page.ok()) return BadRequest(req, page.status());
  absl::StatusOr<std::vector<StatusIncident>> current = Current();
  if (!current.ok()) return Unavailable(*page, current.status());
  return {200, "application/json", StatusJson(*current, req.base_url, page->ctx.now), 0};
}

SiteResponse StatusSite::NotFound(const SiteRequest& req) {
  SiteRequest plain = req;
  plain.tz.clear();
  absl::StatusOr<Page> page = Start(plain, "/");
  if (!page.ok()) return {404, kText, "not found\n", 0};
  return Html(404, MessagePage(page->ctx, PageMessage::kNotFound));
}

}  // namespace forewarn
