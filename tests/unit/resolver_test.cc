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

}  // namespace
}  // namespace forewarn
