#include "services/runtime/policy_flags.h"

#include "CLI/CLI.hpp"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace forewarn {
namespace {

// "09:00" -> 9h
bool ParseClock(absl::string_view text, absl::Duration* out) {
  std::vector<absl::string_view> parts = absl::StrSplit(text, ':');
  int h = 0, m = 0;
  if (parts.size() != 2 || !absl::SimpleAtoi(parts[0], &h) || !absl::SimpleAtoi(parts[1], &m) || h < 0 ||
      h > 24 || m < 0 || m > 59 || (h == 24 && m != 0)) {
    return false;
  }
  *out = absl::Hours(h) + absl::Minutes(m);
  return true;
}

}  // namespace

absl::Status ParseDurationFlag(const char* flag, const std::string& text, absl::Duration* out) {
  if (!absl::ParseDuration(text, out) || *out < absl::ZeroDuration()) {
    return absl::InvalidArgumentError(absl::StrCat(flag, ": '", text, "' is not a duration like 48h or 15m"));
  }
  return absl::OkStatus();
}

void AddPolicyFlags(CLI::App& app, PolicyFlags& flags) {
  app.add_option("--maintenance-leads", flags.maintenance_leads, "maintenance reminder lead times, e.g. 48h,2h")
      ->envname("FOREWARN_MAINTENANCE_LEADS");
  app.add_option("--iban-lead", flags.iban_lead, "IBAN change notice lead time")->envname("FOREWARN_IBAN_LEAD");
  app.add_option("--lead-margin", flags.lead_margin,
                 "lead-time notices (reminders, the IBAN notice) go out this much before their deadline, the "
                 "start minus the lead (at most a quarter of the lead)")
      ->envname("FOREWARN_LEAD_MARGIN");
  app.add_option("--overdue-grace", flags.overdue_grace,
                 "follow up this long after the expected restoration time passes")
      ->envname("FOREWARN_OVERDUE_GRACE");
  app.add_option("--quiet-hours", flags.quiet_hours, "local window for non-urgent notices, HH:MM-HH:MM")
      ->envname("FOREWARN_QUIET_HOURS");
  app.add_option("--non-urgent-kinds", flags.non_urgent_kinds, "notice kinds held for the window (comma list)")
      ->envname("FOREWARN_NON_URGENT_KINDS");
}

void AddOptOutFlags(CLI::App& app, OptOutFlags& flags) {
  app.add_option("--opt-out-categories", flags.categories,
                 "notice categories a customer may turn off entirely (comma list of unplanned_outages, "
                 "planned_maintenance, banking_changes; none for no category)")
      ->envname("FOREWARN_OPT_OUT_CATEGORIES");
}

absl::Status ToOptOutCategories(const OptOutFlags& flags, std::set<NoticeCategory>* out) {
  std::set<NoticeCategory> categories;
  const absl::string_view all = absl::StripAsciiWhitespace(flags.categories);
  if (all != "none") {
    for (absl::string_view name : absl::StrSplit(all, ',', absl::SkipWhitespace())) {
      auto category = ParseNoticeCategory(std::string(absl::StripAsciiWhitespace(name)));
      if (!category.ok()) {
        return absl::InvalidArgumentError(absl::StrCat("--opt-out-categories: ", category.status().message()));
      }
      categories.insert(*category);
    }
  }
  *out = std::move(categories);
  return absl::OkStatus();
}

absl::Status ParseNoticeKindList(const char* flag, const std::string& text, std::set<NoticeKind>* out) {
  std::set<NoticeKind> kinds;
  if (absl::StripAsciiWhitespace(text) != "none") {
    for (absl::string_view name : absl::StrSplit(text, ',', absl::SkipWhitespace())) {
      auto kind = ParseNoticeKind(std::string(absl::StripAsciiWhitespace(name)));
      if (!kind.ok()) return absl::InvalidArgumentError(absl::StrCat(flag, ": ", kind.status().message()));
      kinds.insert(*kind);
    }
  }
  *out = std::move(kinds);
  return absl::OkStatus();
}

absl::Status ToNoticePolicy(const PolicyFlags& flags, NoticePolicy* policy) {
  NoticePolicy p;
  p.maintenance_leads.clear();
  for (absl::string_view lead : absl::StrSplit(flags.maintenance_leads, ',', absl::SkipWhitespace())) {
    absl::Duration d;
    if (auto s = ParseDurationFlag("--maintenance-leads", std::string(absl::StripAsciiWhitespace(lead)), &d);
        !s.ok()) {
      return s;
    }
    p.maintenance_leads.push_back(d);
  }
  if (auto s = ParseDurationFlag("--iban-lead", flags.iban_lead, &p.iban_lead); !s.ok()) return s;
  if (auto s = ParseDurationFlag("--lead-margin", flags.lead_margin, &p.lead_margin); !s.ok()) return s;
  if (auto s = ParseDurationFlag("--overdue-grace", flags.overdue_grace, &p.overdue_grace); !s.ok()) return s;
  std::vector<absl::string_view> window = absl::StrSplit(flags.quiet_hours, '-');
  if (window.size() != 2 || !ParseClock(window[0], &p.quiet_window_start) ||
      !ParseClock(window[1], &p.quiet_window_end)) {
    return absl::InvalidArgumentError(
        absl::StrCat("--quiet-hours: '", flags.quiet_hours, "' is not a window like 09:00-22:00"));
  }
  if (auto s = ParseNoticeKindList("--non-urgent-kinds", flags.non_urgent_kinds, &p.non_urgent); !s.ok()) return s;
  *policy = std::move(p);
  return absl::OkStatus();
}

}  // namespace forewarn
