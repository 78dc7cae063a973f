#include "services/status_page/status_pages.h"

#include <algorithm>
#include <tuple>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/substitute.h"
#include "services/status_page/html.h"
#include "services/status_page/status_text.h"

namespace forewarn {
namespace {

constexpr char kStyle[] =
    "body{font-family:system-ui,sans-serif;max-width:48rem;margin:0 auto;padding:1rem;line-height:1.5}"
    "header,footer{display:flex;gap:1rem;justify-content:space-between;flex-wrap:wrap}"
    "footer{margin-top:2rem;font-size:.9rem}.card{border:1px solid #bbb;border-radius:.5rem;padding:.5rem 1rem;"
    "margin:.5rem 0}.card h3{margin:.25rem 0}dt{font-weight:600}dd{margin:0 0 .5rem}.state{font-weight:600}"
    ".genuine{color:#075e00}.rejected{color:#9a0000}label{display:block;margin:.5rem 0}";

constexpr char kScript[] = R"JS((function () {
  var body = document.body, url = body.getAttribute('data-version-url');
  var shown = body.getAttribute('data-version');
  if (!url) return;
  function poll() {
    fetch(url, {cache: 'no-store', credentials: 'omit'})
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (v) {
        if (v !== null && v.trim() !== shown) { location.reload(); return; }
        setTimeout(poll, 2000);
      }, function () { setTimeout(poll, 5000); });
  }
  setTimeout(poll, 2000);
})();
)JS";

std::string JoinNames(const std::vector<LocalizedText>& names, const Viewer& viewer) {
  std::vector<std::string> parts;
  for (const LocalizedText& n : names) parts.push_back(HtmlEscape(Localized(n, viewer)));
  return absl::StrJoin(parts, viewer.arabic() ? "، " : ", ");
}

std::string Where(const StatusIncident& i, const Viewer& viewer) {
  std::vector<LocalizedText> all = i.regions;
  all.insert(all.end(), i.places.begin(), i.places.end());
  return JoinNames(all, viewer);
}

std::string Time(absl::Time t, const Viewer& viewer) {
  return absl::StrCat("<time datetime=\"", FormatUtc(t), "\">", HtmlEscape(FormatLocal(t, viewer)), "</time>");
}

std::string Head(const PageContext& ctx, absl::string_view title, const Refresh& refresh) {
  std::string html = absl::StrCat("<!DOCTYPE html>\n<html lang=\"", ctx.viewer.language, "\" dir=\"",
                                  ctx.viewer.arabic() ? "rtl" : "ltr", "\">\n<head><meta charset=\"utf-8\">",
                                  "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">",
                                  "<title>", HtmlEscape(title), "</title><style>", kStyle, "</style>");
  if (!refresh.url.empty()) {
    absl::StrAppend(&html, "<noscript><meta http-equiv=\"refresh\" content=\"30\"></noscript>",
                    "<script src=\"/refresh.js\" defer></script>");
  }
  absl::StrAppend(&html, "</head>\n<body");
  if (!refresh.url.empty()) {
    absl::StrAppend(&html, " data-version-url=\"", HtmlEscape(refresh.url), "\" data-version=\"",
                    HtmlEscape(refresh.version), "\"");
  }
  return html + ">\n";
}

std::string Layout(const PageContext& ctx, absl::string_view title, absl::string_view main, const Refresh& refresh) {
  const UiText& ui = Ui(ctx.viewer);
  const std::string own = ctx.LinkQuery(ctx.viewer.language);
  const char* other = ctx.viewer.arabic() ? "en" : "ar";
  const std::string full_title = title == ui.title ? std::string(title) : absl::StrCat(std::string(title), " — ", ui.title);
  return absl::StrCat(
      Head(ctx, full_title, refresh), "<header><a href=\"/", HtmlEscape(own), "\">", ui.title, "</a> ",
      "<a class=\"lang\" hreflang=\"", other, "\" lang=\"", other, "\" href=\"",
      HtmlEscape(ctx.path + ctx.LinkQuery(other)), "\">", ui.other_language, "</a></header>\n<main>", main,
      "</main>\n<footer><span>", absl::Substitute(ui.times_in, HtmlEscape(ctx.viewer.zone_name)),
      "</span> <a href=\"/check", HtmlEscape(own), "\">", ui.check, "</a> <a href=\"/feed.atom?lang=",
      ctx.viewer.language, "\" type=\"application/atom+xml\">", ui.feed, "</a></footer>\n</body>\n</html>\n");
}

