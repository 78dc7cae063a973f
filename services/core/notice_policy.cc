#include "services/core/notice_policy.h"

#include <algorithm>
#include <map>
#include <mutex>

#include "absl/strings/str_cat.h"

namespace forewarn {
namespace {

void PlanMaintenanceReminders(const Incident& m, absl::Time now, const NoticePolicy& policy, NoticePlan& plan) {
  for (const auto lead : policy.maintenance_leads) {
    if (auto due = LeadRelease(m.starts_at, lead, now, policy)) {
      plan.notices.push_back({NoticeKind::kMaintenanceReminder, LeadOccasion(lead), *due});
    }
  }
}

void PlanMaintenanceTimeline(const Incident& m, absl::Time now, NoticePlan& plan) {
  if (m.starts_at > now) {
    plan.notices.push_back({NoticeKind::kMaintenanceStarted, "", m.starts_at});
  }
  // Completion on schedule at the planned end (an operator may complete it
  // earlier with ResolveIncident, which cancels this one).
  plan.notices.push_back({NoticeKind::kMaintenanceCompleted, "", m.expected_restoration_at});
}

absl::Duration LongestLead(const NoticePolicy& policy) {
  absl::Duration longest = absl::ZeroDuration();
  for (const auto lead : policy.maintenance_leads) longest = std::max(longest, lead);
  return longest;
}

const absl::TimeZone* LoadZone(const std::string& name) {
  static std::mutex mu;
  static auto* zones = new std::map<std::string, absl::TimeZone>();
  std::lock_guard lock(mu);
  if (auto it = zones->find(name); it != zones->end()) return &it->second;
  absl::TimeZone tz;
  if (name.empty() || !absl::LoadTimeZone(name, &tz)) return nullptr;
  return &zones->emplace(name, tz).first->second;
}

}  // namespace

std::string_view ToString(Change c) {
  switch (c) {
    case Change::kCreated: return "created";
    case Change::kUpdated: return "updated";
    case Change::kResolved: return "resolved";
    case Change::kCancelled: return "cancelled";
  }
  return "unknown";
}

std::optional<absl::Time> LeadRelease(absl::Time anchor, absl::Duration lead, absl::Time now,
                                      const NoticePolicy& policy) {
  const absl::Time deadline = anchor - lead;
  if (deadline <= now) return std::nullopt;
  return std::max(now, deadline - std::min(policy.lead_margin, lead / 4));
}

std::optional<absl::Time> NoticeDeadline(NoticeKind kind, std::string_view occasion, const Incident& incident,
                                         const NoticePolicy& policy) {
  if (auto lead = ParseLeadOccasion(occasion)) return incident.starts_at - *lead;
  const bool iban = kind == NoticeKind::kIbanChangeHolder || kind == NoticeKind::kIbanChangeBeneficiary;
  if (iban && occasion.empty()) return incident.starts_at - policy.iban_lead;
  return std::nullopt;
}

absl::Time ReceiptDue(absl::Time sent, absl::Duration timeout, std::optional<absl::Time> deadline) {
  absl::Time due = sent + timeout;
  if (deadline) due = std::min(due, *deadline - timeout);
  return std::max(due, sent);
}

std::string LeadOccasion(absl::Duration lead) { return absl::StrCat("lead-", absl::FormatDuration(lead)); }

std::optional<absl::Duration> ParseLeadOccasion(std::string_view occasion) {
  constexpr std::string_view kPrefix = "lead-";
  if (occasion.substr(0, kPrefix.size()) != kPrefix) return std::nullopt;
  absl::Duration d;
  if (!absl::ParseDuration(std::string(occasion.substr(kPrefix.size())), &d)) return std::nullopt;
  return d;
}

NoticePlan PlanNotices(Change change, const Incident& incident, absl::Time now, const NoticePolicy& policy) {
  NoticePlan plan;
  plan.cancel_pending = change != Change::kCreated;
  switch (incident.kind) {
    case IncidentKind::kUnplannedOutage:
      switch (change) {
        case Change::kCreated:
        case Change::kUpdated:
          plan.notices.push_back(
              {change == Change::kCreated ? NoticeKind::kOutageStarted : NoticeKind::kOutageUpdated, "", {}});
          plan.notices.push_back(
              {NoticeKind::kOutageOverdue, "", incident.expected_restoration_at + policy.overdue_grace});
          break;
        case Change::kResolved:
        case Change::kCancelled:
          plan.notices.push_back({NoticeKind::kOutageRestored, "", {}});
          break;
      }
      break;
    case IncidentKind::kPlannedMaintenance:
      switch (change) {
        case Change::kCreated:
          // Inside the first lead time there is no time for the usual
          // reminders: tell customers at once, and say it is short notice.
          if (incident.starts_at - now < LongestLead(policy)) {
            plan.notices.push_back({NoticeKind::kMaintenanceScheduled, "", {}});
          }
          PlanMaintenanceReminders(incident, now, policy, plan);
          PlanMaintenanceTimeline(incident, now, plan);
          break;
        case Change::kUpdated:
          plan.notices.push_back({NoticeKind::kMaintenanceRescheduled, "", {}});
          PlanMaintenanceReminders(incident, now, policy, plan);
          PlanMaintenanceTimeline(incident, now, plan);
          break;
        case Change::kResolved:
          plan.notices.push_back({NoticeKind::kMaintenanceCompleted, "", {}});
          break;
        case Change::kCancelled:
          plan.notices.push_back({NoticeKind::kMaintenanceCancelled, "", {}});
          break;
      }
      break;
    case IncidentKind::kIbanChange:
      // One event fans out to the holder and the beneficiaries (the
      // resolver picks the beneficiary kind by audience role).
      if (change == Change::kCreated || change == Change::kUpdated) {
        if (auto due = LeadRelease(incident.starts_at, policy.iban_lead, now, policy)) {
          plan.notices.push_back({NoticeKind::kIbanChangeHolder, LeadOccasion(policy.iban_lead), *due});
        } else {
          plan.notices.push_back({NoticeKind::kIbanChangeHolder, "", {}});
        }
      }
      break;
  }
  return plan;
}

NoticePlan PlanUpdate(const Incident& before, const Incident& after, absl::Time now, const NoticePolicy& policy) {
  NoticePlan plan = PlanNotices(Change::kUpdated, after, now, policy);
  if (TargetsOf(before) == TargetsOf(after) || after.kind == IncidentKind::kIbanChange) return plan;
  // The immediate notice PlanNotices chose is the update's; it goes only to
  // the customers who stay, and only when a fact changed.
  const bool facts_changed = before.reason != after.reason || before.starts_at != after.starts_at ||
                             before.expected_restoration_at != after.expected_restoration_at;
  std::vector<PlannedNotice> notices;
  const bool outage = after.kind == IncidentKind::kUnplannedOutage;
  const NoticeKind joined = outage ? NoticeKind::kOutageStarted
                            : after.starts_at <= now ? NoticeKind::kMaintenanceStarted
                                                     : NoticeKind::kMaintenanceScheduled;
  const NoticeKind left = outage ? NoticeKind::kOutageRestored : NoticeKind::kMaintenanceCancelled;
  // The customers who joined come last: the completeness check compares
  // the version's latest immediate notice, and theirs matters most.
  notices.push_back({left, std::string(OccasionOf(AudienceScope::kLeft)), {}});
  for (auto& n : plan.notices) {
    if (n.due_at) {
      notices.push_back(std::move(n));
    } else if (facts_changed) {
      n.occasion = OccasionOf(AudienceScope::kStayed);
      notices.push_back(std::move(n));
    }
  }
  notices.push_back({joined, std::string(OccasionOf(AudienceScope::kJoined)), {}});
  plan.notices = std::move(notices);
  return plan;
}

absl::StatusOr<std::optional<absl::Time>> HoldUntil(NoticeKind kind, const std::string& time_zone, absl::Time now,
                                                    const NoticePolicy& policy) {
  if (!policy.non_urgent.contains(kind)) return std::optional<absl::Time>();
  const absl::TimeZone* tz = LoadZone(time_zone);
  if (tz == nullptr) return absl::InvalidArgumentError(absl::StrCat("unknown time zone '", time_zone, "'"));
  const absl::CivilSecond local = absl::ToCivilSecond(now, *tz);
  const absl::CivilDay day(local);
  const absl::Duration time_of_day = absl::Seconds(local - absl::CivilSecond(day));
  const absl::Duration start = policy.quiet_window_start, end = policy.quiet_window_end;
  const bool inside = start <= end ? (time_of_day >= start && time_of_day < end)
                                   : (time_of_day >= start || time_of_day < end);
  if (inside) return std::optional<absl::Time>();
  // Next opening: today's start if still ahead, else tomorrow's.
  const absl::CivilDay open_day = time_of_day < start ? day : day + 1;
  const absl::CivilSecond open = absl::CivilSecond(open_day) + absl::ToInt64Seconds(start);
  return std::optional<absl::Time>(absl::FromCivil(open, *tz));
}

}  // namespace forewarn
