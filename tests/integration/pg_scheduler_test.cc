// The scheduler's and quiet-hours adapters against the real PostgreSQL.
#include <gtest/gtest.h>

#include <set>
#include <thread>

#include "services/core/scheduled_releases.h"
#include "services/pg/pg_store.h"
#include "tests/integration/pg_fixture.h"
#include "tests/support/new_incidents.h"

namespace forewarn {
namespace {

const absl::Time kNow = absl::FromUnixSeconds(1'790'000'000);

class PgSchedulerTest : public testing::PgTest {
 protected:
  void SetUp() override {
    SetUpStore(
        "INSERT INTO services VALUES ('electricity','Electricity','الكهرباء');"
        "INSERT INTO regions VALUES ('riyadh','Riyadh','الرياض');"
        "INSERT INTO customers (id, name, locale, time_zone, phone, email) VALUES "
        " (1,'Holder','ar','Asia/Riyadh','+966500000001','h@example.com'),"
        " (2,'Saver','en','Asia/Riyadh','+966500000002','s@example.com'),"
        " (3,'Other','en','Asia/Riyadh','+966500000003',NULL);"
        "INSERT INTO accounts VALUES ('SA0380000000608010167519', 1);"
        "INSERT INTO beneficiaries VALUES (2, 'SA0380000000608010167519', 'landlord'),"
        " (3, 'SA4420000001234567891234', 'someone else');");
  }

  absl::StatusOr<Incident> ScheduleMaintenance(absl::Duration starts_in, const std::string& key = "m-1") {
    NewIncident r = testing::OutageIncident(key, "electricity", "riyadh", {"صيانة", "Maintenance"},
                                            kNow + starts_in + absl::Hours(4));
    r.kind = IncidentKind::kPlannedMaintenance;
    r.starts_at = kNow + starts_in;
    return store_->Create(r, kNow, [](const Incident& i) { return PlanNotices(Change::kCreated, i, kNow, {}); });
  }
  // Version 1's maintenance reminder `occasion` of `incident` to `to`.
  static NoticeJob Reminder(const std::string& incident, const std::string& occasion, Recipient to) {
    NoticeJob job;
    job.incident_id = incident;
    job.version = 1;
    job.kind = NoticeKind::kMaintenanceReminder;
    job.occasion = occasion;
    job.recipient = std::move(to);
    return job;
  }
  std::string Outbox(const std::string& where = "true") {
    return db_->Exec("SELECT coalesce(string_agg(notice_kind || '/' || occasion || '/v' || version, ',' ORDER BY id), '') "
                     "FROM outbox WHERE " + where);
  }
};

TEST_F(PgSchedulerTest, ReleasesEachDueNoticeOnceAcrossRestarts) {
  auto m = ScheduleMaintenance(absl::Hours(72));
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(db_->Exec("SELECT count(*) FROM scheduled_notices WHERE state = 'pending'"), "4");
  EXPECT_EQ(Outbox(), "");  // three days ahead: nothing at once

  {
    PgNoticeScheduler scheduler(db_->uri());
    ScheduledReleases releases(scheduler);
    EXPECT_EQ(*releases.ReleaseDue(kNow + absl::Hours(11), 100), 0);
    EXPECT_EQ(*releases.ReleaseDue(kNow + absl::Hours(12), 100), 1);  // T-48h, 12 h before its deadline
  }
  PgNoticeScheduler restarted_scheduler(db_->uri());
  ScheduledReleases restarted(restarted_scheduler);
  EXPECT_EQ(*restarted.ReleaseDue(kNow + absl::Hours(12), 100), 0);  // not repeated
  EXPECT_EQ(*restarted.ReleaseDue(kNow + absl::Hours(80), 100), 3);  // T-2h, start, completion
  EXPECT_EQ(Outbox(),
            "maintenance_reminder/lead-48h/v1,maintenance_reminder/lead-2h/v1,maintenance_started//v1,"
            "maintenance_completed//v2");
  // Completing on schedule closed the incident with a new version.
  auto done = store_->Get(m->id);
  EXPECT_EQ(done->state, IncidentState::kResolved);
  EXPECT_EQ(done->version, 2);
  EXPECT_EQ(*done->resolved_at, m->expected_restoration_at);
  EXPECT_TRUE(store_->GetVersion(m->id, 2).ok());
  // Recorded as the scheduler's change, with what it did.
  auto history = store_->History(m->id);
  ASSERT_TRUE(history.ok()) << history.status();
  EXPECT_EQ(history->back().change, "resolved");
  EXPECT_EQ(history->back().actor, "scheduler");
  EXPECT_EQ(history->back().summary.rfind("state: open -> resolved; completed on schedule at ", 0), 0u)
      << history->back().summary;
  EXPECT_EQ(db_->Exec("SELECT count(*) FROM scheduled_notices WHERE state = 'pending'"), "0");
}

TEST_F(PgSchedulerTest, ConcurrentSchedulersNeverReleaseTheSameNotice) {
  for (int k = 0; k < 50; ++k) ASSERT_TRUE(ScheduleMaintenance(absl::Hours(72), "m-" + std::to_string(k)).ok());
  EXPECT_EQ(testing::ReleaseDueFromTwo(db_->uri(), kNow + absl::Hours(100), 40, 7), 200);
  EXPECT_EQ(db_->Exec("SELECT count(*) FROM outbox"), "200");
  EXPECT_EQ(db_->Exec("SELECT count(*) FROM (SELECT incident_id, notice_kind, occasion FROM outbox "
                      "GROUP BY 1, 2, 3 HAVING count(*) > 1) d"),
            "0");
}

TEST_F(PgSchedulerTest, RescheduleCancelsTheOldPlanAndNotifiesAtOnce) {
  auto m = ScheduleMaintenance(absl::Hours(72));
  IncidentUpdate u;
  u.id = m->id;
  u.starts_at = kNow + absl::Hours(96);
  u.expected_restoration_at = kNow + absl::Hours(100);
  Incident after = *m;
  after.starts_at = *u.starts_at;
  after.expected_restoration_at = *u.expected_restoration_at;
  ASSERT_TRUE(store_->Update(u, kNow, PlanNotices(Change::kUpdated, after, kNow, {})).ok());
  EXPECT_EQ(Outbox(), "maintenance_rescheduled//v2");
  EXPECT_EQ(db_->Exec("SELECT count(*) FROM scheduled_notices WHERE state = 'cancelled' AND version = 1"), "4");
  PgNoticeScheduler scheduler(db_->uri());
  EXPECT_EQ(*ScheduledReleases(scheduler).ReleaseDue(kNow + absl::Hours(48), 100), 1);  // new T-48h only
  EXPECT_EQ(Outbox("notice_kind = 'maintenance_reminder'"), "maintenance_reminder/lead-48h/v2");
}

TEST_F(PgSchedulerTest, ADueNoticeOfAnOutdatedVersionIsCancelledNotReleased) {
  auto m = ScheduleMaintenance(absl::Hours(72));
  // A version bump that (wrongly) kept the old plan pending: the scheduler
  // still refuses to release the stale row.
  db_->Exec("UPDATE incidents SET version = 5");
  PgNoticeScheduler scheduler(db_->uri());
  EXPECT_EQ(*ScheduledReleases(scheduler).ReleaseDue(kNow + absl::Hours(100), 100), 0);
  EXPECT_EQ(db_->Exec("SELECT count(*) FROM scheduled_notices WHERE state = 'cancelled'"), "4");
}

TEST_F(PgSchedulerTest, HeldNoticesComeBackWhenDueAndCanBeClaimedAgain) {
  auto m = ScheduleMaintenance(absl::Hours(72));
  PgNoticeLedger ledger(db_->uri());
  const NoticeJob job = Reminder(
      m->id, "lead-48h",
      Recipient{2, Channel::kSms, "+966500000002", "en", "Asia/Riyadh", "Saver", AudienceRole::kAffected, ""});
  ASSERT_TRUE(ledger.Claim({KeyOf(job)}, kNow).ok());
  ASSERT_TRUE(ledger.Hold({{job, kNow + absl::Hours(6)}}, kNow).ok());
  ASSERT_TRUE(ledger.Hold({{job, kNow + absl::Hours(6)}}, kNow).ok());  // idempotent
  EXPECT_EQ(db_->Exec("SELECT state FROM notice_ledger"), "held");

  PgHeldNotices held(db_->uri());
  EXPECT_TRUE(held.FetchDue(kNow + absl::Hours(5), 10)->empty());
  auto due = held.FetchDue(kNow + absl::Hours(6), 10);
  ASSERT_TRUE(due.ok()) << due.status();
  ASSERT_EQ(due->size(), 1u);
  const NoticeJob& back = (*due)[0].job;
  EXPECT_EQ(back.occasion, "lead-48h");
  EXPECT_EQ(back.recipient.address, "+966500000002");
  EXPECT_EQ(back.recipient.name, "Saver");
  ASSERT_TRUE(held.MarkReleased(*due, kNow).ok());
  EXPECT_TRUE(held.FetchDue(kNow + absl::Hours(7), 10)->empty());
  auto claimed = ledger.Claim({KeyOf(back)}, kNow + absl::Hours(6));
  ASSERT_TRUE(claimed.ok()) << claimed.status();
  EXPECT_TRUE((*claimed)[0].send);
}

// A notifier whose clock is behind the scheduler's can hold a notice again
// between the scheduler's fetch and its mark: that newer hold must stay due,
// or the notice is never sent.
TEST_F(PgSchedulerTest, ANoticeHeldAgainWhileBeingReleasedStaysDue) {
  auto m = ScheduleMaintenance(absl::Hours(72));
  PgNoticeLedger ledger(db_->uri());
  const NoticeJob job = Reminder(m->id, "lead-2h",
                                 Recipient{3, Channel::kEmail, "c3@example.com", "en", "America/New_York", "Early",
                                           AudienceRole::kAffected, ""});
  ASSERT_TRUE(ledger.Claim({KeyOf(job)}, kNow).ok());
  ASSERT_TRUE(ledger.Hold({{job, kNow + absl::Hours(4)}}, kNow).ok());

  PgHeldNotices held(db_->uri());
  auto due = held.FetchDue(kNow + absl::Hours(4), 10);
  ASSERT_TRUE(due.ok()) << due.status();
  ASSERT_EQ(due->size(), 1u);
  // The released copy reaches a notifier that still sees quiet hours.
  ASSERT_TRUE(ledger.Claim({KeyOf((*due)[0].job)}, kNow + absl::Hours(4)).ok());
  ASSERT_TRUE(ledger.Hold({{job, kNow + absl::Hours(4)}}, kNow + absl::Hours(4)).ok());
  ASSERT_TRUE(held.MarkReleased(*due, kNow + absl::Hours(4)).ok());

  auto again = held.FetchDue(kNow + absl::Hours(4), 10);
  ASSERT_TRUE(again.ok()) << again.status();
  ASSERT_EQ(again->size(), 1u) << "the newer hold was settled by the release of the older one";
  ASSERT_TRUE(held.MarkReleased(*again, kNow + absl::Hours(4)).ok());
  EXPECT_TRUE(held.FetchDue(kNow + absl::Hours(5), 10)->empty());
}

TEST_F(PgSchedulerTest, IbanAudienceIsTheHolderAndTheBeneficiariesOnly) {
  NewIncident r = testing::IbanChangeIncident("iban-1", {"دمج", "Merger"}, "SA0380000000608010167519",
                                              "SA4420000001234567891234");
  r.starts_at = kNow + absl::Hours(24 * 10);
  r.expected_restoration_at = *r.starts_at;
  auto i = store_->Create(r, kNow, [](const Incident& x) { return PlanNotices(Change::kCreated, x, kNow, {}); });
  ASSERT_TRUE(i.ok()) << i.status();
  EXPECT_EQ(i->old_iban, "SA0380000000608010167519");
  EXPECT_EQ(Outbox(), "iban_change_holder//v1");  // inside 30 days: at once
  PgAudienceSource audience(db_->uri());
  std::set<std::tuple<int64_t, Channel, AudienceRole>> got;
  ASSERT_TRUE(audience.ForEachRecipient(*store_->GetVersion(i->id, 1), [&](const Recipient& rc) {
    got.insert({rc.customer_id, rc.channel, rc.role});
    return absl::OkStatus();
  }).ok());
  const std::set<std::tuple<int64_t, Channel, AudienceRole>> want = {
      {1, Channel::kSms, AudienceRole::kAccountHolder}, {1, Channel::kEmail, AudienceRole::kAccountHolder},
      {2, Channel::kSms, AudienceRole::kBeneficiary}, {2, Channel::kEmail, AudienceRole::kBeneficiary}};
  EXPECT_EQ(got, want);
}

TEST_F(PgSchedulerTest, CurrentVersionsReportsTheLatest) {
  auto a = ScheduleMaintenance(absl::Hours(72), "a");
  auto b = ScheduleMaintenance(absl::Hours(72), "b");
  ASSERT_TRUE(store_->Cancel(b->id, 0, kNow, PlanNotices(Change::kCancelled, *b, kNow, {})).ok());
  auto v = store_->CurrentVersions({a->id, b->id});
  ASSERT_TRUE(v.ok());
  EXPECT_EQ((*v)[a->id], 1);
  EXPECT_EQ((*v)[b->id], 2);
  EXPECT_EQ(Outbox(), "maintenance_cancelled//v2");
}

}  // namespace
}  // namespace forewarn