std::string Card(const StatusIncident& i, const PageContext& ctx) {
  const Viewer& v = ctx.viewer;
  const UiText& ui = Ui(v);
  std::string html = absl::StrCat("<article class=\"card\" data-ref=\"", HtmlEscape(i.ref), "\"><h3><a href=\"/i/",
                                  HtmlEscape(i.ref), HtmlEscape(ctx.LinkQuery(v.language)), "\">",
                                  JoinNames(i.services, v), " — ", Where(i, v), "</a></h3>",
                                  "<p><span class=\"state\">", StateLabel(i, ctx.now, v), "</span> · ",
                                  HtmlEscape(Localized(i.reason, v)), "</p><p>");
  const bool upcoming = i.state == IncidentState::kOpen && ctx.now < i.starts_at;
  absl::StrAppend(&html, upcoming ? ui.starts : ui.started, ": ", Time(i.starts_at, v), " · ");
  if (i.resolved_at) {
    absl::StrAppend(&html, ui.restored_at, ": ", Time(*i.resolved_at, v));
  } else {
    absl::StrAppend(&html, ui.expected, ": ", Time(i.expected_restoration_at, v));
  }
  return html + "</p></article>\n";
}

std::string Section(const char* id, absl::string_view heading, std::vector<const StatusIncident*> list,
                    const PageContext& ctx) {
  const Viewer& v = ctx.viewer;
  auto key = [&](const StatusIncident* i) { return std::tuple(JoinNames(i->services, v), Where(*i, v), i->starts_at); };
  std::sort(list.begin(), list.end(), [&](auto* a, auto* b) { return key(a) < key(b); });
  std::string html = absl::StrCat("<section id=\"", id, "\"><h2>", heading, "</h2>\n");
  if (list.empty()) absl::StrAppend(&html, "<p class=\"none\">", Ui(v).none, "</p>\n");
  for (const StatusIncident* i : list) html += Card(*i, ctx);
  return html + "</section>\n";
}


// What changed at `c` (after `prev`, the version before it; null for the first).
std::string ChangeText(const StatusChange& c, const StatusChange* prev, IncidentKind kind, const Viewer& v) {
  const UiText& ui = Ui(v);
  const bool maintenance = kind == IncidentKind::kPlannedMaintenance;
  auto local = [&](absl::Time t) { return HtmlEscape(FormatLocal(t, v)); };
  if (c.change == "cancelled") return ui.cancelled;
  if (c.change == "resolved") {
    return absl::Substitute(maintenance ? ui.maintenance_completed : ui.service_restored, local(c.resolved_at.value_or(c.at)));
  }
  if (prev == nullptr) {
    return maintenance ? absl::Substitute(ui.maintenance_announced, local(c.starts_at), local(c.expected_restoration_at))
                       : absl::Substitute(ui.outage_reported, local(c.expected_restoration_at));
  }
  std::vector<std::string> parts;
  if (c.starts_at != prev->starts_at) {
    parts.push_back(absl::Substitute(ui.start_moved, local(prev->starts_at), local(c.starts_at)));
  }
  if (c.expected_restoration_at != prev->expected_restoration_at) {
    parts.push_back(absl::Substitute(ui.estimate_moved, local(prev->expected_restoration_at),
                                     local(c.expected_restoration_at)));
  }
  if (Localized(c.reason, v) != Localized(prev->reason, v)) {
    parts.push_back(absl::Substitute(ui.reason_updated, HtmlEscape(Localized(c.reason, v))));
  }
  if (c.targets_changed) parts.push_back(ui.targets_changed);
  if (parts.empty()) return ui.details_updated;
  return absl::StrJoin(parts, v.arabic() ? "؛ " : "; ");
}

std::string TimelineList(const IncidentTimeline& t, const Viewer& v) {
  std::string html = absl::StrCat("<section id=\"timeline\"><h2>", Ui(v).timeline, "</h2><ol>\n");
  const StatusChange* prev = nullptr;
  for (const StatusChange& c : t.changes) {
    absl::StrAppend(&html, "<li data-version=\"", c.version, "\">", Time(c.at, v), " — ",
                    ChangeText(c, prev, t.incident.kind, v), "</li>\n");
    prev = &c;
  }
  return html + "</ol></section>\n";
}

std::string Fact(const char* label, absl::string_view value) {
  return absl::StrCat("<dt>", label, "</dt><dd>", std::string(value), "</dd>");
}

}  // namespace

std::string PageContext::LinkQuery(absl::string_view language) const {
  return absl::StrCat("?lang=", language, tz_param.empty() ? "" : "&tz=", UrlEncode(tz_param));
}

