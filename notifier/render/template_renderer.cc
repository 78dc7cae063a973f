#include "notifier/render/template_renderer.h"

#include <unicode/calendar.h>
#include <unicode/dtptngen.h>
#include <unicode/fieldpos.h>
#include <unicode/fmtable.h>
#include <unicode/locid.h>
#include <unicode/measfmt.h>
#include <unicode/measunit.h>
#include <unicode/measure.h>
#include <unicode/smpdtfmt.h>
#include <unicode/timezone.h>
#include <unicode/unistr.h>

#include <algorithm>
#include <array>
#include <filesystem>
#include <fstream>
#include <kainjow/mustache.hpp>
#include <mutex>
#include <optional>
#include <tuple>
#include <iterator>
#include <unordered_map>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "services/core/iban.h"
#include "services/core/mask.h"

namespace forewarn {
namespace {

using Mustache = kainjow::mustache::mustache;
using MustacheData = kainjow::mustache::data;

// This abseil build has its own string_view (ABSL_OPTION_USE_STD_STRING_VIEW 0).
absl::string_view Sv(std::string_view s) { return absl::string_view(s.data(), s.size()); }
std::string_view Sv(absl::string_view s) { return std::string_view(s.data(), s.size()); }

constexpr std::array<std::string_view, 18> kVariables = {
    "name",        "reason",          "services", "regions",      "starts_at",  "expected_restoration_at",
    "resolved_at", "incident_id",     "version",  "time_zone",    "lead",       "old_iban",
    "new_iban",    "unsubscribe_url", "place",    "incident_ref", "status_url", "check_code",
};

// The occasion prefix carrying a lead time ("lead-48h", "lead-1h30m": see
// LeadOccasion in services/core/notice_policy.h): maintenance reminders and
// IBAN change notices.
constexpr std::string_view kLeadPrefix = "lead-";

// One supported customer language and how ICU formats dates for it.
struct LocaleSpec {
  std::string_view code;
  // Gregorian calendar and Latin digits for Arabic: "ar-SA" would default to
  // the Umm al-Qura calendar and Arabic-Indic digits; times in notices must
  // match the clocks and phones customers read them on.
  const char* icu_locale;
  std::string_view list_separator;  // between service / region codes
  std::string_view unnamed_place;   // {{place}} of an incident that names no place
};
constexpr std::array<LocaleSpec, 2> kLocales = {{
    {"ar", "ar@calendar=gregorian;numbers=latn", "، ", "منطقتك"},
    {"en", "en@calendar=gregorian", ", ", "your area"},
}};

// Date styles, as skeletons so each locale gets its natural field order.
// 24-hour clock everywhere: unambiguous in both languages. SMS leave out the
// year when the date is in the current year in the customer's zone.
enum Style { kLong = 0, kShort = 1, kShortWithYear = 2 };
constexpr int kStyles = 3;
constexpr std::array<const char*, kStyles> kSkeletons = {
    "EEEEdMMMMyHHmmzzzz",  // email: "Saturday, January 10, 2026 at 18:30 Arabian Standard Time"
    "dMMMHHmmz",           // SMS:   "Jan 10, 18:30 GMT+3"
    "dMMMyHHmmz",          // SMS, another year: "Jan 10, 2027, 18:30 GMT+3"
};

// The four templates of one notice kind and locale.
enum Part { kSms = 0, kSubject = 1, kText = 2, kHtml = 3 };
constexpr int kParts = 4;

// Display names in the customer's language when known, else the codes.
std::string JoinNames(const std::vector<std::string>& codes, const std::vector<LocalizedText>& names,
                      const LocaleSpec& spec) {
  if (names.size() != codes.size()) return absl::StrJoin(codes, Sv(spec.list_separator));
  std::vector<std::string> out;
  for (const auto& n : names) out.push_back(spec.code == "ar" ? n.ar : n.en);
  return absl::StrJoin(out, Sv(spec.list_separator));
}

// The place customers know: the targeted assets' and area's names, else
// the regions', else "your area" (an incident by uploaded list alone).
std::string PlaceOf(const Incident& incident, const LocaleSpec& spec) {
  std::vector<std::string> out;
  for (const auto& n : incident.place_names) out.push_back(spec.code == "ar" ? n.ar : n.en);
  if (!out.empty()) return absl::StrJoin(out, Sv(spec.list_separator));
  if (!incident.regions.empty()) return JoinNames(incident.regions, incident.region_names, spec);
  return std::string(spec.unnamed_place);
}

std::string FileName(Part part, std::string_view locale) {
  switch (part) {
    case kSms:
      return absl::StrCat("sms.", Sv(locale), ".mustache");
    case kSubject:
      return absl::StrCat("email.", Sv(locale), ".subject.mustache");
    case kText:
      return absl::StrCat("email.", Sv(locale), ".txt.mustache");
    case kHtml:
      return absl::StrCat("email.", Sv(locale), ".html.mustache");
  }
  return "";
}

int KindIndex(NoticeKind kind) {
  const std::vector<NoticeKind>& kinds = AllNoticeKinds();
  for (size_t i = 0; i < kinds.size(); ++i) {
    if (kinds[i] == kind) return static_cast<int>(i);
  }
  return -1;
}

// "SA0380000000608010167519" (spaces and case tolerated) -> "SA03 8000 0000 6080 1016 7519".
std::string GroupedIban(std::string_view iban) {
  std::string compact;
  for (char c : iban) {
    if (c != ' ') compact.push_back(absl::ascii_toupper(c));
  }
  return FormatIban(compact);
}

// The lead time of an occasion "lead-<absl duration>"; nullopt for other or
// no occasions, INVALID_ARGUMENT for a malformed or non-positive duration.
absl::StatusOr<std::optional<absl::Duration>> LeadOf(const std::string& occasion) {
  if (!absl::StartsWith(occasion, Sv(kLeadPrefix))) return std::nullopt;
  absl::Duration d;
  if (!absl::ParseDuration(occasion.substr(kLeadPrefix.size()), &d) || d <= absl::ZeroDuration() ||
      d == absl::InfiniteDuration()) {
    return absl::InvalidArgumentError(absl::StrCat("bad lead time in occasion '", occasion, "'"));
  }
  return d;
}

// "ar", "AR", "ar-SA", "ar_SA" -> index into kLocales; -1 when unsupported.
int LocaleIndex(std::string_view locale) {
  std::string_view lang = locale.substr(0, locale.find_first_of("-_@"));
  for (size_t i = 0; i < kLocales.size(); ++i) {
    if (absl::EqualsIgnoreCase(Sv(lang), Sv(kLocales[i].code))) return static_cast<int>(i);
  }
  return -1;
}

bool IsKnownVariable(std::string_view name) {
  for (std::string_view v : kVariables) {
    if (v == name) return true;
  }
  return false;
}

std::string KnownList() {
  std::string out;
  for (std::string_view v : kVariables) {
    if (!out.empty()) out += ", ";
    out += v;
  }
  return out;
}

// Walks every {{tag}} of a template and checks it against the variable list.
// Partials and delimiter changes are refused so that this scan sees exactly
// the tags mustache will see.
absl::Status CheckTags(std::string_view text, bool html) {
  size_t pos = 0;
  while ((pos = text.find("{{", pos)) != std::string_view::npos) {
    const size_t line = 1 + std::count(text.begin(), text.begin() + pos, '\n');
    const bool triple = text.substr(pos + 2, 1) == "{";
    const std::string_view close = triple ? "}}}" : "}}";
    const size_t start = pos + (triple ? 3 : 2);
    const size_t end = text.find(close, start);
    if (end == std::string_view::npos) {
      return absl::InvalidArgumentError(absl::StrCat("unclosed tag at line ", line));
    }
    std::string_view tag = Sv(absl::StripAsciiWhitespace(Sv(text.substr(start, end - start))));
    pos = end + close.size();
    bool unescaped = triple;
    if (!triple && !tag.empty()) {
      switch (tag.front()) {
        case '!':
          continue;  // comment
        case '>':
          return absl::InvalidArgumentError(absl::StrCat("partials are not supported (line ", line, ")"));
        case '=':
          return absl::InvalidArgumentError(
              absl::StrCat("delimiter changes are not supported (line ", line, ")"));
        case '&':
          unescaped = true;
          tag = Sv(absl::StripAsciiWhitespace(Sv(tag.substr(1))));
          break;
        case '#':
        case '^':
        case '/':
          tag = Sv(absl::StripAsciiWhitespace(Sv(tag.substr(1))));
          break;
        default:
          break;
      }
    }
    if (html && unescaped) {
      return absl::InvalidArgumentError(
          absl::StrCat("unescaped variable '", Sv(tag), "' in an HTML template (line ", line, ")"));
    }
    if (!IsKnownVariable(tag)) {
      return absl::InvalidArgumentError(absl::StrCat("unknown variable '", Sv(tag), "' at line ", line,
                                                     "; known: ", KnownList()));
    }
  }
  return absl::OkStatus();
}

// A rendered template with the places where the customer's own values go
// (the name, the unsubscribe link): the text between them, rendered once for
// every customer of a fan-out.
struct NamedText {
  std::vector<std::string> pieces;  // a value between consecutive pieces
  std::vector<bool> is_url;         // which value follows pieces[i] (name or link)
  std::string Fill(std::string_view name, std::string_view url = {}) const {
    size_t size = 0;
    for (const auto& p : pieces) size += p.size() + std::max(name.size(), url.size());
    std::string out;
    out.reserve(size);
    for (size_t i = 0; i < pieces.size(); ++i) {
      if (i) out.append(is_url[i - 1] ? url : name);
      out += pieces[i];
    }
    return out;
  }
};

// Stand for the name and the link while rendering: control characters no
// template or other value contains.
constexpr std::string_view kNameMark = "\x01\x02name\x02\x01";
constexpr std::string_view kUrlMark = "\x01\x02url\x02\x01";

constexpr size_t kMaxRenderedCache = 1024;

// Whether two incidents read the same in a notice (all RenderParts uses).
bool SameNoticeContent(const Incident& a, const Incident& b) {
  return std::tie(a.ref, a.services, a.regions, a.reason, a.starts_at, a.expected_restoration_at, a.resolved_at,
                  a.old_iban, a.new_iban, a.service_names, a.region_names, a.place_names) ==
         std::tie(b.ref, b.services, b.regions, b.reason, b.starts_at, b.expected_restoration_at, b.resolved_at,
                  b.old_iban, b.new_iban, b.service_names, b.region_names, b.place_names);
}

NamedText SplitAtName(const std::string& rendered) {
  NamedText out;
  size_t from = 0;
  while (true) {
    const size_t name_at = rendered.find(kNameMark, from);
    const size_t url_at = rendered.find(kUrlMark, from);
    const size_t at = std::min(name_at, url_at);
    if (at == std::string::npos) break;
    const bool url = url_at < name_at;
    out.pieces.push_back(rendered.substr(from, at - from));
    out.is_url.push_back(url);
    from = at + (url ? kUrlMark : kNameMark).size();
  }
  out.pieces.push_back(rendered.substr(from));
  return out;
}

// Single-line, trimmed: SMS text and subjects come from files ending in "\n".
std::string TrimmedLine(std::string s, bool single_line) {
  if (single_line) {
    for (char& c : s) {
      if (c == '\r' || c == '\n') c = ' ';
    }
  }
  return std::string(absl::StripAsciiWhitespace(s));
}

// A formatter bound to one locale, style and time zone, remembering its last
// few results: a fan-out renders the same few instants for many customers.
class ZoneFormatter {
 public:
  explicit ZoneFormatter(std::unique_ptr<icu::SimpleDateFormat> fmt)
      : fmt_(std::move(fmt)), calendar_(fmt_->getCalendar()->clone()) {}

