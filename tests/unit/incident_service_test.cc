#include "services/core/incident_service.h"

#include <gtest/gtest.h>

#include "tests/unit/fakes.h"

namespace forewarn {
namespace {

const absl::Time kStart = absl::FromUnixSeconds(1'790'000'000);

class IncidentServiceTest : public ::testing::Test {
 protected:
  NewIncident Request() {
    NewIncident r;
    r.idempotency_key = "k1";
    r.services = {"electricity"};
    r.regions = {"riyadh"};
    r.reason = {"عطل", "Fault"};
    r.expected_restoration_at = kStart + absl::Hours(2);
    return r;
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

}  // namespace
}  // namespace forewarn
