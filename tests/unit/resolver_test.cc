#include "services/core/resolver.h"

#include <gtest/gtest.h>

#include "tests/support/new_incidents.h"
#include "tests/unit/fakes.h"

namespace forewarn {
namespace {

class ResolverTest : public ::testing::Test {
 protected:
  void SetUp() override {
    incident_ = *store_.Create(testing::OutageIncident("k", "water", "jeddah", {"صيانة", "Maintenance"},
                                                       absl::FromUnixSeconds(2'000'000'000)),
                               absl::FromUnixSeconds(1'900'000'000), testing::NoPlan);
    audience_.recipients = {{1, Channel::kSms, "+966500000001", "ar", "Asia/Riyadh", "A", AudienceRole::kAffected, ""},
                            {1, Channel::kEmail, "a@example.com", "ar", "Asia/Riyadh", "A", AudienceRole::kAffected, ""},
                            {2, Channel::kEmail, "b@example.com", "en", "Europe/London", "B", AudienceRole::kAffected, ""}};
  }
  testing::FakeIncidentStore store_;
  testing::FakeAudience audience_;
  testing::FakeSink sink_;
  Resolver resolver_{store_, audience_, sink_};
  Incident incident_;
};

TEST_F(ResolverTest, EnqueuesOneJobPerRecipientAndFlushes) {
  auto n = resolver_.Handle({incident_.id, 1, NoticeKind::kOutageStarted, 7, ""});
  ASSERT_TRUE(n.ok()) << n.status();
  EXPECT_EQ(*n, 3);
  ASSERT_EQ(sink_.acked.size(), 3u);
  EXPECT_TRUE(sink_.pending.empty());
  EXPECT_EQ(sink_.acked[0].incident_id, incident_.id);
  EXPECT_EQ(sink_.acked[0].version, 1);
  EXPECT_EQ(sink_.acked[1].recipient.channel, Channel::kEmail);
  EXPECT_EQ(sink_.acked[2].recipient.customer_id, 2);
}

TEST_F(ResolverTest, FailsWhenTheSinkCannotAcknowledge) {
  sink_.flush_error = absl::UnavailableError("broker down");
  EXPECT_EQ(resolver_.Handle({incident_.id, 1, NoticeKind::kOutageStarted, 7, ""}).status().code(),
            absl::StatusCode::kUnavailable);
}

TEST_F(ResolverTest, UnknownVersionIsNotFound) {
  EXPECT_EQ(resolver_.Handle({incident_.id, 9, NoticeKind::kOutageUpdated, 8, ""}).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_TRUE(sink_.acked.empty());
}

TEST_F(ResolverTest, ANewerVersionSupersedesTheFanOutButNotTheAudienceChanges) {
  IncidentUpdate u;
  u.id = incident_.id;
  u.targets = Targets{{"jeddah", "makkah"}, {}, "", std::nullopt};
  ASSERT_TRUE(store_.Update(u, absl::FromUnixSeconds(1'900'000'100), {}).ok());
  u.targets->regions = {"makkah"};
  ASSERT_TRUE(store_.Update(u, absl::FromUnixSeconds(1'900'000'200), {}).ok());  // version 3

  EXPECT_EQ(*resolver_.Handle({incident_.id, 2, NoticeKind::kOutageUpdated, 8, "stayed"}), 0);
  EXPECT_TRUE(audience_.asked.empty());
  audience_.by_scope[AudienceScope::kJoined] = {audience_.recipients[2]};
  audience_.by_scope[AudienceScope::kLeft] = {audience_.recipients[0], audience_.recipients[1]};
  EXPECT_EQ(*resolver_.Handle({incident_.id, 2, NoticeKind::kOutageStarted, 9, "joined"}), 1);
  EXPECT_EQ(*resolver_.Handle({incident_.id, 2, NoticeKind::kOutageRestored, 10, "left"}), 2);
  ASSERT_EQ(audience_.asked.size(), 2u);
  // Each against the version before it.
  EXPECT_EQ(audience_.asked[0].scope, AudienceScope::kJoined);
  EXPECT_EQ(audience_.asked[0].version, 2);
  EXPECT_EQ(audience_.asked[0].previous_version, 1);
  EXPECT_EQ(audience_.asked[1].scope, AudienceScope::kLeft);
  ASSERT_EQ(sink_.acked.size(), 3u);
  EXPECT_EQ(sink_.acked[0].occasion, "joined");
  EXPECT_EQ(sink_.acked[0].recipient.customer_id, 2);
  EXPECT_EQ(sink_.acked[1].kind, NoticeKind::kOutageRestored);
}

}  // namespace
}  // namespace forewarn