  // The Gregorian year of `t` in this formatter's zone. The bounds of the
  // last year computed are kept: "now" stays in them all year.
  int Year(absl::Time t) {
    const auto ms = static_cast<UDate>(absl::ToUnixMillis(t));
    if (year_known_ && ms >= year_start_ && ms < year_end_) return year_;
    UErrorCode status = U_ZERO_ERROR;
    calendar_->setTime(ms, status);
    const int year = calendar_->get(UCAL_EXTENDED_YEAR, status);
    calendar_->set(UCAL_MONTH, UCAL_JANUARY);
    calendar_->set(UCAL_DATE, 1);
    calendar_->set(UCAL_HOUR_OF_DAY, 0);
    calendar_->set(UCAL_MINUTE, 0);
    calendar_->set(UCAL_SECOND, 0);
    calendar_->set(UCAL_MILLISECOND, 0);
    const UDate start = calendar_->getTime(status);
    calendar_->add(UCAL_YEAR, 1, status);
    const UDate end = calendar_->getTime(status);
    year_known_ = U_SUCCESS(status) && start <= ms && ms < end;
    year_ = year;
    year_start_ = start;
    year_end_ = end;
    return year;
  }

  const std::string& Format(absl::Time t) {
    const int64_t ms = absl::ToUnixMillis(t);
    for (const Entry& e : recent_) {
      if (e.valid && e.ms == ms) return e.text;
    }
    Entry& e = recent_[next_];
    next_ = (next_ + 1) % recent_.size();
    icu::UnicodeString s;
    fmt_->format(static_cast<UDate>(ms), s);
    e.text.clear();
    s.toUTF8String(e.text);
    e.ms = ms;
    e.valid = true;
    return e.text;
  }

