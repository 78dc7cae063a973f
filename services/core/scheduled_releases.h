#pragma once

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "services/core/notice_policy.h"
#include "services/core/ports.h"

namespace forewarn {

// forewarn-scheduler's use case: scheduled notices (reminders, start,
// overdue follow-ups) go out when due, and planned maintenance completes on
// schedule. Completing is a change like any other: the incident is resolved
// as a new version, recorded with actor "scheduler" and a summary, and what
// it sends comes from the same notice planning (PlanNotices) as an
// operator's resolve.
class ScheduledReleases {
 public:
  explicit ScheduledReleases(NoticeScheduler& scheduler, NoticePolicy policy = {})
      : scheduler_(scheduler), policy_(std::move(policy)) {}

  // Releases (or closes on) at most `limit` notices due at `now`; returns
  // how many.
  absl::StatusOr<int> ReleaseDue(absl::Time now, int limit);

  // For one due notice at `now`: cancelled when its incident has moved on
  // (a newer version, or no longer open: that version planned what is still
  // relevant); a maintenance completion closes the incident as of the
  // notice's due time; anything else is released.
  DueNoticeAction Decide(const DueNotice& due, absl::Time now) const;

  static constexpr char kActor[] = "scheduler";

 private:
  NoticeScheduler& scheduler_;
  NoticePolicy policy_;
};

}  // namespace forewarn