std::string OverviewPage(const std::vector<StatusIncident>& incidents, const PageContext& ctx,
                         absl::Duration restored_window, const Refresh& refresh) {
  std::vector<const StatusIncident*> outages, maintenance, restored;
  for (const StatusIncident& i : incidents) {
    if (i.kind == IncidentKind::kIbanChange) continue;
    if (i.state != IncidentState::kOpen) {
      restored.push_back(&i);
    } else {
      (i.kind == IncidentKind::kPlannedMaintenance ? maintenance : outages).push_back(&i);
    }
  }
  const UiText& ui = Ui(ctx.viewer);
  const std::string main = absl::StrCat("<h1>", ui.title, "</h1>\n", Section("outages", ui.outages, outages, ctx),
                                        Section("maintenance", ui.maintenance, maintenance, ctx),
                                        Section("restored",
                                                absl::Substitute(ui.restored, absl::ToInt64Hours(restored_window)),
                                                restored, ctx));
  return Layout(ctx, ui.title, main, refresh);
}

std::string IncidentPage(const IncidentTimeline& timeline, const PageContext& ctx, const Refresh& refresh) {
  const StatusIncident& i = timeline.incident;
  const Viewer& v = ctx.viewer;
  const UiText& ui = Ui(v);
  const std::string heading = absl::StrCat(KindLabel(i.kind, v), ": ", JoinNames(i.services, v));
  std::string facts = absl::StrCat(
      Fact(ui.reference, HtmlEscape(i.ref)), Fact(ui.state, StateLabel(i, ctx.now, v)),
      Fact(ui.service, JoinNames(i.services, v)), Fact(ui.where, Where(i, v)),
      Fact(ui.reason, HtmlEscape(Localized(i.reason, v))),
      Fact(i.state == IncidentState::kOpen && ctx.now < i.starts_at ? ui.starts : ui.started, Time(i.starts_at, v)),
      Fact(ui.expected, Time(i.expected_restoration_at, v)));
  if (i.resolved_at) facts += Fact(ui.restored_at, Time(*i.resolved_at, v));
  facts += Fact(ui.updated, Time(i.updated_at, v));
  const std::string main = absl::StrCat("<h1>", heading, "</h1>\n<dl id=\"facts\" data-ref=\"", HtmlEscape(i.ref),
                                        "\" data-version=\"", i.version, "\">", facts, "</dl>\n",
                                        TimelineList(timeline, v), "<p><a href=\"/",
                                        HtmlEscape(ctx.LinkQuery(v.language)), "\">", ui.overview, "</a></p>\n");
  return Layout(ctx, absl::StrCat(KindLabel(i.kind, v), " ", i.ref), main, refresh);
}

std::string CheckPage(const PageContext& ctx, const std::optional<CheckOutcome>& outcome) {
  const Viewer& v = ctx.viewer;
  const UiText& ui = Ui(v);
  std::string main = absl::StrCat("<h1>", ui.check, "</h1>\n");
  if (outcome && outcome->genuine) {
    absl::StrAppend(&main, "<p id=\"outcome\" class=\"genuine\" role=\"status\">",
                    absl::Substitute(ui.genuine, HtmlEscape(NoticeKindLabel(outcome->kind, v)),
                                     HtmlEscape(outcome->ref), outcome->version),
                    "</p>\n");
  } else if (outcome) {
    absl::StrAppend(&main, "<p id=\"outcome\" class=\"rejected\" role=\"status\">", ui.rejected, "</p>\n");
  }
  absl::StrAppend(&main, "<p>", ui.check_intro, "</p>\n<form method=\"post\" action=\"/check",
                  HtmlEscape(ctx.LinkQuery(v.language)), "\"><label>", ui.reference,
                  " <input name=\"ref\" required maxlength=\"16\" autocomplete=\"off\" dir=\"ltr\"></label><label>",
                  ui.code, " <input name=\"code\" required maxlength=\"16\" autocomplete=\"off\" dir=\"ltr\"></label>",
                  "<button type=\"submit\">", ui.check_button, "</button></form>\n");
  return Layout(ctx, ui.check, main, {});
}

std::string MessagePage(const PageContext& ctx, PageMessage message, absl::string_view detail) {
  const UiText& ui = Ui(ctx.viewer);
  std::string text;
  switch (message) {
    case PageMessage::kNotFound: text = ui.not_found; break;
    case PageMessage::kTooMany: text = absl::Substitute(ui.too_many, HtmlEscape(detail)); break;
    case PageMessage::kUnavailable: text = ui.unavailable; break;
    case PageMessage::kBadRequest: text = HtmlEscape(detail); break;
  }
  return Layout(ctx, ui.title, absl::StrCat("<h1>", ui.title, "</h1>\n<p id=\"message\">", text, "</p>\n"), {});
}

absl::string_view RefreshScript() { return kScript; }

}  // namespace forewarn