 private:
  struct Entry {
    bool valid = false;
    int64_t ms = 0;
    std::string text;
  };
  std::unique_ptr<icu::SimpleDateFormat> fmt_;
  std::unique_ptr<icu::Calendar> calendar_;  // fmt_'s calendar and zone, for Year()
  bool year_known_ = false;
  int year_ = 0;
  UDate year_start_ = 0;
  UDate year_end_ = 0;
  std::array<Entry, 4> recent_;
  size_t next_ = 0;
};

}  // namespace

struct TemplateRenderer::Impl {
  Impl(const Clock& c, UnsubscribeLinkFn l, NoticeMarkFn m) : clock(c), links(std::move(l)), marks(std::move(m)) {}

  const Clock& clock;  // "now", for the current year in the customer's zone
  const UnsubscribeLinkFn links;  // may be empty: no links
  NoticeMarkFn marks;             // may be empty: no status link, no code
  // templates[kind index in AllNoticeKinds()][locale][part]: every kind core
  // names, so a kind added there without templates fails Load()
  std::vector<std::array<std::array<std::unique_ptr<Mustache>, kParts>, kLocales.size()>> templates;
  std::array<icu::Locale, kLocales.size()> locales;
  // Prototype formatters per [locale][style]; cloned for each time zone.
  std::array<std::array<std::unique_ptr<icu::SimpleDateFormat>, kStyles>, kLocales.size()> prototypes;
  // Durations ("2 days", "يومان") per locale.
  std::array<std::unique_ptr<icu::MeasureFormat>, kLocales.size()> durations;

