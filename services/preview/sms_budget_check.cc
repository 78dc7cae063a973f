#include "services/preview/sms_budget_check.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/civil_time.h"
#include "notifier/sms/sms_segments.h"

namespace forewarn {
namespace {

// 60 characters each: a long reason as operators write them.
constexpr char kReasonEn[] = "upgrade of the main distribution network in the north zone..";
constexpr char kReasonAr[] = "تحديث شامل لشبكات التوزيع الرئيسية في القطاع الشمالي للمدينة";

// A notice of `kind` at its longest: dates in another year than "now" (the
// year is then shown), the longest reference, both IBANs.
Incident LongIncident(NoticeKind kind) {
  Incident i;
  i.id = "00000000-0000-4000-8000-000000000000";
  i.ref = "RIY-WWWWWW";
  i.version = 2;
  i.kind = CategoryOf(kind) == NoticeCategory::kBankingChanges       ? IncidentKind::kIbanChange
           : CategoryOf(kind) == NoticeCategory::kPlannedMaintenance ? IncidentKind::kPlannedMaintenance
                                                                     : IncidentKind::kUnplannedOutage;
  i.services = {"electricity"};
  i.regions = {"riyadh"};
  i.reason = {kReasonAr, kReasonEn};
  const absl::TimeZone utc = absl::UTCTimeZone();
  i.starts_at = absl::FromCivil(absl::CivilMinute(2099, 12, 30, 22, 45), utc);
  i.expected_restoration_at = absl::FromCivil(absl::CivilMinute(2099, 12, 31, 23, 45), utc);
  i.resolved_at = i.expected_restoration_at;
  if (i.kind == IncidentKind::kIbanChange) {
    i.old_iban = "SA0380000000608010167519";
    i.new_iban = "SA4420000001234567891234";
  }
  return i;
}

NoticeJob LongJob(const Incident& incident, NoticeKind kind, const std::string& language) {
  NoticeJob job;
  job.incident_id = incident.id;
  job.version = incident.version;
  job.kind = kind;
  if (kind == NoticeKind::kMaintenanceReminder) job.occasion = "lead-48h";
  if (incident.kind == IncidentKind::kIbanChange) job.occasion = "lead-720h";
  job.recipient.customer_id = 1;
  job.recipient.channel = Channel::kSms;
  job.recipient.address = "+966500000000";
  job.recipient.locale = language;
  job.recipient.time_zone = "Asia/Riyadh";
  return job;
}

}  // namespace

absl::StatusOr<std::vector<SmsBudgetUse>> MeasureSms(Renderer& renderer, const SmsBudgets& budgets) {
  std::vector<SmsBudgetUse> out;
  for (NoticeKind kind : AllNoticeKinds()) {
    const Incident incident = LongIncident(kind);
    for (const char* language : {"en", "ar"}) {
      auto rendered = renderer.Render(LongJob(incident, kind, language), incident);
      if (!rendered.ok()) return rendered.status();
      const SmsCost cost = CountSmsSegments(rendered->text);
      out.push_back({kind, language, rendered->text, std::string(ToString(cost.encoding)), cost.segments,
                     budgets.Budget(kind, cost.encoding == SmsEncoding::kUcs2)});
    }
  }
  return out;
}

absl::Status CheckSmsBudgets(Renderer& renderer, const SmsBudgets& budgets) {
  auto uses = MeasureSms(renderer, budgets);
  if (!uses.ok()) return uses.status();
  std::vector<std::string> over;
  for (const SmsBudgetUse& use : *uses) {
    if (use.segments <= use.budget) continue;
    over.push_back(absl::StrCat(ToString(use.kind), " (", use.language, "): ", use.segments, " ", use.encoding,
                                " parts, budget ", use.budget));
  }
  if (over.empty()) return absl::OkStatus();
  return absl::FailedPreconditionError(
      absl::StrCat("a long SMS with its reference, status link and code exceeds its segment budget "
                   "(sms_budgets.json): ",
                   absl::StrJoin(over, "; ")));
}

}  // namespace forewarn
