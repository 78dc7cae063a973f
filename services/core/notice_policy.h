#pragma once

#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "services/core/model.h"

namespace forewarn {

// When notices go out. Defaults encode the regulatory facts in DESIGN.md;
// every value is configurable from main().
struct NoticePolicy {
  // Maintenance reminders before the planned start (Saudi electricity
  // regulator: at least 2 days ahead).
  std::vector<absl::Duration> maintenance_leads = {absl::Hours(48), absl::Hours(2)};
  // IBAN change notice ahead of the effective date (bank terms: 30 days).
  absl::Duration iban_lead = absl::Hours(24 * 30);
  // A lead is a promise: the reminder of lead 48h must be with the customer
  // 48 hours before the start (its deadline, NoticeDeadline: what proof of
  // notice checks). It is released this much earlier (at most a quarter of
  // the lead), so that quiet hours and an escalation to the customer's other
  // channel still end before the deadline.
  absl::Duration lead_margin = absl::Hours(12);
  // "We have not forgotten you": this long after the expected restoration
  // time passes with the outage still open.
  absl::Duration overdue_grace = absl::Minutes(15);
  // Non-urgent notices are delivered only between these local times of day
  // (Saudi SMS rules: awareness messages 09:00-22:00). start > end wraps
  // midnight.
  absl::Duration quiet_window_start = absl::Hours(9);
  absl::Duration quiet_window_end = absl::Hours(22);
  // Kinds that wait for the window; all others go at once.
  std::set<NoticeKind> non_urgent = {NoticeKind::kMaintenanceScheduled, NoticeKind::kMaintenanceReminder,
                                     NoticeKind::kMaintenanceRescheduled, NoticeKind::kIbanChangeHolder,
                                     NoticeKind::kIbanChangeBeneficiary};
};

// A notice of one incident version: sent at once (due_at unset) or released
// by the scheduler at due_at.
struct PlannedNotice {
  NoticeKind kind = NoticeKind::kOutageStarted;
  std::string occasion;  // "lead-48h" for reminders; empty otherwise
  std::optional<absl::Time> due_at;
  bool operator==(const PlannedNotice&) const = default;
};

// What one committed change of an incident must send, now and later.
struct NoticePlan {
  std::vector<PlannedNotice> notices;
  // Cancel the not-yet-released scheduled notices of earlier versions.
  bool cancel_pending = false;
};

enum class Change { kCreated, kUpdated, kResolved, kCancelled };
std::string_view ToString(Change c);

// The notices for `incident` as it is after `change`, decided at `now`.
NoticePlan PlanNotices(Change change, const Incident& incident, absl::Time now, const NoticePolicy& policy);

// The notices of an update from `before` to `after` (an outage or
// maintenance). With the same targets, PlanNotices(kUpdated, after). With
// new targets, the audience changed: customers it adds are told the
// incident anew with the current facts (occasion "joined": outage started;
// maintenance scheduled, or started once under way), customers it drops
// that it no longer affects them (occasion "left": outage restored,
// maintenance cancelled), and the customers it keeps the update (occasion
// "stayed") only when a fact (reason, start, end) changed too. Scheduled
// notices are planned anew as for any update.
NoticePlan PlanUpdate(const Incident& before, const Incident& after, absl::Time now, const NoticePolicy& policy);

// The release time of the notice due `lead` before `anchor` (LeadMargin
// earlier, not before now); nullopt once its deadline, anchor - lead, is not
// after now.
std::optional<absl::Time> LeadRelease(absl::Time anchor, absl::Duration lead, absl::Time now,
                                      const NoticePolicy& policy);

// When the customer must have the notice by: for a lead occasion
// ("lead-48h"), the incident's start (the maintenance's, the IBAN change's
// effective date) minus the lead; for an IBAN notice sent at once (announced
// inside the notice period), the effective date minus the notice period
// (already passed: it is late by its nature). Other notices have none.
std::optional<absl::Time> NoticeDeadline(NoticeKind kind, std::string_view occasion, const Incident& incident,
                                         const NoticePolicy& policy);

// The escalation timer of a notice sent at `sent` on a channel whose
// receipts are awaited `timeout`: sent + timeout, or earlier when a deadline
// needs it, so that the customer's other channel has as long before the
// deadline; never before `sent`.
absl::Time ReceiptDue(absl::Time sent, absl::Duration timeout, std::optional<absl::Time> deadline);

// "lead-48h"; ParseLeadOccasion("lead-48h") == 48h.
std::string LeadOccasion(absl::Duration lead);
std::optional<absl::Duration> ParseLeadOccasion(std::string_view occasion);

// For a non-urgent kind outside the recipient's local window, the instant
// the window next opens; nullopt when it may go now. INVALID_ARGUMENT for an
// unknown time zone.
absl::StatusOr<std::optional<absl::Time>> HoldUntil(NoticeKind kind, const std::string& time_zone, absl::Time now,
                                                    const NoticePolicy& policy);

}  // namespace forewarn
