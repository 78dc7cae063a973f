#include "services/status_page/status_feeds.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "nlohmann/json.hpp"
#include "services/status_page/html.h"
#include "services/status_page/status_text.h"

namespace forewarn {
namespace {

std::vector<const StatusIncident*> Listed(const std::vector<StatusIncident>& incidents) {
  std::vector<const StatusIncident*> out;
  for (const StatusIncident& i : incidents) {
    if (i.kind != IncidentKind::kIbanChange) out.push_back(&i);
  }
  std::sort(out.begin(), out.end(), [](auto* a, auto* b) { return a->updated_at > b->updated_at; });
  return out;
}

std::string Names(const std::vector<LocalizedText>& names, const Viewer& viewer) {
  std::vector<std::string> parts;
  for (const LocalizedText& n : names) parts.push_back(Localized(n, viewer));
  return absl::StrJoin(parts, viewer.arabic() ? "، " : ", ");
}

std::string Entry(const StatusIncident& i, const Viewer& v, const std::string& base, absl::Time now) {
  const UiText& ui = Ui(v);
  const std::string url = absl::StrCat(base, "/i/", i.ref, "?lang=", v.language);
  std::vector<LocalizedText> where = i.regions;
  where.insert(where.end(), i.places.begin(), i.places.end());
  const std::string title = absl::StrCat(StateLabel(i, now, v), ": ", Names(i.services, v), " — ", Names(where, v));
  std::string summary = absl::StrCat(KindLabel(i.kind, v), ". ", ui.reason, ": ", Localized(i.reason, v), ". ",
                                     ui.starts, ": ", FormatUtc(i.starts_at), ". ", ui.expected, ": ",
                                     FormatUtc(i.expected_restoration_at), ".");
  if (i.resolved_at) absl::StrAppend(&summary, " ", ui.restored_at, ": ", FormatUtc(*i.resolved_at), ".");
  return absl::StrCat("<entry><id>", HtmlEscape(absl::StrCat(base, "/i/", i.ref)), "</id><title>",
                      HtmlEscape(title), "</title><updated>", FormatUtc(i.updated_at), "</updated><link href=\"",
                      HtmlEscape(url), "\"/><summary>", HtmlEscape(summary), "</summary></entry>\n");
}

nlohmann::json NamesJson(const std::vector<LocalizedText>& names) {
  nlohmann::json out = nlohmann::json::array();
  for (const LocalizedText& n : names) out.push_back({{"ar", n.ar}, {"en", n.en}});
  return out;
}

}  // namespace

std::string AtomFeed(const std::vector<StatusIncident>& incidents, const Viewer& viewer, const std::string& base_url,
                     absl::Time now) {
  const std::vector<const StatusIncident*> listed = Listed(incidents);
  const absl::Time updated = listed.empty() ? now : listed.front()->updated_at;
  std::string xml = absl::StrCat(
      "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<feed xmlns=\"http://www.w3.org/2005/Atom\" xml:lang=\"",
      viewer.language, "\">\n<id>", HtmlEscape(base_url), "/</id><title>", Ui(viewer).title, "</title><updated>",
      FormatUtc(updated), "</updated><link rel=\"self\" href=\"", HtmlEscape(base_url), "/feed.atom?lang=",
      viewer.language, "\"/><link href=\"", HtmlEscape(base_url), "/?lang=", viewer.language,
      "\"/><author><name>Forewarn</name></author>\n");
  for (const StatusIncident* i : listed) xml += Entry(*i, viewer, base_url, now);
  return xml + "</feed>\n";
}

std::string StatusJson(const std::vector<StatusIncident>& incidents, const std::string& base_url, absl::Time now) {
  nlohmann::json list = nlohmann::json::array();
  for (const StatusIncident* i : Listed(incidents)) {
    list.push_back({{"ref", i->ref},
                    {"url", absl::StrCat(base_url, "/i/", i->ref)},
                    {"kind", ToString(i->kind)},
                    {"state", ToString(i->state)},
                    {"version", i->version},
                    {"services", NamesJson(i->services)},
                    {"regions", NamesJson(i->regions)},
                    {"places", NamesJson(i->places)},
                    {"reason", {{"ar", i->reason.ar}, {"en", i->reason.en}}},
                    {"starts_at", FormatUtc(i->starts_at)},
                    {"expected_restoration_at", FormatUtc(i->expected_restoration_at)},
                    {"resolved_at", i->resolved_at ? nlohmann::json(FormatUtc(*i->resolved_at)) : nlohmann::json()},
                    {"updated_at", FormatUtc(i->updated_at)}});
  }
  return nlohmann::json({{"generated_at", FormatUtc(now)}, {"incidents", list}}).dump() + "\n";
}

}  // namespace forewarn
