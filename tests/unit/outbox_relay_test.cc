#include "services/core/outbox_relay.h"

#include <gtest/gtest.h>

#include "tests/unit/fakes.h"

namespace forewarn {
namespace {

TEST(OutboxRelay, PublishesThenMarksPublished) {
  testing::FakeOutbox outbox;
  testing::FakePublisher publisher;
  outbox.events = {{"a", 1, NoticeKind::kOutageStarted, 1, ""}, {"a", 2, NoticeKind::kOutageUpdated, 2, ""}};
  OutboxRelay relay(outbox, publisher, {.batch_size = 10});
  auto n = relay.RunOnce();
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 2);
  EXPECT_EQ(publisher.published.size(), 2u);
  EXPECT_EQ(outbox.published.size(), 2u);
  EXPECT_EQ(*relay.RunOnce(), 0);
}

TEST(OutboxRelay, LeavesRowsUnpublishedWhenTheBrokerFails) {
  testing::FakeOutbox outbox;
  testing::FakePublisher publisher;
  outbox.events = {{"a", 1, NoticeKind::kOutageStarted, 1, ""}};
  publisher.error = absl::UnavailableError("broker down");
  OutboxRelay relay(outbox, publisher, {});
  EXPECT_EQ(relay.RunOnce().status().code(), absl::StatusCode::kUnavailable);
  EXPECT_TRUE(outbox.published.empty());
  publisher.error = absl::OkStatus();
  EXPECT_EQ(*relay.RunOnce(), 1);
  EXPECT_EQ(outbox.published.size(), 1u);
}

TEST(OutboxRelay, RespectsTheBatchSize) {
  testing::FakeOutbox outbox;
  testing::FakePublisher publisher;
  for (int i = 1; i <= 5; ++i) outbox.events.push_back({"a", i, NoticeKind::kOutageUpdated, i, ""});
  OutboxRelay relay(outbox, publisher, {.batch_size = 2});
  EXPECT_EQ(*relay.RunOnce(), 2);
  EXPECT_EQ(*relay.RunOnce(), 2);
  EXPECT_EQ(*relay.RunOnce(), 1);
  EXPECT_EQ(publisher.published.back().outbox_id, 5);
}

}  // namespace
}  // namespace forewarn
