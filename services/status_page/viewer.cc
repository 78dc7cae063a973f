#include "services/status_page/viewer.h"

#include <array>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace forewarn {
namespace {

// "ar", "ar-SA", "AR" -> "ar"; anything else -> "".
std::string KnownLanguage(absl::string_view tag) {
  const std::string lower = absl::AsciiStrToLower(absl::StripAsciiWhitespace(tag));
  const std::string primary = lower.substr(0, lower.find_first_of("-_"));
  return primary == "ar" || primary == "en" ? primary : "";
}

// The q-value of one Accept-Language item ("en;q=0.8"); 1 without one.
double Quality(absl::string_view params) {
  for (absl::string_view p : absl::StrSplit(params, ';')) {
    p = absl::StripAsciiWhitespace(p);
    double q = 1;
    if (absl::ConsumePrefix(&p, "q=") && absl::SimpleAtod(p, &q)) return q;
  }
  return 1;
}

constexpr std::array<const char*, 12> kArabicMonths = {"يناير",  "فبراير", "مارس",   "أبريل",  "مايو",   "يونيو",
                                                       "يوليو", "أغسطس", "سبتمبر", "أكتوبر", "نوفمبر", "ديسمبر"};

}  // namespace

std::string ChooseLanguage(absl::string_view query, absl::string_view accept_language, absl::string_view fallback) {
  if (std::string q = KnownLanguage(query); !q.empty()) return q;
  std::string best;
  double best_q = 0;
  for (absl::string_view item : absl::StrSplit(accept_language, ',')) {
    const size_t semi = item.find(';');
    const std::string lang = KnownLanguage(item.substr(0, semi));
    const double q = semi == absl::string_view::npos ? 1 : Quality(item.substr(semi + 1));
    if (!lang.empty() && q > best_q) {
      best = lang;
      best_q = q;
    }
  }
  return best.empty() ? std::string(fallback) : best;
}

absl::StatusOr<absl::TimeZone> LoadViewerZone(absl::string_view name, absl::string_view field) {
  absl::TimeZone zone;
  if (name.empty() || name.size() > 64 || !absl::LoadTimeZone(std::string(name), &zone)) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": '", name.substr(0, 64), "' is not an IANA time zone"));
  }
  return zone;
}

std::string FormatLocal(absl::Time t, const Viewer& viewer) {
  const absl::TimeZone::CivilInfo civil = viewer.zone.At(t);
  if (!viewer.arabic()) return absl::StrCat(civil.cs.day(), " ", absl::FormatTime("%B %Y, %H:%M", t, viewer.zone));
  return absl::StrCat(civil.cs.day(), " ", kArabicMonths[civil.cs.month() - 1], " ", civil.cs.year(), "، ",
                      absl::FormatTime("%H:%M", t, viewer.zone));
}

std::string FormatUtc(absl::Time t) { return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", t, absl::UTCTimeZone()); }

}  // namespace forewarn
