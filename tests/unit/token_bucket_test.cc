#include "services/core/token_bucket.h"

#include "absl/time/time.h"
#include "gtest/gtest.h"
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

}  // namespace
}  // namespace forewarn
