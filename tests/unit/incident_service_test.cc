#include "services/core/incident_service.h"

#include <gtest/gtest.h>

#include "absl/strings/match.h"

#include "tests/support/new_incidents.h"
#include "tests/unit/fakes.h"

namespace forewarn {
namespace {

const absl::Time kStart = absl::FromUnixSeconds(1'790'000'000);

class IncidentServiceTest : public ::testing::Test {
 protected:
  NewIncident Request() {
    return testing::OutageIncident("k1", "electricity", "riyadh", {"عطل", "Fault"}, kStart + absl::Hours(2));
  }
  // An incident whose completeness check finds `missing` recipients without
  // a ledger row for its started notice.
  std::string IncidentWithMissing(int64_t missing) {
    auto i = service_.Create(Request());
    EXPECT_TRUE(i.ok()) << i.status();
    store_.completeness.kind = NoticeKind::kOutageStarted;
    store_.completeness.missing = missing;
    store_.completeness.uninformed = missing;
    return i.ok() ? i->id : "";
  }
  testing::FakeIncidentStore store_;
  FakeClock clock_{kStart};
  IncidentService service_{store_, clock_};
};

TEST_F(IncidentServiceTest, CreateDefaultsStartToTheInjectedNow) {
  auto i = service_.Create(Request());
  ASSERT_TRUE(i.ok()) << i.status();
  EXPECT_EQ(i->starts_at, kStart);
  EXPECT_EQ(i->version, 1);
}

// Wherever an incident is named, its reference does as well as its id, typed
// as a customer reads it out; what is neither is refused naming the field.
TEST_F(IncidentServiceTest, ResolvesAReferenceAsTypedAndRefusesWhatIsNeitherNamingTheField) {
  auto i = service_.Create(Request());
  ASSERT_TRUE(i.ok()) << i.status();
  ASSERT_EQ(i->ref, "OUT-0001");
  for (const char* typed : {"OUT-0001", "out-0001", " out-oooI ", "Out-OOOl"}) {
    auto id = service_.ResolveId("id", typed);
    ASSERT_TRUE(id.ok()) << typed << ": " << id.status();
    EXPECT_EQ(*id, i->id) << typed;
  }
  EXPECT_EQ(*service_.ResolveId("id", i->id), i->id);
  EXPECT_EQ(*service_.ResolveId("incident_id", ""), "") << "optional fields stay empty";
  auto unknown = service_.ResolveId("id", "OUT-0002");
  EXPECT_EQ(unknown.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(unknown.status().message(), "incident OUT-0002 not found");
  for (const char* bad : {"OUT-12", "not-an-incident", "OUT-00U1", "12345678-1234-1234-1234-12345678901"}) {
    auto refused = service_.ResolveId("incident_id", bad);
    EXPECT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_TRUE(absl::StartsWith(refused.status().message(), "incident_id: '")) << refused.status();
  }
}

TEST_F(IncidentServiceTest, CreateRejectsInvalidInputBeforeTouchingTheStore) {
  auto r = Request();
  r.reason.en.clear();
  EXPECT_EQ(service_.Create(r).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(store_.List({})->incidents.empty());
}

TEST_F(IncidentServiceTest, UpdateValidatesAgainstTheCurrentIncident) {
  auto i = service_.Create(Request());
  ASSERT_TRUE(i.ok());
  IncidentUpdate u;
  u.id = i->id;
  u.expected_restoration_at = kStart - absl::Hours(1);
  EXPECT_EQ(service_.Update(u).status().code(), absl::StatusCode::kInvalidArgument);
  u.expected_restoration_at = kStart + absl::Hours(5);
  auto updated = service_.Update(u);
  ASSERT_TRUE(updated.ok()) << updated.status();
  EXPECT_EQ(updated->version, 2);
  EXPECT_EQ(updated->expected_restoration_at, kStart + absl::Hours(5));
}

TEST_F(IncidentServiceTest, BackDatingWindowComesFromTheConfiguredLimitsAndTheInjectedClock) {
  ValidationLimits limits;
  limits.max_backdate = absl::Hours(2);
  IncidentService service(store_, clock_, {}, limits);
  auto r = Request();
  r.starts_at = kStart - absl::Hours(1);
  clock_.Advance(absl::Minutes(59));  // started 1h59m before the clock's now: inside the window
  ASSERT_TRUE(service.Create(r).ok());
  r.idempotency_key = "k2";
  clock_.Advance(absl::Minutes(2));  // now 2h01m: outside
  auto refused = service.Create(r);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(refused.status().message(), "starts_at: more than 2h in the past (the back-dating window)");
  EXPECT_EQ(store_.List({})->incidents.size(), 1u);
}

TEST_F(IncidentServiceTest, UpdateRefusesAnEstimateThatTheClockHasAlreadyPassed) {
  auto i = service_.Create(Request());
  ASSERT_TRUE(i.ok());
  clock_.Advance(absl::Hours(3));  // the estimate (start + 2h) has passed
  IncidentUpdate u;
  u.id = i->id;
  u.expected_restoration_at = kStart + absl::Hours(2) + absl::Minutes(30);  // still in the past
  auto refused = service_.Update(u);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(refused.status().message(), "expected_restoration_at: must be in the future");
  u.expected_restoration_at = kStart + absl::Hours(4);
  EXPECT_TRUE(service_.Update(u).ok());
}

TEST_F(IncidentServiceTest, UpdateOfAResolvedIncidentIsAFailedPrecondition) {
  auto i = service_.Create(Request());
  ASSERT_TRUE(service_.Resolve(i->id, 0).ok());
  IncidentUpdate u;
  u.id = i->id;
  u.expected_restoration_at = kStart + absl::Hours(5);
  EXPECT_EQ(service_.Update(u).status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST_F(IncidentServiceTest, MutationsCarryTheirNoticePlan) {
  auto i = service_.Create(Request());
  ASSERT_TRUE(i.ok());
  ASSERT_EQ(store_.plans.size(), 1u);
  EXPECT_EQ(store_.plans[0].notices[0].kind, NoticeKind::kOutageStarted);
  EXPECT_EQ(*store_.plans[0].notices[1].due_at, kStart + absl::Hours(2) + absl::Minutes(15));
  ASSERT_TRUE(service_.Resolve(i->id, 0).ok());
  EXPECT_EQ(store_.plans[1].notices[0].kind, NoticeKind::kOutageRestored);
  EXPECT_TRUE(store_.plans[1].cancel_pending);
}

TEST_F(IncidentServiceTest, OnlyPlannedChangesCanBeCancelled) {
  auto outage = service_.Create(Request());
  EXPECT_EQ(service_.Cancel(outage->id, 0).status().code(), absl::StatusCode::kFailedPrecondition);
  auto m = Request();
  m.idempotency_key = "m1";
  m.kind = IncidentKind::kPlannedMaintenance;
  m.starts_at = kStart + absl::Hours(72);
  m.expected_restoration_at = kStart + absl::Hours(76);
  auto planned = service_.Create(m);
  ASSERT_TRUE(planned.ok()) << planned.status();
  auto cancelled = service_.Cancel(planned->id, 0);
  ASSERT_TRUE(cancelled.ok());
  EXPECT_EQ(cancelled->state, IncidentState::kCancelled);
  EXPECT_EQ(store_.plans.back().notices[0].kind, NoticeKind::kMaintenanceCancelled);
  EXPECT_EQ(service_.Cancel(planned->id, 0).status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST_F(IncidentServiceTest, MalformedIdsAreInvalidArguments) {
  EXPECT_EQ(service_.Get("not-a-uuid").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(service_.Resolve("", 0).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(service_.Report("x", 0).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(IncidentServiceTest, ListRejectsOutOfRangePageSize) {
  ListFilter f;
  f.page_size = 501;
  EXPECT_EQ(service_.List(f).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(IncidentServiceTest, EveryChangeRecordsItsActorAndWhatChanged) {
  auto i = service_.Create(Request(), "grid-scada");
  ASSERT_TRUE(i.ok()) << i.status();
  IncidentUpdate u;
  u.id = i->id;
  u.expected_restoration_at = kStart + absl::Hours(5);
  u.reason = LocalizedText{"عطل في المحول", "Transformer fault"};
  ASSERT_TRUE(service_.Update(u, "alice").ok());
  ASSERT_TRUE(service_.Resolve(i->id, 0, "bob").ok());

  auto history = service_.History(i->id);
  ASSERT_TRUE(history.ok()) << history.status();
  ASSERT_EQ(history->size(), 3u);
  EXPECT_EQ((*history)[0].actor, "grid-scada");
  EXPECT_EQ((*history)[0].change, "created");
  EXPECT_EQ((*history)[0].summary,
            "created unplanned_outage; services: electricity; regions: riyadh; starts_at: 2026-09-21T14:13:20Z; "
            "expected_restoration_at: 2026-09-21T16:13:20Z; reason.en: \"Fault\"");
  EXPECT_EQ((*history)[1].actor, "alice");
  EXPECT_EQ((*history)[1].summary,
            "expected_restoration_at: 2026-09-21T16:13:20Z -> 2026-09-21T19:13:20Z; "
            "reason.en: \"Fault\" -> \"Transformer fault\"; reason.ar: \"عطل\" -> \"عطل في المحول\"");
  EXPECT_EQ((*history)[2].actor, "bob");
  EXPECT_EQ((*history)[2].summary, "state: open -> resolved");
  // Callers that name nobody (internal use) are recorded as "system".
  auto other = Request();
  other.idempotency_key = "k2";
  auto j = service_.Create(other);
  ASSERT_TRUE(j.ok());
  EXPECT_EQ(service_.History(j->id)->at(0).actor, "system");
  EXPECT_EQ(service_.History("00000000-0000-0000-0000-000000000099").status().code(), absl::StatusCode::kNotFound);
}

TEST(DescribeUpdate, ShortensLongTextsWithoutSplittingCharacters) {
  Incident before, after;
  before.reason.ar = "قديم";
  after.reason.ar = "";
  for (int k = 0; k < 100; ++k) after.reason.ar += "ع";  // 2 bytes each
  const std::string d = DescribeUpdate(before, after);
  EXPECT_EQ(d.rfind("reason.ar: \"قديم\" -> \"", 0), 0u) << d;
  EXPECT_NE(d.find("...\""), std::string::npos) << d;
  EXPECT_EQ(DescribeUpdate(before, before), "no field changed");
}

TEST_F(IncidentServiceTest, ReconcileValidatesAndAsksTheStoreToRedrive) {
  const std::string id = IncidentWithMissing(3);
  auto dry = service_.Reconcile(id, /*redrive=*/false);
  ASSERT_TRUE(dry.ok()) << dry.status();
  EXPECT_FALSE(dry->redriven);
  EXPECT_EQ(dry->uninformed, 3);
  EXPECT_TRUE(service_.Reconcile(id, /*redrive=*/true)->redriven);
  EXPECT_EQ(service_.Reconcile("nope", true).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(service_.Reconcile(id, true, -1).status().code(), absl::StatusCode::kInvalidArgument);
}

// A reconcile asks the core's DecideRedrive (services/core/reconcile.h),
// with the fan-out activity the store read.
TEST_F(IncidentServiceTest, ReconcileWaitsForAFanOutUnderWay) {
  const std::string id = IncidentWithMissing(2);
  store_.activity.notices_sending = 5;
  auto c = service_.Reconcile(id, /*redrive=*/true);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_FALSE(c->redriven);
  EXPECT_NE(c->note.find("5 notices being sent"), std::string::npos) << c->note;
  store_.activity.notices_sending = 0;
  c = service_.Reconcile(id, /*redrive=*/true);
  EXPECT_TRUE(c->redriven);
  EXPECT_EQ(c->note, "");
}

TEST_F(IncidentServiceTest, ReconcileSaysSoWhenNothingWasQueuedForTheCurrentVersion) {
  const std::string id = IncidentWithMissing(2);
  store_.completeness.kind.reset();
  auto c = service_.Reconcile(id, /*redrive=*/true);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_FALSE(c->redriven);
  EXPECT_EQ(c->note, "no notice has been queued for version 1 yet");
}

}  // namespace
}  // namespace forewarn
