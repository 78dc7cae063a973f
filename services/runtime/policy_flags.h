#pragma once

#include <set>
#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "services/core/notice_policy.h"

namespace CLI {
class App;
}

namespace forewarn {

// Command-line / environment form of NoticePolicy, shared by the services
// that make timing decisions (intake plans notices, the notifier applies
// quiet hours).
struct PolicyFlags {
  std::string maintenance_leads = "48h,2h";
  std::string iban_lead = "720h";
  std::string lead_margin = "12h";
  std::string overdue_grace = "15m";
  std::string quiet_hours = "09:00-22:00";
  std::string non_urgent_kinds =
      "maintenance_scheduled,maintenance_reminder,maintenance_rescheduled,iban_change_holder,"
      "iban_change_beneficiary";
};

void AddPolicyFlags(CLI::App& app, PolicyFlags& flags);

// The categories of notices a customer may turn off entirely
// (--opt-out-categories, comma list of unplanned_outages,
// planned_maintenance, banking_changes; "" or "none": no category). The
// intake's customer directory enforces it (OptOutPolicy).
struct OptOutFlags {
  std::string categories = "planned_maintenance";
};
void AddOptOutFlags(CLI::App& app, OptOutFlags& flags);
// INVALID_ARGUMENT naming the flag and the unknown category.
absl::Status ToOptOutCategories(const OptOutFlags& flags, std::set<NoticeCategory>* out);
// A non-negative duration flag like "48h" or "15m" (absl::ParseDuration);
// INVALID_ARGUMENT naming `flag` otherwise.
absl::Status ParseDurationFlag(const char* flag, const std::string& text, absl::Duration* out);
// A comma list of notice kinds ("outage_started,outage_updated"; "" or
// "none": no kind); INVALID_ARGUMENT naming `flag` and the unknown kind.
absl::Status ParseNoticeKindList(const char* flag, const std::string& text, std::set<NoticeKind>* out);
// INVALID_ARGUMENT naming the flag.
absl::Status ToNoticePolicy(const PolicyFlags& flags, NoticePolicy* policy);

}  // namespace forewarn