  std::mutex mu;
  // Formatters per [locale][style] by IANA time zone id. Bounded by the
  // number of valid zones (invalid ones are never cached).
  std::array<std::array<std::unordered_map<std::string, std::unique_ptr<ZoneFormatter>>, kStyles>, kLocales.size()>
      formatters;
  // Rendered parts by everything they depend on but the customer's name
  // (see Render): a fan-out renders each template a handful of times.
  struct Rendered {
    Incident incident;  // what it was rendered from (an id and version should not change, but may)
    std::array<NamedText, kParts> parts;
  };
  std::unordered_map<std::string, Rendered> rendered;

  // Requires mu. The formatter for (locale, style, tz); INVALID_ARGUMENT for
  // an unknown time zone.
  absl::StatusOr<ZoneFormatter*> Formatter(int locale, Style style, const std::string& tz) {
    auto& cache = formatters[locale][style];
    if (auto it = cache.find(tz); it != cache.end()) return it->second.get();
    std::unique_ptr<icu::TimeZone> zone(icu::TimeZone::createTimeZone(icu::UnicodeString::fromUTF8(tz)));
    if (tz.empty() || zone == nullptr || *zone == icu::TimeZone::getUnknown()) {
      return absl::InvalidArgumentError(absl::StrCat("unknown time zone '", tz, "'"));
    }
    std::unique_ptr<icu::SimpleDateFormat> fmt(prototypes[locale][style]->clone());
    if (fmt == nullptr) return absl::ResourceExhaustedError("cannot clone ICU date format");
    fmt->adoptTimeZone(zone.release());
    auto* raw = cache.emplace(tz, std::make_unique<ZoneFormatter>(std::move(fmt))).first->second.get();
    return raw;
  }

