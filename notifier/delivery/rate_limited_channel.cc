#include "notifier/delivery/rate_limited_channel.h"

#include <utility>

#include "absl/time/clock.h"

namespace forewarn {

RateLimitedChannel::RateLimitedChannel(DeliveryChannel& inner, TokenBucket& bucket, SleepFn sleep)
    : ForwardingChannel(inner),
      bucket_(bucket),
      sleep_(sleep ? std::move(sleep) : SleepFn([](absl::Duration d) { absl::SleepFor(d); })) {}

absl::StatusOr<std::string> RateLimitedChannel::Send(const Recipient& to, const RenderedNotice& notice) {
  // Another thread sharing the bucket may take the token we waited for, so
  // loop until TryTake succeeds; each wait is what the bucket says is left.
  while (!bucket_.TryTake()) {
    absl::Duration wait = bucket_.TimeUntilAvailable();
    if (wait <= absl::ZeroDuration()) wait = absl::Milliseconds(1);  // lost a race: yield briefly
    sleep_(wait);
  }
  return inner().Send(to, notice);
}

}  // namespace forewarn
