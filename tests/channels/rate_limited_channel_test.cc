#include "notifier/delivery/rate_limited_channel.h"

#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "services/core/clock.h"
#include "services/core/token_bucket.h"

namespace forewarn {
namespace {

const absl::Time kStart = absl::FromUnixSeconds(1768046400);

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
