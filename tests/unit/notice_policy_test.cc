#include "services/core/notice_policy.h"

#include <gtest/gtest.h>

namespace forewarn {
namespace {

// 2026-03-01T12:00:00Z, a Sunday.
const absl::Time kNow = absl::FromUnixSeconds(1'772'366'400);

Incident Maintenance(absl::Duration starts_in, absl::Duration lasts = absl::Hours(4)) {
  Incident m;
  m.kind = IncidentKind::kPlannedMaintenance;
  m.starts_at = kNow + starts_in;
  m.expected_restoration_at = m.starts_at + lasts;
  return m;
}

TEST(PlanNotices, MaintenanceThreeDaysAheadGetsBothRemindersStartAndCompletion) {
  const Incident m = Maintenance(absl::Hours(72));
  const NoticePlan plan = PlanNotices(Change::kCreated, m, kNow, {});
  EXPECT_FALSE(plan.cancel_pending);
  // Each reminder goes out the lead margin (12 h, at most a quarter of the
  // lead) before its deadline, the start minus the lead.
  const std::vector<PlannedNotice> want = {
      {NoticeKind::kMaintenanceReminder, "lead-48h", m.starts_at - absl::Hours(60)},
      {NoticeKind::kMaintenanceReminder, "lead-2h", m.starts_at - absl::Minutes(150)},
      {NoticeKind::kMaintenanceStarted, "", m.starts_at},
      {NoticeKind::kMaintenanceCompleted, "", m.expected_restoration_at},
  };
  EXPECT_EQ(plan.notices, want);
}

TEST(PlanNotices, MaintenanceInsideTheFirstLeadTimeNotifiesAtOnceAndKeepsLaterReminders) {
  const Incident m = Maintenance(absl::Hours(10));
  const NoticePlan plan = PlanNotices(Change::kCreated, m, kNow, {});
  ASSERT_GE(plan.notices.size(), 2u);
  EXPECT_EQ(plan.notices[0], (PlannedNotice{NoticeKind::kMaintenanceScheduled, "", std::nullopt}));
  EXPECT_EQ(plan.notices[1],
            (PlannedNotice{NoticeKind::kMaintenanceReminder, "lead-2h", m.starts_at - absl::Minutes(150)}));
  for (const auto& n : plan.notices) EXPECT_NE(n.occasion, "lead-48h");
}

TEST(PlanNotices, AReminderWhoseMarginHasStartedGoesAtOnceWhileItsDeadlineIsAhead) {
  const Incident m = Maintenance(absl::Hours(50));  // the 48h reminder's release time has passed
  const NoticePlan plan = PlanNotices(Change::kCreated, m, kNow, {});
  ASSERT_GE(plan.notices.size(), 1u);
  EXPECT_EQ(plan.notices[0], (PlannedNotice{NoticeKind::kMaintenanceReminder, "lead-48h", kNow}));
  for (const auto& n : plan.notices) EXPECT_NE(n.kind, NoticeKind::kMaintenanceScheduled);
}

TEST(PlanNotices, LeadTimesAreConfigurable) {
  NoticePolicy policy;
  policy.maintenance_leads = {absl::Hours(24 * 7), absl::Minutes(30)};
  const Incident m = Maintenance(absl::Hours(24 * 10));
  const NoticePlan plan = PlanNotices(Change::kCreated, m, kNow, policy);
  EXPECT_EQ(plan.notices[0].occasion, "lead-168h");
  EXPECT_EQ(plan.notices[1].occasion, "lead-30m");
  EXPECT_EQ(*ParseLeadOccasion("lead-168h"), absl::Hours(168));
  EXPECT_FALSE(ParseLeadOccasion("lead-soon").has_value());
}

TEST(PlanNotices, RescheduleTellsAtOnceCancelsTheOldPlanAndPlansAgain) {
  const Incident m = Maintenance(absl::Hours(100));
  const NoticePlan plan = PlanNotices(Change::kUpdated, m, kNow, {});
  EXPECT_TRUE(plan.cancel_pending);
  EXPECT_EQ(plan.notices[0], (PlannedNotice{NoticeKind::kMaintenanceRescheduled, "", std::nullopt}));
  EXPECT_EQ(plan.notices[1].occasion, "lead-48h");
}

Incident Outage() {
  Incident o;
  o.kind = IncidentKind::kUnplannedOutage;
  o.services = {"electricity"};
  o.asset_codes = {"F-1"};
  o.starts_at = kNow - absl::Hours(1);
  o.expected_restoration_at = kNow + absl::Hours(3);
  o.reason = {"عطل", "Cable fault"};
  return o;
}

TEST(PlanUpdate, SameTargetsPlanAsAnyUpdate) {
  Incident before = Outage(), after = Outage();
  after.expected_restoration_at += absl::Hours(1);
  EXPECT_EQ(PlanUpdate(before, after, kNow, {}).notices, PlanNotices(Change::kUpdated, after, kNow, {}).notices);
}

TEST(PlanUpdate, NewTargetsTellWhoLeftAndWhoJoinedAndTheOthersOnlyWhenAFactChanged) {
  Incident before = Outage(), after = Outage();
  after.asset_codes = {"F-1", "F-2"};
  const NoticePlan only_targets = PlanUpdate(before, after, kNow, {});
  EXPECT_TRUE(only_targets.cancel_pending);
  const std::vector<PlannedNotice> want = {
      {NoticeKind::kOutageRestored, "left", std::nullopt},
      {NoticeKind::kOutageOverdue, "", after.expected_restoration_at + absl::Minutes(15)},
      {NoticeKind::kOutageStarted, "joined", std::nullopt},
  };
  EXPECT_EQ(only_targets.notices, want);

  after.reason.en = "Cable fault, two feeders";
  const NoticePlan with_fact = PlanUpdate(before, after, kNow, {});
  ASSERT_EQ(with_fact.notices.size(), 4u);
  EXPECT_EQ(with_fact.notices[1], (PlannedNotice{NoticeKind::kOutageUpdated, "stayed", std::nullopt}));
  EXPECT_EQ(with_fact.notices.back().occasion, "joined");
}

TEST(PlanUpdate, MaintenanceTellsJoinersItIsScheduledOrUnderWayAndLeaversItIsCancelled) {
  Incident before = Maintenance(absl::Hours(72)), after = before;
  after.regions = {"riyadh"};
  const NoticePlan ahead = PlanUpdate(before, after, kNow, {});
  EXPECT_EQ(ahead.notices.front(), (PlannedNotice{NoticeKind::kMaintenanceCancelled, "left", std::nullopt}));
  EXPECT_EQ(ahead.notices.back(), (PlannedNotice{NoticeKind::kMaintenanceScheduled, "joined", std::nullopt}));
  // The reminders and the timeline are planned again for the new audience.
  EXPECT_EQ(ahead.notices[1].occasion, "lead-48h");

  Incident running = Maintenance(-absl::Hours(1)), moved = running;
  moved.regions = {"jeddah"};
  EXPECT_EQ(PlanUpdate(running, moved, kNow, {}).notices.back(),
            (PlannedNotice{NoticeKind::kMaintenanceStarted, "joined", std::nullopt}));
}

TEST(Supersession, JoinedAndLeftNoticesAreNeverSuperseded) {
  EXPECT_TRUE(SupersededBy(3, 2, ""));
  EXPECT_TRUE(SupersededBy(3, 2, "stayed"));
  EXPECT_TRUE(SupersededBy(3, 2, "lead-48h"));
  EXPECT_FALSE(SupersededBy(3, 2, "joined"));
  EXPECT_FALSE(SupersededBy(3, 2, "left"));
  EXPECT_FALSE(SupersededBy(2, 2, ""));
  EXPECT_EQ(ScopeOfOccasion("joined"), AudienceScope::kJoined);
  EXPECT_EQ(ScopeOfOccasion("lead-2h"), AudienceScope::kAll);
  EXPECT_EQ(OccasionOf(AudienceScope::kStayed), "stayed");
}

TEST(PlanNotices, CompletionAndCancellationGoAtOnceAndCancelWhatIsPending) {
  const Incident m = Maintenance(absl::Hours(3));
  auto done = PlanNotices(Change::kResolved, m, kNow, {});
  EXPECT_TRUE(done.cancel_pending);
  EXPECT_EQ(done.notices, (std::vector<PlannedNotice>{{NoticeKind::kMaintenanceCompleted, "", std::nullopt}}));
  auto off = PlanNotices(Change::kCancelled, m, kNow, {});
  EXPECT_EQ(off.notices, (std::vector<PlannedNotice>{{NoticeKind::kMaintenanceCancelled, "", std::nullopt}}));
}

TEST(PlanNotices, OutageSchedulesAFollowUpWhenTheEstimatePasses) {
  Incident o;
  o.kind = IncidentKind::kUnplannedOutage;
  o.starts_at = kNow;
  o.expected_restoration_at = kNow + absl::Hours(3);
  auto created = PlanNotices(Change::kCreated, o, kNow, {});
  const std::vector<PlannedNotice> want = {
      {NoticeKind::kOutageStarted, "", std::nullopt},
      {NoticeKind::kOutageOverdue, "", kNow + absl::Hours(3) + absl::Minutes(15)}};
  EXPECT_EQ(created.notices, want);
  auto updated = PlanNotices(Change::kUpdated, o, kNow, {});
  EXPECT_TRUE(updated.cancel_pending);
  EXPECT_EQ(updated.notices[0].kind, NoticeKind::kOutageUpdated);
  auto resolved = PlanNotices(Change::kResolved, o, kNow, {});
  EXPECT_EQ(resolved.notices, (std::vector<PlannedNotice>{{NoticeKind::kOutageRestored, "", std::nullopt}}));
}

TEST(PlanNotices, IbanChangeIsAnnouncedThirtyDaysAheadOrAtOnceWhenCloser) {
  Incident i;
  i.kind = IncidentKind::kIbanChange;
  i.starts_at = kNow + absl::Hours(24 * 45);
  auto far = PlanNotices(Change::kCreated, i, kNow, {});
  EXPECT_EQ(far.notices, (std::vector<PlannedNotice>{
                             {NoticeKind::kIbanChangeHolder, "lead-720h", i.starts_at - absl::Hours(24 * 30 + 12)}}));
  i.starts_at = kNow + absl::Hours(24 * 10);
  auto near = PlanNotices(Change::kCreated, i, kNow, {});
  EXPECT_EQ(near.notices, (std::vector<PlannedNotice>{{NoticeKind::kIbanChangeHolder, "", std::nullopt}}));
}

absl::Time Utc(int y, int mo, int d, int h, int mi) {
  return absl::FromCivil(absl::CivilMinute(y, mo, d, h, mi), absl::UTCTimeZone());
}

TEST(HoldUntil, UrgentNoticesNeverWait) {
  auto r = HoldUntil(NoticeKind::kOutageStarted, "Asia/Riyadh", Utc(2026, 3, 1, 23, 0), {});  // 02:00 Riyadh
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->has_value());
}

TEST(HoldUntil, NonUrgentNoticeAtNightWaitsForNineInTheCustomersZone) {
  // 23:30 UTC = 02:30 in Riyadh (UTC+3): held until 09:00 Riyadh = 06:00 UTC next day.
  auto r = HoldUntil(NoticeKind::kMaintenanceReminder, "Asia/Riyadh", Utc(2026, 3, 1, 23, 30), {});
  ASSERT_TRUE(r.ok() && r->has_value());
  EXPECT_EQ(**r, Utc(2026, 3, 2, 6, 0));
  // Same instant in New York (UTC-5): 18:30 local, inside the window.
  auto ny = HoldUntil(NoticeKind::kMaintenanceReminder, "America/New_York", Utc(2026, 3, 1, 23, 30), {});
  ASSERT_TRUE(ny.ok());
  EXPECT_FALSE(ny->has_value());
}

TEST(HoldUntil, AfterTheWindowClosesItWaitsUntilTomorrowAcrossMidnight) {
  // 19:15 UTC = 22:15 Riyadh: the window closed at 22:00 -> 09:00 tomorrow.
  auto r = HoldUntil(NoticeKind::kIbanChangeHolder, "Asia/Riyadh", Utc(2026, 3, 1, 19, 15), {});
  ASSERT_TRUE(r.ok() && r->has_value());
  EXPECT_EQ(**r, Utc(2026, 3, 2, 6, 0));
  // 21:59 Riyadh is still inside.
  auto inside = HoldUntil(NoticeKind::kIbanChangeHolder, "Asia/Riyadh", Utc(2026, 3, 1, 18, 59), {});
  EXPECT_FALSE(inside->has_value());
  // 09:00 exactly opens the window.
  auto open = HoldUntil(NoticeKind::kIbanChangeHolder, "Asia/Riyadh", Utc(2026, 3, 2, 6, 0), {});
  EXPECT_FALSE(open->has_value());
}

TEST(HoldUntil, FollowsDaylightSavingTime) {
  // 2026-03-08 is the US spring-forward day: 09:00 EDT = 13:00 UTC.
  auto r = HoldUntil(NoticeKind::kMaintenanceReminder, "America/New_York", Utc(2026, 3, 8, 8, 0), {});
  ASSERT_TRUE(r.ok() && r->has_value());
  EXPECT_EQ(**r, Utc(2026, 3, 8, 13, 0));
}

TEST(HoldUntil, AWindowThatWrapsMidnightIsSupported) {
  NoticePolicy night_shift;
  night_shift.quiet_window_start = absl::Hours(20);
  night_shift.quiet_window_end = absl::Hours(6);
  // 03:00 Riyadh is inside 20:00-06:00.
  auto inside = HoldUntil(NoticeKind::kMaintenanceReminder, "Asia/Riyadh", Utc(2026, 3, 1, 0, 0), night_shift);
  EXPECT_FALSE(inside->has_value());
  // 12:00 Riyadh waits for 20:00 Riyadh = 17:00 UTC.
  auto noon = HoldUntil(NoticeKind::kMaintenanceReminder, "Asia/Riyadh", Utc(2026, 3, 1, 9, 0), night_shift);
  EXPECT_EQ(**noon, Utc(2026, 3, 1, 17, 0));
}

TEST(HoldUntil, UnknownTimeZoneIsAnError) {
  EXPECT_EQ(HoldUntil(NoticeKind::kMaintenanceReminder, "Mars/Olympus", kNow, {}).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace forewarn