  // Requires mu. A lead time in words: whole days when it is a multiple of
  // 24h, else whole hours, else minutes ("2 days", "2 hours", "90 minutes").
  absl::StatusOr<std::string> Duration(int locale, absl::Duration d) {
    UErrorCode status = U_ZERO_ERROR;
    icu::MeasureUnit* unit = nullptr;
    int64_t amount = 0;
    if (d % absl::Hours(24) == absl::ZeroDuration()) {
      amount = absl::ToInt64Hours(d) / 24;
      unit = icu::MeasureUnit::createDay(status);
    } else if (d % absl::Hours(1) == absl::ZeroDuration()) {
      amount = absl::ToInt64Hours(d);
      unit = icu::MeasureUnit::createHour(status);
    } else {
      amount = std::max<int64_t>(1, absl::ToInt64Minutes(d));
      unit = icu::MeasureUnit::createMinute(status);
    }
    icu::Measure measure(icu::Formattable(amount), unit, status);  // adopts unit
    icu::UnicodeString text;
    icu::FieldPosition pos(icu::FieldPosition::DONT_CARE);
    durations[locale]->formatMeasures(&measure, 1, text, pos, status);
    if (U_FAILURE(status)) return absl::InternalError(absl::StrCat("ICU duration format: ", u_errorName(status)));
    std::string out;
    text.toUTF8String(out);
    return out;
  }

  // Requires mu. `t` for the customer: email in full; SMS without the year
  // when it is `now_year` in the customer's zone.
  absl::StatusOr<std::string> Date(int locale, bool sms, const std::string& tz, absl::Time t, int now_year) {
    absl::StatusOr<ZoneFormatter*> fmt = Formatter(locale, sms ? kShort : kLong, tz);
    if (!fmt.ok()) return fmt.status();
    if (sms && (*fmt)->Year(t) != now_year) fmt = Formatter(locale, kShortWithYear, tz);
    if (!fmt.ok()) return fmt.status();
    return (*fmt)->Format(t);
  }

  using SetFn = std::function<void(const std::string&, const std::string&)>;

  // Requires mu. The job's dates and lead time in the customer's language
  // and zone, as `set` takes them.
  absl::Status SetTimes(const NoticeJob& job, const Incident& incident, int locale, bool sms, int now_year,
                        const SetFn& set) {
    absl::StatusOr<std::optional<absl::Duration>> lead = LeadOf(job.occasion);
    if (!lead.ok()) return lead.status();
    const std::string& tz = job.recipient.time_zone;
    for (const auto& [key, at] : {std::pair<const char*, std::optional<absl::Time>>{"starts_at", incident.starts_at},
                                  {"expected_restoration_at", incident.expected_restoration_at},
                                  {"resolved_at", RestoredAt(incident, job.occasion)}}) {
      if (!at.has_value()) {
        set(key, "");
        continue;
      }
      absl::StatusOr<std::string> date = Date(locale, sms, tz, *at, now_year);
      if (!date.ok()) return date.status();
      set(key, *date);
    }
    if (!lead->has_value()) {
      set("lead", "");
      return absl::OkStatus();
    }
    absl::StatusOr<std::string> words = Duration(locale, **lead);
    if (!words.ok()) return words.status();
    set("lead", *words);
    return absl::OkStatus();
  }

