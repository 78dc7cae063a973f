#include "services/core/scheduled_releases.h"

#include <gtest/gtest.h>

#include "tests/unit/fakes.h"

namespace forewarn {
namespace {

const absl::Time kNow = absl::FromUnixSeconds(1'790'000'000);

DueNotice Due(NoticeKind kind, int64_t version = 1, int64_t current = 1,
              IncidentState state = IncidentState::kOpen) {
  DueNotice d;
  d.incident_id = "00000000-0000-0000-0000-000000000001";
  d.version = version;
  d.kind = kind;
  d.due_at = kNow - absl::Minutes(1);
  d.incident_kind = IncidentKind::kPlannedMaintenance;
  d.current_version = current;
  d.current_state = state;
  return d;
}

class ScheduledReleasesTest : public ::testing::Test {
 protected:
  testing::FakeNoticeScheduler scheduler_;
  ScheduledReleases releases_{scheduler_};
};

TEST_F(ScheduledReleasesTest, ReleasesANoticeOfTheCurrentOpenVersion) {
  scheduler_.due = {Due(NoticeKind::kMaintenanceReminder), Due(NoticeKind::kMaintenanceStarted)};
  auto n = releases_.ReleaseDue(kNow, 10);
  ASSERT_TRUE(n.ok()) << n.status();
  EXPECT_EQ(*n, 2);
  ASSERT_EQ(scheduler_.settled.size(), 2u);
  for (const auto& [due, action] : scheduler_.settled) EXPECT_EQ(action.what, DueNoticeAction::Do::kRelease);
}

TEST_F(ScheduledReleasesTest, CancelsANoticeWhoseIncidentMovedOn) {
  scheduler_.due = {Due(NoticeKind::kMaintenanceReminder, 1, 2),
                    Due(NoticeKind::kMaintenanceCompleted, 1, 1, IncidentState::kCancelled),
                    Due(NoticeKind::kOutageOverdue, 3, 3, IncidentState::kResolved)};
  EXPECT_EQ(*releases_.ReleaseDue(kNow, 10), 0);
  ASSERT_EQ(scheduler_.settled.size(), 3u);
  for (const auto& [due, action] : scheduler_.settled) EXPECT_EQ(action.what, DueNoticeAction::Do::kCancel);
}

TEST_F(ScheduledReleasesTest, MaintenanceCompletesOnScheduleThroughTheNoticePlanning) {
  const DueNotice due = Due(NoticeKind::kMaintenanceCompleted);
  scheduler_.due = {due};
  EXPECT_EQ(*releases_.ReleaseDue(kNow, 10), 1);
  ASSERT_EQ(scheduler_.settled.size(), 1u);
  const DueNoticeAction& action = scheduler_.settled[0].second;
  EXPECT_EQ(action.what, DueNoticeAction::Do::kClose);
  EXPECT_EQ(action.closed_at, due.due_at);  // as of the planned end, not when the scheduler ran
  Incident closed;
  closed.kind = IncidentKind::kPlannedMaintenance;
  const NoticePlan expected = PlanNotices(Change::kResolved, closed, kNow, {});
  EXPECT_EQ(action.plan.notices, expected.notices);
  EXPECT_EQ(action.plan.cancel_pending, expected.cancel_pending);
  ASSERT_EQ(action.plan.notices.size(), 1u);
  EXPECT_EQ(action.plan.notices[0].kind, NoticeKind::kMaintenanceCompleted);
  EXPECT_FALSE(action.plan.notices[0].due_at.has_value());  // at once
  EXPECT_TRUE(action.plan.cancel_pending);
  EXPECT_EQ(action.audit.actor, "scheduler");
  EXPECT_EQ(action.audit.summary, "state: open -> resolved; completed on schedule at 2026-09-21T14:12:20Z");
}

TEST_F(ScheduledReleasesTest, TakesAtMostTheLimit) {
  scheduler_.due = {Due(NoticeKind::kMaintenanceReminder), Due(NoticeKind::kMaintenanceReminder),
                    Due(NoticeKind::kMaintenanceReminder)};
  EXPECT_EQ(*releases_.ReleaseDue(kNow, 2), 2);
  EXPECT_EQ(scheduler_.due.size(), 1u);
}

}  // namespace
}  // namespace forewarn
