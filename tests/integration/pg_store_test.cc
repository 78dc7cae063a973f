// Integration tests of the PostgreSQL adapters against the real server
// started by scripts/test.sh (FOREWARN_TEST_PG_URI).
#include <gtest/gtest.h>

#include <array>

#include <atomic>
#include <set>
#include <thread>

#include "absl/strings/str_cat.h"
#include "pqxx/pqxx"

#include "services/core/reconcile.h"
#include "services/pg/migrations.h"
#include "services/pg/pg_store.h"
#include "tests/integration/pg_fixture.h"
#include "tests/support/new_incidents.h"

namespace forewarn {
namespace {

const absl::Time kNow = absl::FromUnixSeconds(1'790'000'000);

// Whether each claimed key is to be sent by the caller.
std::vector<bool> Sends(const absl::StatusOr<std::vector<NoticeLedger::Claimed>>& claimed) {
  std::vector<bool> out;
  if (claimed.ok()) {
    for (const auto& c : *claimed) out.push_back(c.send);
  }
  return out;
}
std::vector<int> Counts(const absl::StatusOr<std::vector<NoticeLedger::Claimed>>& claimed) {
  std::vector<int> out;
  if (claimed.ok()) {
    for (const auto& c : *claimed) out.push_back(c.claims);
  }
  return out;
}
// Version 1's outage_started SMS of `incident` to `customer`.
NoticeKey SmsStarted(const std::string& incident, int64_t customer) {
  return {incident, 1, NoticeKind::kOutageStarted, "", customer, Channel::kSms};
}
// The outage_started notices of Request()'s audience: customer 1's SMS,
// and the emails of customers 1, 2 and 3.
std::array<NoticeKey, 4> StartedKeys(const std::string& incident) {
  auto email = [&](int64_t customer) {
    return NoticeKey{incident, 1, NoticeKind::kOutageStarted, "", customer, Channel::kEmail};
  };
  return {SmsStarted(incident, 1), email(1), email(2), email(3)};
}
// A worker whose lease has run out by the time anyone looks (it died, or
// was paused for longer than its lease).
LedgerLease ShortLease() { return {"", absl::Milliseconds(1)}; }
void LetLeaseExpire() { absl::SleepFor(absl::Milliseconds(5)); }

class PgStoreTest : public testing::PgTest {
 protected:
  void SetUp() override {
    SetUpStore(
        "INSERT INTO services VALUES ('electricity','Electricity','الكهرباء'),('water','Water','المياه');"
        "INSERT INTO regions VALUES ('riyadh','Riyadh','الرياض'),('jeddah','Jeddah','جدة');"
        "INSERT INTO customers (id, name, locale, time_zone, phone, email, channels_unplanned, "
        "  channels_maintenance, channels_banking) VALUES "
        " (1,'A','ar','Asia/Riyadh','+966500000001','a@example.com',3,3,3),"
        " (2,'B','en','Europe/London','+966500000002','b@example.com',2,2,2),"
        " (3,'C','en','Asia/Riyadh',NULL,'c@example.com',3,3,3),"
        " (4,'D','ar','Asia/Riyadh','+966500000004',NULL,3,3,3),"
        " (5,'E','en','Asia/Riyadh','+966500000005','e@example.com',3,3,3);"
        "INSERT INTO customer_services VALUES ('electricity','riyadh',1),('electricity','riyadh',2),"
        " ('water','riyadh',2),('electricity','riyadh',3),('electricity','jeddah',4),('water','riyadh',5);");
  }

  // The claimed batches in flight: "N", or "N/KEYS" with `with_keys`.
  std::string InFlight(bool with_keys = false) {
    return db_->Exec(with_keys ? "SELECT count(*) || '/' || sum(cardinality(key_hashes)) FROM notice_inflight"
                               : "SELECT count(*) FROM notice_inflight");
  }
  NewIncident Request(std::string key = "key-1") {
    NewIncident r = testing::OutageIncident(std::move(key), "electricity", "riyadh",
                                            {"عطل في محطة التحويل", "Substation fault"}, kNow + absl::Hours(3));
    r.starts_at = kNow;
    return r;
  }
  // An IBAN change of SA03... (effective now).
  NewIncident IbanRequest(std::string key) {
    NewIncident r = Request(std::move(key));
    r.kind = IncidentKind::kIbanChange;
    r.services.clear();
    r.regions.clear();
    r.old_iban = "SA0380000000608010167519";
    r.new_iban = "SA4420000001234567891234";
    return r;
  }
  int64_t OutboxRows() { return std::stoll(db_->Exec("SELECT count(*) FROM outbox")); }

  // The store with the notice plans the intake would make.
  absl::StatusOr<Incident> Create(const NewIncident& r, absl::Time now) {
    return store_->Create(r, now, [&](const Incident& i) { return PlanNotices(Change::kCreated, i, now, {}); });
  }
  absl::StatusOr<Incident> Update(const IncidentUpdate& u, absl::Time now) {
    NoticePlan plan;
    plan.notices = {{NoticeKind::kOutageUpdated, "", std::nullopt}};
    plan.cancel_pending = true;
    return store_->Update(u, now, plan);
  }
  absl::StatusOr<Incident> Resolve(const std::string& id, absl::Time now) {
    NoticePlan plan;
    plan.notices = {{NoticeKind::kOutageRestored, "", std::nullopt}};
    plan.cancel_pending = true;
    return store_->Resolve(id, 0, now, plan);
  }

};

TEST_F(PgStoreTest, MigrationsAreIdempotent) {
  EXPECT_TRUE(ApplyMigrations(db_->uri()).ok());
  EXPECT_EQ(db_->Exec("SELECT count(*) FROM schema_migrations"), std::to_string(pg::Migrations().size()));
  EXPECT_EQ(db_->Exec("SELECT count(*) FROM schema_migrations WHERE version = 3"), "1");  // the audit trail
}

TEST_F(PgStoreTest, CreateStoresIncidentVersionAndOutboxRowTogether) {
  auto i = Create(Request(), kNow);
  ASSERT_TRUE(i.ok()) << i.status();
  EXPECT_EQ(i->version, 1);
  EXPECT_EQ(i->reason.ar, "عطل في محطة التحويل");
  EXPECT_EQ(i->starts_at, kNow);
  EXPECT_EQ(i->expected_restoration_at, kNow + absl::Hours(3));
  EXPECT_EQ(OutboxRows(), 1);
  auto fetched = store_->Get(i->id);
  ASSERT_TRUE(fetched.ok());
  EXPECT_EQ(fetched->services, std::vector<std::string>{"electricity"});
  // The versioned read (what notices are rendered from) carries display names.
  auto v1 = store_->GetVersion(i->id, 1);
  ASSERT_TRUE(v1.ok()) << v1.status();
  ASSERT_EQ(v1->service_names.size(), 1u);
  EXPECT_EQ(v1->service_names[0].ar, "الكهرباء");
  EXPECT_EQ(v1->service_names[0].en, "Electricity");
  ASSERT_EQ(v1->region_names.size(), 1u);
  EXPECT_EQ(v1->region_names[0].ar, "الرياض");
}

TEST_F(PgStoreTest, RetriedCreateReturnsTheSameIncidentWithoutANewEvent) {
  auto first = Create(Request(), kNow);
  auto retry = Create(Request(), kNow + absl::Seconds(5));
  ASSERT_TRUE(first.ok() && retry.ok());
  EXPECT_EQ(first->id, retry->id);
  EXPECT_EQ(OutboxRows(), 1);
}

TEST_F(PgStoreTest, ReusedKeyWithDifferentContentIsAlreadyExists) {
  ASSERT_TRUE(Create(Request(), kNow).ok());
  auto other = Request();
  other.reason.en = "Something else";
  auto s = Create(other, kNow);
  EXPECT_EQ(s.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_NE(s.status().message().find("idempotency_key"), std::string::npos);
  EXPECT_EQ(OutboxRows(), 1);
}

TEST_F(PgStoreTest, UnknownServiceOrRegionIsInvalidArgumentAndStoresNothing) {
  auto r = Request();
  r.services = {"electricity", "gas"};
  auto s = Create(r, kNow);
  EXPECT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.status().message(), "services[1]: unknown service 'gas'");
  r = Request();
  r.regions = {"mars"};
  EXPECT_EQ(Create(r, kNow).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(db_->Exec("SELECT count(*) FROM incidents"), "0");
  EXPECT_EQ(OutboxRows(), 0);
}

TEST_F(PgStoreTest, UpdateBumpsVersionAndKeepsHistoryImmutable) {
  auto i = Create(Request(), kNow);
  IncidentUpdate u;
  u.id = i->id;
  u.expected_restoration_at = kNow + absl::Hours(6);
  auto v2 = Update(u, kNow + absl::Minutes(10));
  ASSERT_TRUE(v2.ok()) << v2.status();
  EXPECT_EQ(v2->version, 2);
  EXPECT_EQ(v2->reason.en, "Substation fault");  // unchanged
  EXPECT_EQ(v2->expected_restoration_at, kNow + absl::Hours(6));
  auto v1 = store_->GetVersion(i->id, 1);
  ASSERT_TRUE(v1.ok());
  EXPECT_EQ(v1->expected_restoration_at, kNow + absl::Hours(3));
  EXPECT_EQ(OutboxRows(), 2);

  u.expected_version = 1;  // stale
  EXPECT_EQ(Update(u, kNow).status().code(), absl::StatusCode::kAborted);
  u.expected_version = 0;
  u.expected_restoration_at.reset();
  u.reason = LocalizedText{"سبب جديد", "New reason"};
  auto v3 = Update(u, kNow);
  ASSERT_TRUE(v3.ok());
  EXPECT_EQ(v3->reason.ar, "سبب جديد");
  EXPECT_EQ(v3->expected_restoration_at, kNow + absl::Hours(6));
}

TEST_F(PgStoreTest, ResolveIsFinal) {
  auto i = Create(Request(), kNow);
  auto r = Resolve(i->id, kNow + absl::Hours(1));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->state, IncidentState::kResolved);
  ASSERT_TRUE(r->resolved_at.has_value());
  EXPECT_EQ(*r->resolved_at, kNow + absl::Hours(1));
  EXPECT_EQ(Resolve(i->id, kNow).status().code(), absl::StatusCode::kFailedPrecondition);
  IncidentUpdate u;
  u.id = i->id;
  u.expected_restoration_at = kNow + absl::Hours(9);
  EXPECT_EQ(Update(u, kNow).status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(store_->Get("00000000-0000-0000-0000-000000000000").status().code(), absl::StatusCode::kNotFound);
}

TEST_F(PgStoreTest, ListPagesNewestFirst) {
  for (int k = 0; k < 3; ++k) ASSERT_TRUE(Create(Request("key-" + std::to_string(k)), kNow + absl::Seconds(k)).ok());
  ListFilter f;
  f.page_size = 2;
  auto p1 = store_->List(f);
  ASSERT_TRUE(p1.ok());
  ASSERT_EQ(p1->incidents.size(), 2u);
  EXPECT_EQ(p1->incidents[0].idempotency_key, "key-2");
  f.page_token = p1->next_page_token;
  auto p2 = store_->List(f);
  ASSERT_EQ(p2->incidents.size(), 1u);
  EXPECT_TRUE(p2->next_page_token.empty());
}

TEST_F(PgStoreTest, OutboxHasOneLeaderAndDeliversInOrder) {
  auto i = Create(Request(), kNow);
  IncidentUpdate u;
  u.id = i->id;
  u.expected_restoration_at = kNow + absl::Hours(4);
  ASSERT_TRUE(Update(u, kNow).ok());
  PgOutboxSource leader(db_->uri()), follower(db_->uri());
  auto events = leader.FetchUnpublished(10);
  ASSERT_TRUE(events.ok()) << events.status();
  ASSERT_EQ(events->size(), 2u);
  EXPECT_EQ((*events)[0].version, 1);
  EXPECT_EQ((*events)[0].notice_kind, NoticeKind::kOutageStarted);
  EXPECT_EQ((*events)[1].notice_kind, NoticeKind::kOutageUpdated);
  EXPECT_TRUE(follower.FetchUnpublished(10)->empty());
  ASSERT_TRUE(leader.MarkPublished({(*events)[0].outbox_id, (*events)[1].outbox_id}).ok());
  EXPECT_TRUE(leader.FetchUnpublished(10)->empty());
}

TEST_F(PgStoreTest, AudienceStreamsAffectedCustomersOnTheirChosenChannels) {
  auto i = Create(Request(), kNow);
  PgAudienceSource audience(db_->uri(), /*fetch_size=*/1);  // forces many FETCHes
  std::set<std::pair<int64_t, Channel>> got;
  ASSERT_TRUE(audience.ForEachRecipient(*i, [&](const Recipient& r) {
    EXPECT_TRUE(got.insert({r.customer_id, r.channel}).second);
    return absl::OkStatus();
  }).ok());
  // 1: both; 2: email only (sms off); 3: email only (no phone); 4 is in
  // jeddah; 5 uses water only.
  std::set<std::pair<int64_t, Channel>> want{
      {1, Channel::kSms}, {1, Channel::kEmail}, {2, Channel::kEmail}, {3, Channel::kEmail}};
  EXPECT_EQ(got, want);
}

// The audience rule is written once (services/pg/audience_sql.h): the
// resolver's stream and the completeness check see the same recipients.
TEST_F(PgStoreTest, AudienceStreamAndCompletenessCheckAgreeOnEveryRecipient) {
  db_->Exec("INSERT INTO accounts VALUES ('SA0380000000608010167519', 1);"
            "INSERT INTO beneficiaries VALUES (3, 'SA0380000000608010167519', 'rent'),"
            " (4, 'SA0380000000608010167519', 'rent');");
  for (const NewIncident& r : {Request(), IbanRequest("iban-1")}) {
    auto i = Create(r, kNow);
    ASSERT_TRUE(i.ok()) << i.status();
    db_->Exec(absl::StrCat("INSERT INTO outbox (incident_id, version, notice_kind, created_at) SELECT '", i->id,
                           "', 1, '", ToString(PlanNotices(Change::kCreated, *i, kNow, {}).notices[0].kind),
                           "', now() WHERE NOT EXISTS (SELECT 1 FROM outbox WHERE incident_id = '", i->id, "')"));
    std::set<std::pair<int64_t, Channel>> streamed;
    PgAudienceSource audience(db_->uri(), /*fetch_size=*/2);
    ASSERT_TRUE(audience.ForEachRecipient(*i, [&](const Recipient& rc) {
      // An SMS carries the email address to fall back on; an email none.
      if (rc.channel == Channel::kSms && rc.customer_id == 1) {
        EXPECT_EQ(rc.fallback_email, "a@example.com");
      }
      if (rc.channel == Channel::kEmail) {
        EXPECT_EQ(rc.fallback_email, "");
      }
      streamed.insert({rc.customer_id, rc.channel});
      return absl::OkStatus();
    }).ok());
    auto c = store_->CheckCompleteness(i->id, 100, kNow);  // nothing sent: everyone is listed
    ASSERT_TRUE(c.ok()) << c.status();
    std::set<std::pair<int64_t, Channel>> checked;
    for (const auto& u : c->listed) checked.insert({u.customer_id, u.channel});
    EXPECT_EQ(c->audience, static_cast<int64_t>(streamed.size())) << ToString(r.kind);
    EXPECT_EQ(checked, streamed) << ToString(r.kind);
    EXPECT_FALSE(streamed.empty());
  }
}

// Every adapter of a process draws from one pool, whose size bounds the
// connections they open together.
TEST_F(PgStoreTest, AdaptersShareOnePoolBoundedByItsSize) {
  PgDatabase shared(db_->uri(), 1);
  PgIncidentStore store(shared);
  auto i = store.Create(Request(), kNow, [](const Incident& inc) {
    return PlanNotices(Change::kCreated, inc, kNow, {});
  });
  ASSERT_TRUE(i.ok()) << i.status();
  // Made after the store used the pool: its prepared statements reach the
  // connection that already exists.
  PgNoticeLedger ledger(shared);
  PgAudienceSource audience(shared);
  auto work = [&] {
    for (int k = 0; k < 5; ++k) {
      EXPECT_TRUE(store.Get(i->id).ok());
      EXPECT_TRUE(ledger.CountDead().ok());
      EXPECT_TRUE(ledger.AreDead({{i->id, 1, NoticeKind::kOutageStarted, "", 1, Channel::kSms}}).ok());
      EXPECT_TRUE(audience.ForEachRecipient(*i, [](const Recipient&) { return absl::OkStatus(); }).ok());
    }
  };
  std::thread a(work), b(work), c(work);
  a.join();
  b.join();
  c.join();
  NoticeKey key{i->id, 1, NoticeKind::kOutageStarted, "", 1, Channel::kSms};
  EXPECT_EQ(Sends(ledger.Claim({key}, kNow)), std::vector<bool>{true});
  ASSERT_TRUE(ledger.Record({{key, NoticeState::kSent, "p", ""}}, kNow).ok());
  // The pool's one connection, and the one asking.
  EXPECT_EQ(db_->Exec("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                      "AND backend_type = 'client backend'"), "2");
}

TEST_F(PgStoreTest, LedgerClaimsOnceAndReportsCounts) {
  auto i = Create(Request(), kNow);
  PgNoticeLedger ledger(db_->uri());
  const NoticeKey a = SmsStarted(i->id, 1);
  NoticeKey b{i->id, 1, NoticeKind::kOutageStarted, "", 1, Channel::kEmail};
  auto first = ledger.Claim({a, b}, kNow);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(Sends(first), (std::vector<bool>{true, true}));
  ASSERT_TRUE(ledger.Record({{a, NoticeState::kSent, "<id>", ""}, {b, NoticeState::kFailed, "", "bad address"}}, kNow)
                  .ok());
  auto again = ledger.Claim({a, b}, kNow);
  EXPECT_EQ(Sends(again), (std::vector<bool>{false, false}));

  auto report = store_->Report(i->id, 10);
  ASSERT_TRUE(report.ok()) << report.status();
  ASSERT_EQ(report->counts.size(), 2u);
  ASSERT_EQ(report->failures.size(), 1u);
  EXPECT_EQ(report->failures[0].error, "bad address");
  EXPECT_EQ(report->failures[0].channel, Channel::kEmail);
}

TEST_F(PgStoreTest, UnfinishedClaimIsReclaimedAfterACrash) {
  auto i = Create(Request(), kNow);
  const NoticeKey a = SmsStarted(i->id, 1);
  {
    PgNoticeLedger ledger(db_->uri(), ShortLease());
    ASSERT_TRUE(ledger.Claim({a}, kNow).ok());
  }  // the worker died before Record
  LetLeaseExpire();
  PgNoticeLedger ledger(db_->uri());
  auto claimed = ledger.Claim({a}, kNow);
  EXPECT_EQ(Sends(claimed), std::vector<bool>{true});
  EXPECT_EQ(Counts(claimed), std::vector<int>{2});  // it may have reached the provider
  ASSERT_TRUE(ledger.Record({{a, NoticeState::kSent, "", ""}}, kNow).ok());
  EXPECT_EQ(db_->Exec("SELECT state || '/' || attempts FROM notice_ledger"), "sent/2");
  EXPECT_EQ(InFlight(), "0");
}

TEST_F(PgStoreTest, NewNoticesAreInFlightAsOneRowUntilSettled) {
  auto i = Create(Request(), kNow);
  PgNoticeLedger ledger(db_->uri());
  const NoticeKey a = SmsStarted(i->id, 1);
  NoticeKey b{i->id, 1, NoticeKind::kOutageStarted, "", 2, Channel::kEmail};
  auto claimed = ledger.Claim({a, b}, kNow);
  EXPECT_EQ(Sends(claimed), (std::vector<bool>{true, true}));
  EXPECT_EQ(Counts(claimed), (std::vector<int>{1, 1}));
  EXPECT_EQ(db_->Exec("SELECT count(*) FROM notice_ledger"), "0");
  EXPECT_EQ(InFlight(true), "1/2");
  // Settled in part (the other waits for an in-place retry): only its
  // hash leaves the batch.
  ASSERT_TRUE(ledger.Record({{a, NoticeState::kSent, "gw-1", ""}}, kNow).ok());
  EXPECT_EQ(db_->Exec("SELECT state || '/' || attempts || '/' || provider_id FROM notice_ledger"), "sent/1/gw-1");
  EXPECT_EQ(db_->Exec("SELECT key_hashes[1] FROM notice_inflight"), std::to_string(PgNoticeLedger::KeyHash(b)));
  // A settled notice is not claimed again; the one still in this worker's
  // own batch is (an in-place retry: this process knows it did not send it).
  claimed = ledger.Claim({a, b}, kNow);
  EXPECT_EQ(Sends(claimed), (std::vector<bool>{false, true}));
  EXPECT_EQ(Counts(claimed), (std::vector<int>{0, 1}));
  ASSERT_TRUE(ledger.Record({{b, NoticeState::kFailed, "", "bad address"}}, kNow).ok());
  EXPECT_EQ(InFlight(), "0");
  EXPECT_EQ(db_->Exec("SELECT state || '/' || attempts || '/' || error FROM notice_ledger WHERE customer_id = 2"),
            "failed/1/bad address");
}

TEST_F(PgStoreTest, BatchLeftByADeadWorkerDrainsAsItsNoticesComeAgain) {
  auto i = Create(Request(), kNow);
  const NoticeKey a = SmsStarted(i->id, 1);
  const NoticeKey b = SmsStarted(i->id, 2);
  const NoticeKey c = SmsStarted(i->id, 3);
  const NoticeKey other = SmsStarted(i->id, 4);
  {
    PgNoticeLedger dead(db_->uri(), ShortLease());
    ASSERT_TRUE(dead.Claim({a, b, c}, kNow).ok());
  }
  LetLeaseExpire();
  PgNoticeLedger ledger(db_->uri());
  // Redelivered in other batches: each notice of the dead worker's batch is
  // flagged for the provider check once, and the batch leaves when empty.
  EXPECT_EQ(Counts(ledger.Claim({a, other}, kNow)), (std::vector<int>{2, 1}));
  ASSERT_TRUE(ledger.Record({{a, NoticeState::kSent, "", ""}, {other, NoticeState::kSent, "", ""}}, kNow).ok());
  EXPECT_EQ(InFlight(true), "1/2");
  EXPECT_EQ(Counts(ledger.Claim({b, c}, kNow)), (std::vector<int>{2, 2}));
  EXPECT_EQ(InFlight(true), "1/2");
  ASSERT_TRUE(ledger.Record({{b, NoticeState::kSent, "", ""}, {c, NoticeState::kSuperseded, "", ""}}, kNow).ok());
  EXPECT_EQ(InFlight(), "0");
  EXPECT_EQ(db_->Exec("SELECT string_agg(state || '/' || attempts, ' ' ORDER BY customer_id) FROM notice_ledger"),
            "sent/2 sent/2 superseded/2 sent/1");
}

TEST_F(PgStoreTest, NoticesUnderALiveLeaseAreBusyForAnotherWorker) {
  auto i = Create(Request(), kNow);
  const NoticeKey a = SmsStarted(i->id, 1);
  const NoticeKey b = SmsStarted(i->id, 2);
  PgNoticeLedger owner(db_->uri()), other(db_->uri());
  ASSERT_TRUE(owner.Claim({a}, kNow).ok());
  auto claimed = other.Claim({a, b}, kNow);
  ASSERT_TRUE(claimed.ok()) << claimed.status();
  EXPECT_FALSE((*claimed)[0].send);
  EXPECT_TRUE((*claimed)[0].busy);
  EXPECT_TRUE((*claimed)[1].send);
  EXPECT_EQ(*owner.Fence(a), true);
  ASSERT_TRUE(owner.Record({{a, NoticeState::kSent, "", ""}}, kNow).ok());
  // Settled: no longer busy, final.
  claimed = other.Claim({a}, kNow);
  EXPECT_FALSE((*claimed)[0].send);
  EXPECT_FALSE((*claimed)[0].busy);
}

TEST_F(PgStoreTest, PausedWorkerWhoseLeaseWasTakenOverIsFencedAndKeepsNoOutcome) {
  // A worker paused past its lease (SIGSTOP, a VM stall) while another took
  // over its notices: on resuming it must send none of them.
  auto i = Create(Request(), kNow);
  const NoticeKey a = SmsStarted(i->id, 1);
  const NoticeKey b = SmsStarted(i->id, 2);
  PgNoticeLedger paused(db_->uri(), {"paused", absl::Milliseconds(30)}), new_owner(db_->uri());
  ASSERT_TRUE(paused.Claim({a, b}, kNow).ok());
  absl::SleepFor(absl::Milliseconds(40));
  auto claimed = new_owner.Claim({a}, kNow);
  EXPECT_EQ(Sends(claimed), std::vector<bool>{true});
  EXPECT_EQ(Counts(claimed), std::vector<int>{2});
  ASSERT_TRUE(new_owner.Record({{a, NoticeState::kSent, "new", ""}}, kNow).ok());
  // The paused worker resumes: a is no longer its own, b still is (nobody
  // wanted it), and its lease is renewed.
  EXPECT_EQ(*paused.Fence(a), false);
  EXPECT_EQ(*paused.Fence(b), true);
  EXPECT_EQ(db_->Exec("SELECT count(*) FROM notice_inflight WHERE owner = 'paused' AND lease_until > now()"), "1");
  ASSERT_TRUE(paused.Record({{b, NoticeState::kSent, "old", ""}}, kNow).ok());
  EXPECT_EQ(db_->Exec("SELECT string_agg(state || '/' || coalesce(provider_id, ''), ' ' ORDER BY customer_id) "
                      "FROM notice_ledger"),
            "sent/new sent/old");
  EXPECT_EQ(InFlight(), "0");
}

TEST_F(PgStoreTest, LateOutcomeOfATakenOverNoticeKeepsTheFirst) {
  auto i = Create(Request(), kNow);
  const NoticeKey a = SmsStarted(i->id, 1);
  PgNoticeLedger old_owner(db_->uri(), ShortLease()), new_owner(db_->uri());
  ASSERT_TRUE(old_owner.Claim({a}, kNow).ok());
  LetLeaseExpire();
  ASSERT_TRUE(new_owner.Claim({a}, kNow).ok());
  ASSERT_TRUE(new_owner.Record({{a, NoticeState::kSent, "new", ""}}, kNow).ok());
  ASSERT_TRUE(old_owner.Record({{a, NoticeState::kFailed, "", "late"}}, kNow).ok());
  EXPECT_EQ(db_->Exec("SELECT state || '/' || coalesce(provider_id, '') FROM notice_ledger"), "sent/new");
  EXPECT_EQ(InFlight(), "0");
}

TEST_F(PgStoreTest, ConcurrentClaimsOfTheSameNoticesHandEachToOneWorker) {
  auto i = Create(Request(), kNow);
  std::vector<NoticeLedger::ClaimRequest> keys;
  for (int c = 1; c <= 200; ++c) keys.push_back(NoticeKey{i->id, 1, NoticeKind::kOutageStarted, "", c, Channel::kSms});
  PgNoticeLedger one(db_->uri()), two(db_->uri());
  absl::StatusOr<std::vector<NoticeLedger::Claimed>> first, second;
  std::thread t([&] { first = one.Claim(keys, kNow); });
  second = two.Claim(keys, kNow);
  t.join();
  ASSERT_TRUE(first.ok() && second.ok());
  for (size_t k = 0; k < keys.size(); ++k) {
    EXPECT_NE((*first)[k].send, (*second)[k].send) << k;  // exactly one holds it
    EXPECT_EQ((*first)[k].busy, !(*first)[k].send) << k;
  }
}

// A claim that runs while another worker's Record of the same notice
// commits must see it either in flight (busy) or recorded (final), never
// in neither: that would send it a second time.
TEST_F(PgStoreTest, AClaimOverlappingAnotherWorkersRecordNeverSendsItAgain) {
  auto i = Create(Request(), kNow);
  const NoticeKey a = SmsStarted(i->id, 1);
  PgNoticeLedger owner(db_->uri(), {"owner", absl::Minutes(1)}), other(db_->uri());
  ASSERT_TRUE(owner.Claim({a}, kNow).ok());
  // The owner's Record, held open: its row written and its batch gone,
  // not yet committed.
  pqxx::connection record(db_->uri());
  pqxx::work tx(record);
  tx.exec_params("INSERT INTO notice_ledger (incident_id, incident_version, notice_kind, occasion, customer_id, "
                 "  channel, state, claimed_at, updated_at, attempts, delivery_attempts, incident_epoch) "
                 "VALUES ($1::uuid, 1, 'outage_started', '', 1, 'sms', 'sent', now(), now(), 1, 0, "
                 "  forewarn_incident_epoch($1::uuid))",
                 i->id);
  tx.exec0("DELETE FROM notice_inflight WHERE owner = 'owner'");
  absl::StatusOr<std::vector<NoticeLedger::Claimed>> claimed;
  std::atomic<bool> claim_done{false};
  std::thread claim([&] {
    claimed = other.Claim({a}, kNow);
    claim_done = true;
  });
  // The claim either finishes (it read the record's batch as still in
  // flight) or waits for the record's lock; then the record commits.
  for (int tries = 0; tries < 500 && !claim_done; ++tries) {
    if (db_->Exec("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'") != "0") break;
    absl::SleepFor(absl::Milliseconds(10));
  }
  tx.commit();
  claim.join();
  ASSERT_TRUE(claimed.ok()) << claimed.status();
  EXPECT_FALSE((*claimed)[0].send) << "recorded as sent by another worker while this claim ran";
  // And once the record is in: final, not busy.
  claimed = other.Claim({a}, kNow);
  ASSERT_TRUE(claimed.ok()) << claimed.status();
  EXPECT_FALSE((*claimed)[0].send);
  EXPECT_FALSE((*claimed)[0].busy);
}

TEST_F(PgStoreTest, KeyHashIsStable) {
  // Stored in notice_inflight: a new build must name a notice as the old one did.
  EXPECT_EQ(PgNoticeLedger::KeyHash({"6f1c2d9e-8a4b-4c7d-9e2f-1a3b5c7d9e0f", 3, NoticeKind::kMaintenanceReminder, "lead-24h", 42,
                                     Channel::kEmail}),
            -2632589092311560696);
}

TEST_F(PgStoreTest, LedgerRetryingAndDeadLetteredNotices) {
  auto i = Create(Request(), kNow);
  PgNoticeLedger ledger(db_->uri());
  const NoticeKey a = SmsStarted(i->id, 1);
  const NoticeKey b = SmsStarted(i->id, 2);
  ASSERT_TRUE(ledger.Claim({a, b}, kNow).ok());
  NoticeLedger::Outcome retrying{a, NoticeState::kRetrying, "", "gateway 503", 1};
  ASSERT_TRUE(ledger.Record({retrying}, kNow).ok());
  EXPECT_EQ(db_->Exec("SELECT state || '/' || delivery_attempts || '/' || error FROM notice_ledger "
                      "WHERE customer_id = 1"),
            "retrying/1/gateway 503");
  // The original copy waits; the retry copy (attempt 1) claims it.
  EXPECT_EQ(Sends(ledger.Claim({{a, 0}}, kNow)), std::vector<bool>{false});
  EXPECT_EQ(Sends(ledger.Claim({{a, 1}}, kNow)), std::vector<bool>{true});
  ASSERT_TRUE(ledger.Record({{a, NoticeState::kDead, "", "gateway 502", 2}}, kNow).ok());
  ASSERT_TRUE(ledger.Record({{b, NoticeState::kSent, "gw-2", ""}}, kNow).ok());
  EXPECT_EQ(*ledger.CountDead(), 1);
  EXPECT_EQ(*ledger.AreDead({b, a}), (std::vector<bool>{false, true}));
  // Dead is final for every copy but a replay, which starts the attempts again.
  EXPECT_EQ(Sends(ledger.Claim({{a, 5}}, kNow)), std::vector<bool>{false});
  EXPECT_EQ(Sends(ledger.Claim({{a, 0, true}, {b, 0, true}}, kNow)), (std::vector<bool>{true, false}));
  EXPECT_EQ(db_->Exec("SELECT state || '/' || delivery_attempts FROM notice_ledger WHERE customer_id = 1"),
            "claimed/0");
  EXPECT_EQ(*ledger.CountDead(), 0);
  // The delivery report lists dead letters with the failures.
  ASSERT_TRUE(ledger.Record({{a, NoticeState::kDead, "", "gateway 502", 5}}, kNow).ok());
  auto report = store_->Report(i->id, 10);
  ASSERT_TRUE(report.ok()) << report.status();
  ASSERT_EQ(report->failures.size(), 1u);
  EXPECT_EQ(report->failures[0].error, "gateway 502");
}

TEST_F(PgStoreTest, HistoryRecordsWhoChangedWhatInTheSameTransaction) {
  auto i = store_->Create(
      Request(), kNow, [&](const Incident& c) { return PlanNotices(Change::kCreated, c, kNow, {}); },
      ChangeAudit{"alice", "created unplanned_outage"});
  ASSERT_TRUE(i.ok()) << i.status();
  IncidentUpdate u;
  u.id = i->id;
  u.expected_restoration_at = kNow + absl::Hours(5);
  ASSERT_TRUE(store_->Update(u, kNow + absl::Minutes(5), {}, ChangeAudit{"bob", "expected_restoration_at: A -> B"})
                  .ok());
  ASSERT_TRUE(Resolve(i->id, kNow + absl::Hours(1)).ok());  // no audit given: "system"
  // A failed change (stale version) records nothing.
  u.expected_version = 1;
  EXPECT_FALSE(store_->Update(u, kNow, {}, ChangeAudit{"mallory", "x"}).ok());

  auto history = store_->History(i->id);
  ASSERT_TRUE(history.ok()) << history.status();
  ASSERT_EQ(history->size(), 3u);
  EXPECT_EQ((*history)[0].version, 1);
  EXPECT_EQ((*history)[0].change, "created");
  EXPECT_EQ((*history)[0].actor, "alice");
  EXPECT_EQ((*history)[0].summary, "created unplanned_outage");
  EXPECT_EQ((*history)[0].changed_at, kNow);
  EXPECT_EQ((*history)[0].snapshot.expected_restoration_at, kNow + absl::Hours(3));
  EXPECT_EQ((*history)[1].change, "updated");
  EXPECT_EQ((*history)[1].actor, "bob");
  EXPECT_EQ((*history)[1].changed_at, kNow + absl::Minutes(5));
  EXPECT_EQ((*history)[1].snapshot.expected_restoration_at, kNow + absl::Hours(5));
  EXPECT_EQ((*history)[2].change, "resolved");
  EXPECT_EQ((*history)[2].actor, "system");
  EXPECT_EQ((*history)[2].snapshot.state, IncidentState::kResolved);
  EXPECT_EQ(store_->History("00000000-0000-0000-0000-000000000000").status().code(), absl::StatusCode::kNotFound);
  // Writers that do not know the audit columns (the scheduler) still work.
  db_->Exec(absl::StrCat("INSERT INTO incident_versions (incident_id, version, change, state, services, regions, "
                         "reason_ar, reason_en, starts_at, expected_restoration_at, changed_at) SELECT id, 9, "
                         "'resolved', state, services, regions, reason_ar, reason_en, starts_at, "
                         "expected_restoration_at, updated_at FROM incidents WHERE id = '", i->id, "'"));
  EXPECT_EQ(store_->History(i->id)->back().actor, "system");
}

TEST_F(PgStoreTest, CompletenessComparesTheAudienceWithTheLedgerAndRedrivesTheMissing) {
  auto i = Create(Request(), kNow);
  ASSERT_TRUE(i.ok()) << i.status();
  // Audience: 1 by SMS and email, 2 by email (SMS off), 3 by email (no phone).
  auto c = store_->CheckCompleteness(i->id, 100, kNow);
  ASSERT_TRUE(c.ok()) << c.status();
  ASSERT_TRUE(c->kind.has_value());
  EXPECT_EQ(*c->kind, NoticeKind::kOutageStarted);
  EXPECT_EQ(c->version, 1);
  EXPECT_EQ(c->audience, 4);
  EXPECT_EQ(c->uninformed, 4);
  EXPECT_EQ(c->uninformed_customers, 3);
  EXPECT_EQ(c->missing, 4);

  PgNoticeLedger ledger(db_->uri());
  const auto [s1, e1, e2, e3] = StartedKeys(i->id);
  ASSERT_TRUE(ledger.Claim({s1, e1, e2, e3}, kNow).ok());
  ASSERT_TRUE(ledger
                  .Record({{s1, NoticeState::kSent, "p1", ""},
                           {e1, NoticeState::kSent, "p2", ""},
                           {e2, NoticeState::kFailed, "", "mailbox full"},
                           {e3, NoticeState::kSent, "p3", ""}},
                          kNow)
                  .ok());
  // A lost delivery: customer 3's row vanished.
  db_->Exec(absl::StrCat("DELETE FROM notice_ledger WHERE incident_id = '", i->id, "' AND customer_id = 3"));
  c = store_->CheckCompleteness(i->id, 100, kNow);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->audience, 4);
  EXPECT_EQ(c->uninformed, 2);
  EXPECT_EQ(c->uninformed_customers, 2);
  EXPECT_EQ(c->missing, 1);
  EXPECT_EQ(c->failed, 1);
  ASSERT_EQ(c->listed.size(), 2u);
  EXPECT_EQ(c->listed[0].customer_id, 2);
  EXPECT_EQ(c->listed[0].channel, Channel::kEmail);
  EXPECT_EQ(c->listed[0].state, NoticeState::kFailed);
  EXPECT_EQ(c->listed[1].customer_id, 3);
  EXPECT_FALSE(c->listed[1].state.has_value());  // no ledger row
  EXPECT_EQ(store_->CheckCompleteness(i->id, 1, kNow)->listed.size(), 1u);

  // While the fan-out may still be running (an unpublished event), nothing
  // is re-driven.
  const int64_t before = OutboxRows();
  c = store_->CheckCompleteness(i->id, 100, kNow, DecideRedrive);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_FALSE(c->redriven);
  EXPECT_NE(c->note.find("in progress"), std::string::npos) << c->note;
  EXPECT_EQ(OutboxRows(), before);

  // Settled: one new event for the current version and its notice.
  db_->Exec("UPDATE outbox SET published_at = now()");
  c = store_->CheckCompleteness(i->id, 100, kNow, DecideRedrive);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_TRUE(c->redriven) << c->note;
  EXPECT_EQ(OutboxRows(), before + 1);
  EXPECT_EQ(db_->Exec("SELECT version || ' ' || notice_kind FROM outbox WHERE published_at IS NULL"),
            "1 outage_started");

  // Only a permanent failure left: reported, not re-driven.
  db_->Exec("UPDATE outbox SET published_at = now()");
  ASSERT_TRUE(ledger.Claim({e3}, kNow).ok());
  ASSERT_TRUE(ledger.Record({{e3, NoticeState::kSent, "p4", ""}}, kNow).ok());
  c = store_->CheckCompleteness(i->id, 100, kNow, DecideRedrive);
  EXPECT_EQ(c->uninformed, 1);
  EXPECT_FALSE(c->redriven);
  EXPECT_EQ(OutboxRows(), before + 1);

  // A new version is compared against its own notice.
  IncidentUpdate u;
  u.id = i->id;
  u.expected_restoration_at = kNow + absl::Hours(4);
  ASSERT_TRUE(Update(u, kNow).ok());
  c = store_->CheckCompleteness(i->id, 100, kNow);
  EXPECT_EQ(c->version, 2);
  EXPECT_EQ(*c->kind, NoticeKind::kOutageUpdated);
  EXPECT_EQ(c->uninformed, 4);
  EXPECT_EQ(store_->UnpublishedOutboxCount().value_or(-1), 1);
}

TEST_F(PgStoreTest, CompletenessCountsAReceiptsOutcomeAndTheCustomersOtherChannel) {
  auto i = Create(Request(), kNow);
  ASSERT_TRUE(i.ok()) << i.status();
  // Audience: 1 by SMS and email, 2 by email (SMS off), 3 by email (no phone).
  PgNoticeLedger ledger(db_->uri());
  const auto [s1, e1, e2, e3] = StartedKeys(i->id);
  ASSERT_TRUE(ledger.Claim({s1, e1, e2, e3}, kNow).ok());
  ASSERT_TRUE(ledger
                  .Record({{s1, NoticeState::kSent, "p1", ""},
                           {e1, NoticeState::kSent, "p2", ""},
                           {e2, NoticeState::kSent, "p3", ""},
                           {e3, NoticeState::kSent, "p4", ""}},
                          kNow)
                  .ok());
  auto state = [&](int64_t customer, const char* channel, const char* to) {
    db_->Exec(absl::StrCat("UPDATE notice_ledger SET state = '", to, "' WHERE incident_id = '", i->id,
                           "' AND customer_id = ", customer, " AND channel = '", channel, "'"));
  };
  // Delivered counts as told; an undelivered SMS of a customer whose email
  // went counts as told too; an undelivered email with no other channel
  // does not.
  state(1, "sms", "undelivered");
  state(2, "email", "delivered");
  state(3, "email", "expired");
  auto c = store_->CheckCompleteness(i->id, 100, kNow);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->audience, 4);
  EXPECT_EQ(c->uninformed, 1);
  ASSERT_EQ(c->listed.size(), 1u);
  EXPECT_EQ(c->listed[0].customer_id, 3);
  EXPECT_EQ(c->listed[0].state, NoticeState::kExpired);
  // Both channels undelivered: not told.
  state(1, "email", "undelivered");
  EXPECT_EQ(store_->CheckCompleteness(i->id, 100, kNow)->uninformed, 3);
}

TEST_F(PgStoreTest, CompletenessOfAnIbanChangeUsesTheBeneficiaryNoticeForBeneficiaries) {
  db_->Exec("INSERT INTO accounts VALUES ('SA0380000000608010167519', 1);"
            "INSERT INTO beneficiaries VALUES (2, 'SA0380000000608010167519', 'rent');");
  auto i = Create(IbanRequest("iban-1"), kNow);
  ASSERT_TRUE(i.ok()) << i.status();
  // The IBAN notice waits for its lead time: queue it as the scheduler would.
  db_->Exec(absl::StrCat("INSERT INTO outbox (incident_id, version, notice_kind, created_at) VALUES ('", i->id,
                         "', 1, 'iban_change_holder', now())"));
  PgNoticeLedger ledger(db_->uri());
  NoticeKey holder{i->id, 1, NoticeKind::kIbanChangeHolder, "", 1, Channel::kSms};
  NoticeKey beneficiary{i->id, 1, NoticeKind::kIbanChangeBeneficiary, "", 2, Channel::kEmail};
  ASSERT_TRUE(ledger.Claim({holder, beneficiary}, kNow).ok());
  ASSERT_TRUE(ledger.Record({{holder, NoticeState::kSent, "p", ""}, {beneficiary, NoticeState::kSent, "p", ""}}, kNow)
                  .ok());
  auto c = store_->CheckCompleteness(i->id, 100, kNow);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(*c->kind, NoticeKind::kIbanChangeHolder);
  EXPECT_EQ(c->audience, 3);  // holder 1 by SMS and email, beneficiary 2 by email
  EXPECT_EQ(c->uninformed, 1);
  ASSERT_EQ(c->listed.size(), 1u);
  EXPECT_EQ(c->listed[0].customer_id, 1);
  EXPECT_EQ(c->listed[0].channel, Channel::kEmail);
}

}  // namespace
}  // namespace forewarn