  // Requires mu. The templates of (kind, locale, channel) rendered for the
  // job with kNameMark for the customer's name (and kUrlMark for the
  // unsubscribe link when `has_url`); `now_year` is the current year in the
  // customer's zone; `marks` the notice's status link and code.
  absl::StatusOr<std::array<NamedText, kParts>> RenderParts(const NoticeJob& job, const Incident& incident, int kind,
                                                            int locale, bool sms, int now_year, bool has_url,
                                                            const NoticeMarks& marks) {
    const LocaleSpec& spec = kLocales[locale];
    // The reason in the customer's language; the other one rather than nothing.
    const std::string& own = spec.code == "ar" ? incident.reason.ar : incident.reason.en;
    const std::string& other = spec.code == "ar" ? incident.reason.en : incident.reason.ar;

    // Empty values are false, so templates can write {{#name}}...{{/name}}.
    MustacheData data{MustacheData::type::object};
    auto set = [&data](const std::string& key, const std::string& value) {
      data.set(key, value.empty() ? MustacheData(false) : MustacheData(value));
    };
    set("name", job.recipient.name.empty() ? "" : std::string(kNameMark));
    set("unsubscribe_url", has_url ? std::string(kUrlMark) : "");
    set("reason", own.empty() ? other : own);
    set("services", JoinNames(incident.services, incident.service_names, spec));
    set("regions", JoinNames(incident.regions, incident.region_names, spec));
    set("place", PlaceOf(incident, spec));
    set("incident_id", incident.id);
    set("incident_ref", incident.ref.empty() ? incident.id : incident.ref);
    set("status_url", marks.status_url);
    set("check_code", marks.check_code);
    set("version", absl::StrCat(incident.version));
    set("time_zone", job.recipient.time_zone);
    // IBANs: the account holder sees the new IBAN in full; everyone else
    // (beneficiaries, and any other notice) only masked forms. The old IBAN is
    // always masked.
    const bool full_new_iban = job.kind == NoticeKind::kIbanChangeHolder;
    set("old_iban", incident.old_iban.empty() ? "" : MaskIban(incident.old_iban));
    set("new_iban", incident.new_iban.empty() ? ""
                    : full_new_iban          ? GroupedIban(incident.new_iban)
                                             : MaskIban(incident.new_iban));
    if (absl::Status s = SetTimes(job, incident, locale, sms, now_year, set); !s.ok()) return s;

    std::array<NamedText, kParts> out;
    for (int part = 0; part < kParts; ++part) {
      if ((part == kSms) != sms) continue;  // SMS: one part; email: subject, text and html
      std::string text;
      templates[kind][locale][part]->render(data, [&text](const std::string& piece) { text += piece; });
      out[part] = SplitAtName(text);
    }
    return out;
  }
};

TemplateRenderer::TemplateRenderer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
TemplateRenderer::~TemplateRenderer() = default;

void TemplateRenderer::set_notice_marks(NoticeMarkFn notice_marks) {
  std::lock_guard lock(impl_->mu);
  impl_->marks = std::move(notice_marks);
  impl_->rendered.clear();
}

std::span<const std::string_view> TemplateRenderer::KnownVariables() { return kVariables; }
std::span<const NoticeKind> TemplateRenderer::NoticeKinds() { return AllNoticeKinds(); }

namespace {

// One template file, read and checked: it exists, is not blank, uses only
// known tags and parses. Only HTML escapes values.
absl::StatusOr<std::unique_ptr<Mustache>> LoadTemplate(const std::filesystem::path& path, bool html) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    return absl::FailedPreconditionError(absl::StrCat("missing template ", path.string()));
  }
  std::ifstream in(path, std::ios::binary);
  const std::string text(std::istreambuf_iterator<char>(in), {});
  if (!in.is_open() || in.bad()) return absl::FailedPreconditionError(absl::StrCat("cannot read template ", path.string()));
  if (absl::StripAsciiWhitespace(text).empty()) {
    return absl::FailedPreconditionError(absl::StrCat("empty template ", path.string()));
  }
  if (absl::Status s = CheckTags(text, html); !s.ok()) {
    return absl::FailedPreconditionError(absl::StrCat("template ", path.string(), ": ", s.message()));
  }
  auto tmpl = std::make_unique<Mustache>(text);
  if (!tmpl->is_valid()) {
    return absl::FailedPreconditionError(
        absl::StrCat("template ", path.string(), " does not parse: ", tmpl->error_message()));
  }
  if (!html) tmpl->set_custom_escape([](const std::string& s) { return s; });
  return tmpl;
}

}  // namespace

