#include "services/core/scheduled_releases.h"

#include "absl/strings/str_cat.h"

namespace forewarn {

absl::StatusOr<int> ScheduledReleases::ReleaseDue(absl::Time now, int limit) {
  return scheduler_.ReleaseDue(now, limit, [&](const DueNotice& due) { return Decide(due, now); });
}

DueNoticeAction ScheduledReleases::Decide(const DueNotice& due, absl::Time now) const {
  DueNoticeAction action;
  if (due.current_version != due.version || due.current_state != IncidentState::kOpen) {
    action.what = DueNoticeAction::Do::kCancel;
    return action;
  }
  if (due.kind != NoticeKind::kMaintenanceCompleted) {
    action.what = DueNoticeAction::Do::kRelease;
    return action;
  }
  Incident closing;
  closing.id = due.incident_id;
  closing.kind = due.incident_kind;
  closing.version = due.version;
  closing.state = IncidentState::kResolved;
  closing.resolved_at = due.due_at;
  action.what = DueNoticeAction::Do::kClose;
  action.closed_at = due.due_at;
  action.plan = PlanNotices(Change::kResolved, closing, now, policy_);
  action.audit = ChangeAudit{kActor, absl::StrCat("state: open -> resolved; completed on schedule at ",
                                                  absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", due.due_at,
                                                                   absl::UTCTimeZone()))};
  return action;
}

}  // namespace forewarn
