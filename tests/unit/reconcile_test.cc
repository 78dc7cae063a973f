#include "services/core/reconcile.h"

#include <gtest/gtest.h>

#include "services/core/incident_service.h"
#include "tests/unit/fakes.h"

namespace forewarn {
namespace {

struct RedriveCase {
  const char* name;
  int64_t missing, pending, failed, dead;
  FanOutActivity activity;
  bool redrive;
  const char* note;  // a part of the note; "" when none is set
};

TEST(DecideRedrive, RedrivesOnlyTheUnreachedWhenNoFanOutIsUnderWay) {
  const RedriveCase cases[] = {
      {"missing, quiet", 3, 0, 0, 0, {}, true, ""},
      {"pending, quiet", 0, 2, 0, 0, {}, true, ""},
      {"missing beside failed and dead", 1, 0, 4, 5, {}, true, ""},
      {"nothing uninformed", 0, 0, 0, 0, {}, false, "nothing to re-drive"},
      {"only failed", 0, 0, 2, 0, {}, false, "only permanently failed notices remain"},
      {"dead and failed", 0, 0, 2, 1, {}, false, "see forewarn dlq list"},
      {"events unpublished", 3, 0, 0, 0, {4, 0}, false, "fan-out in progress (4 events not yet published, 0"},
      {"notices being sent", 3, 0, 0, 0, {0, 7}, false, "0 events not yet published, 7 notices being sent"},
      {"dead while sending", 0, 0, 0, 1, {0, 7}, false, "see forewarn dlq list"},
  };
  for (const auto& c : cases) {
    Completeness check;
    check.missing = c.missing;
    check.pending = c.pending;
    check.failed = c.failed;
    check.dead = c.dead;
    EXPECT_EQ(DecideRedrive(check, c.activity), c.redrive) << c.name;
    if (*c.note == '\0') {
      EXPECT_EQ(check.note, "") << c.name;
    } else {
      EXPECT_NE(check.note.find(c.note), std::string::npos) << c.name << ": " << check.note;
    }
  }
}

class ReconcileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    NewIncident r;
    r.idempotency_key = "k1";
    r.services = {"electricity"};
    r.regions = {"riyadh"};
    r.reason = {"عطل", "Fault"};
    r.expected_restoration_at = clock_.Now() + absl::Hours(2);
    auto created = service_.Create(r);
    ASSERT_TRUE(created.ok()) << created.status();
    id_ = created->id;
    store_.completeness.kind = NoticeKind::kOutageStarted;
    store_.completeness.missing = 2;
    store_.completeness.uninformed = 2;
  }
  testing::FakeIncidentStore store_;
  FakeClock clock_{absl::FromUnixSeconds(1'790'000'000)};
  IncidentService service_{store_, clock_};
  std::string id_;
};

TEST_F(ReconcileTest, RedriveWaitsForAFanOutUnderWay) {
  store_.activity.notices_sending = 5;
  auto c = service_.Reconcile(id_, /*redrive=*/true);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_FALSE(c->redriven);
  EXPECT_NE(c->note.find("5 notices being sent"), std::string::npos) << c->note;
  store_.activity.notices_sending = 0;
  c = service_.Reconcile(id_, /*redrive=*/true);
  EXPECT_TRUE(c->redriven);
  EXPECT_EQ(c->note, "");
}

TEST_F(ReconcileTest, DryRunNeverRedrives) {
  auto c = service_.Reconcile(id_, /*redrive=*/false);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_FALSE(c->redriven);
  EXPECT_EQ(c->missing, 2);
}

TEST_F(ReconcileTest, SaysSoWhenNothingWasQueuedForTheCurrentVersion) {
  store_.completeness.kind.reset();
  auto c = service_.Reconcile(id_, /*redrive=*/true);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_FALSE(c->redriven);
  EXPECT_EQ(c->note, "no notice has been queued for version 1 yet");
}

}  // namespace
}  // namespace forewarn