// The ICU formatters of locale `l`: date styles and durations.
absl::Status TemplateRenderer::LoadFormats(Impl& impl, size_t l) {
  impl.locales[l] = icu::Locale::createCanonical(kLocales[l].icu_locale);
  UErrorCode status = U_ZERO_ERROR;
  std::unique_ptr<icu::DateTimePatternGenerator> generator(
      icu::DateTimePatternGenerator::createInstance(impl.locales[l], status));
  if (U_FAILURE(status)) {
    return absl::InternalError(
        absl::StrCat("ICU pattern generator for ", kLocales[l].icu_locale, ": ", u_errorName(status)));
  }
  for (int s = 0; s < kStyles; ++s) {
    const icu::UnicodeString pattern = generator->getBestPattern(icu::UnicodeString(kSkeletons[s]), status);
    auto fmt = std::make_unique<icu::SimpleDateFormat>(pattern, impl.locales[l], status);
    if (U_FAILURE(status)) {
      return absl::InternalError(
          absl::StrCat("ICU date format for ", kLocales[l].icu_locale, ": ", u_errorName(status)));
    }
    impl.prototypes[l][s] = std::move(fmt);
  }
  impl.durations[l] = std::make_unique<icu::MeasureFormat>(impl.locales[l], UMEASFMT_WIDTH_WIDE, status);
  if (U_FAILURE(status)) {
    return absl::InternalError(
        absl::StrCat("ICU measure format for ", kLocales[l].icu_locale, ": ", u_errorName(status)));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<TemplateRenderer>> TemplateRenderer::Load(const std::string& templates_dir,
                                                                         const Clock& clock,
                                                                         UnsubscribeLinkFn unsubscribe_links,
                                                                         NoticeMarkFn notice_marks) {
  namespace fs = std::filesystem;
  auto impl = std::make_unique<Impl>(clock, std::move(unsubscribe_links), std::move(notice_marks));
  const std::vector<NoticeKind>& kinds = AllNoticeKinds();
  impl->templates.resize(kinds.size());
  for (size_t k = 0; k < kinds.size(); ++k) {
    for (size_t l = 0; l < kLocales.size(); ++l) {
      for (int p = 0; p < kParts; ++p) {
        auto tmpl = LoadTemplate(
            fs::path(templates_dir) / std::string(ToString(kinds[k])) / FileName(Part(p), kLocales[l].code),
            p == kHtml);
        if (!tmpl.ok()) return tmpl.status();
        impl->templates[k][l][p] = *std::move(tmpl);
      }
    }
  }
  for (size_t l = 0; l < kLocales.size(); ++l) {
    if (absl::Status s = LoadFormats(*impl, l); !s.ok()) return s;
  }
  return std::unique_ptr<TemplateRenderer>(new TemplateRenderer(std::move(impl)));
}

namespace {

// The indexes of the job's kind and locale; INVALID_ARGUMENT for an unknown
// kind or locale, FAILED_PRECONDITION for an outage_restored notice of an
// incident without resolved_at.
absl::StatusOr<std::pair<int, int>> KindAndLocale(const NoticeJob& job, const Incident& incident) {
  const int kind = KindIndex(job.kind);
  if (kind < 0) return absl::InvalidArgumentError(absl::StrCat("unknown notice kind ", ToString(job.kind)));
  const int locale = LocaleIndex(job.recipient.locale);
  if (locale < 0) {
    return absl::InvalidArgumentError(absl::StrCat("unsupported locale '", job.recipient.locale, "'"));
  }
  // Only an outage restoration needs the time: a maintenance completed on
  // schedule may have none, and its templates say so without one.
  if (job.kind == NoticeKind::kOutageRestored && !RestoredAt(incident, job.occasion).has_value()) {
    return absl::FailedPreconditionError(
        absl::StrCat("restored notice for incident ", incident.id, " v", incident.version, " without resolved_at"));
  }
  return std::pair<int, int>{kind, locale};
}

}  // namespace

absl::StatusOr<RenderedNotice> TemplateRenderer::Render(const NoticeJob& job, const Incident& incident) {
  absl::StatusOr<std::pair<int, int>> slots = KindAndLocale(job, incident);
  if (!slots.ok()) return slots.status();
  const auto [kind, locale] = *slots;
  // The status link and the code (the same for every customer of one
  // incident version, notice, language and zone); asked before the lock,
  // the link may need the database.
  NoticeMarks marks;
  if (impl_->marks) {
    absl::StatusOr<NoticeMarks> m = impl_->marks(job, incident, std::string(kLocales[locale].code));
    if (!m.ok()) return m.status();
    marks = *std::move(m);
  }
  const bool sms = job.recipient.channel == Channel::kSms;

  // Every value but the name and the unsubscribe link is the same for all
  // customers of one incident version, notice, language, channel and time
  // zone: render the templates once for them with marks where those go.
  // Whether there is a name or a link at all is part of the key ({{#name}}
  // sections).
  // SMS dates depend on the current year in the customer's zone too.
  const std::string& name = job.recipient.name;
  RenderedNotice out;
  out.message_id = MessageIdFor(KeyOf(job));
  if (!sms && impl_->links) out.unsubscribe_url = impl_->links(job);
  std::lock_guard lock(impl_->mu);
  absl::StatusOr<ZoneFormatter*> zone = impl_->Formatter(locale, kShort, job.recipient.time_zone);
  if (!zone.ok()) return zone.status();
  const int now_year = sms ? (*zone)->Year(impl_->clock.Now()) : 0;
  std::string key = absl::StrCat(incident.id, "/", incident.version, "/", kind, "/", job.occasion, "/", locale, "/",
                                 sms, "/", name.empty(), "/", out.unsubscribe_url.empty(), "/", job.recipient.time_zone,
                                 "/", now_year, "/", marks.status_url, "/", marks.check_code);
  auto cached = impl_->rendered.find(key);
  if (cached == impl_->rendered.end() || !SameNoticeContent(cached->second.incident, incident)) {
    auto parts =
        impl_->RenderParts(job, incident, kind, locale, sms, now_year, !out.unsubscribe_url.empty(), marks);
    if (!parts.ok()) return parts.status();
    if (impl_->rendered.size() >= kMaxRenderedCache) impl_->rendered.clear();
    cached = impl_->rendered.insert_or_assign(std::move(key), Impl::Rendered{incident, *std::move(parts)}).first;
  }
  const auto& parts = cached->second.parts;
  if (sms) {
    out.text = TrimmedLine(parts[kSms].Fill(name), /*single_line=*/false);
  } else {
    out.subject = TrimmedLine(parts[kSubject].Fill(name), /*single_line=*/true);
    out.text = parts[kText].Fill(name, out.unsubscribe_url);
    out.html = parts[kHtml].Fill(kainjow::mustache::html_escape(name),
                                 kainjow::mustache::html_escape(out.unsubscribe_url));
  }
  return out;
}

}  // namespace forewarn
