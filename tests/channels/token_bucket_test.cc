#include "notifier/delivery/token_bucket.h"

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "notifier/delivery/rate_limited_channel.h"
#include "services/core/clock.h"

namespace forewarn {
namespace {

const absl::Time kStart = absl::FromUnixSeconds(1768046400);

TEST(TokenBucket, StartsFullThenRefillsAtTheRate) {
  FakeClock clock(kStart);
  TokenBucket bucket(/*rate_per_second=*/2, /*burst=*/3, clock);
  EXPECT_EQ(bucket.TimeUntilAvailable(), absl::ZeroDuration());
  EXPECT_TRUE(bucket.TryTake());
  EXPECT_TRUE(bucket.TryTake());
  EXPECT_TRUE(bucket.TryTake());
  EXPECT_FALSE(bucket.TryTake());
  EXPECT_EQ(bucket.TimeUntilAvailable(), absl::Milliseconds(500));
  EXPECT_EQ(bucket.TimeUntilAvailable(2), absl::Seconds(1));

  clock.Advance(absl::Milliseconds(300));
  EXPECT_FALSE(bucket.TryTake());
  EXPECT_EQ(bucket.TimeUntilAvailable(), absl::Milliseconds(200));
  clock.Advance(absl::Milliseconds(200));
  EXPECT_TRUE(bucket.TryTake());
  EXPECT_FALSE(bucket.TryTake());
}

TEST(TokenBucket, NeverHoldsMoreThanTheBurst) {
  FakeClock clock(kStart);
  TokenBucket bucket(10, 5, clock);
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(bucket.TryTake());
  clock.Advance(absl::Hours(1));
  int taken = 0;
  while (bucket.TryTake()) ++taken;
  EXPECT_EQ(taken, 5);
}

TEST(TokenBucket, FractionalRatesAndMultiTokenRequests) {
  FakeClock clock(kStart);
  TokenBucket bucket(0.5, 2, clock);  // one message every two seconds
  EXPECT_TRUE(bucket.TryTake(2));
  EXPECT_EQ(bucket.TimeUntilAvailable(), absl::Seconds(2));
  EXPECT_EQ(bucket.TimeUntilAvailable(2), absl::Seconds(4));
  clock.Advance(absl::Seconds(2));
  EXPECT_FALSE(bucket.TryTake(2));  // a failed take takes nothing
  EXPECT_TRUE(bucket.TryTake(1));
  // Many small refills add up exactly (no floating-point starvation).
  TokenBucket tenth(10, 1, clock);
  ASSERT_TRUE(tenth.TryTake());
  for (int i = 0; i < 10; ++i) clock.Advance(absl::Milliseconds(10));
  EXPECT_TRUE(tenth.TryTake());
}

TEST(TokenBucket, MoreThanTheBurstIsNeverAvailable) {
  FakeClock clock(kStart);
  TokenBucket bucket(100, 3, clock);
  EXPECT_EQ(bucket.TimeUntilAvailable(4), absl::InfiniteDuration());
  EXPECT_FALSE(bucket.TryTake(4));
  EXPECT_TRUE(bucket.TryTake(3));
}

TEST(TokenBucket, ZeroRateMeansUnlimited) {
  FakeClock clock(kStart);
  TokenBucket bucket(0, 1, clock);
  for (int i = 0; i < 1000; ++i) ASSERT_TRUE(bucket.TryTake());
  EXPECT_EQ(bucket.TimeUntilAvailable(), absl::ZeroDuration());
}

TEST(TokenBucket, AClockSteppingBackAddsNothing) {
  FakeClock clock(kStart);
  TokenBucket bucket(1, 1, clock);
  ASSERT_TRUE(bucket.TryTake());
  clock.Set(kStart - absl::Hours(1));
  EXPECT_FALSE(bucket.TryTake());
  clock.Set(kStart + absl::Seconds(1));
  EXPECT_TRUE(bucket.TryTake());
}

// Records when each notice reached the provider.
class RecordingChannel final : public DeliveryChannel {
 public:
  explicit RecordingChannel(const Clock& clock) : clock_(clock) {}
  absl::StatusOr<std::string> Send(const Recipient& to, const RenderedNotice& notice) override {
    std::lock_guard lock(mu_);
    sent_at.push_back(clock_.Now());
    if (!fail_with.ok()) return fail_with;
    return "p-" + notice.message_id;
  }
  std::mutex mu_;
  std::vector<absl::Time> sent_at;
  absl::Status fail_with;

 private:
  const Clock& clock_;
};

TEST(RateLimitedChannel, WaitsForATokenBeforeEachSend) {
  FakeClock clock(kStart);
  RecordingChannel inner(clock);
  TokenBucket bucket(/*rate_per_second=*/4, /*burst=*/2, clock);
  absl::Duration slept;
  RateLimitedChannel channel(inner, bucket, [&](absl::Duration d) {
    slept += d;
    clock.Advance(d);
  });
  for (int i = 0; i < 6; ++i) {
    auto r = channel.Send(Recipient{}, RenderedNotice{"", "t", "", std::to_string(i)});
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(*r, "p-" + std::to_string(i));
  }
  // Two at once (the burst), then one every 250 ms.
  ASSERT_EQ(inner.sent_at.size(), 6u);
  const absl::Duration want[] = {absl::ZeroDuration(),    absl::ZeroDuration(),    absl::Milliseconds(250),
                                 absl::Milliseconds(500), absl::Milliseconds(750), absl::Seconds(1)};
  for (int i = 0; i < 6; ++i) EXPECT_EQ(inner.sent_at[i] - kStart, want[i]) << i;
  EXPECT_EQ(slept, absl::Seconds(1));
}

TEST(RateLimitedChannel, PassesErrorsThroughUnchanged) {
  FakeClock clock(kStart);
  RecordingChannel inner(clock);
  inner.fail_with = absl::UnavailableError("gateway down");
  TokenBucket bucket(1, 1, clock);
  RateLimitedChannel channel(inner, bucket, [&](absl::Duration d) { clock.Advance(d); });
  auto r = channel.Send(Recipient{}, RenderedNotice{});
  EXPECT_EQ(r.status(), absl::UnavailableError("gateway down"));
}

TEST(RateLimitedChannel, ThreadsSharingABucketShareTheLimit) {
  SystemClock clock;
  TokenBucket bucket(/*rate_per_second=*/100, /*burst=*/1, clock);
  RecordingChannel inner(clock);
  std::vector<std::thread> threads;
  const absl::Time start = absl::Now();
  for (int t = 0; t < 3; ++t) {
    threads.emplace_back([&] {
      RateLimitedChannel channel(inner, bucket);  // real sleep
      for (int i = 0; i < 10; ++i) ASSERT_TRUE(channel.Send(Recipient{}, RenderedNotice{}).ok());
    });
  }
  for (auto& th : threads) th.join();
  // 30 sends at 100/s with a burst of 1 take at least 290 ms.
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(285));
  EXPECT_EQ(inner.sent_at.size(), 30u);
}

}  // namespace
}  // namespace forewarn
