#pragma once

#include <functional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "services/core/token_bucket.h"
#include "services/core/model.h"
#include "notifier/delivery/forwarding_channel.h"
#include "services/core/ports.h"

namespace forewarn {

// A DeliveryChannel that sends through `inner` no faster than `bucket`
// allows: before each Send it takes one token, sleeping (through the
// injectable `sleep`, absl::SleepFor by default) until one is available.
// Share one bucket between every channel instance and worker thread that
// sends through the same provider, so the provider's limit holds for the
// whole process (with N processes, give each 1/N of the provider's rate).
//
// `inner` and `bucket` are not owned and must outlive this channel. Send's
// thread-safety is that of `inner` (the bucket itself is thread-safe).
// Errors of `inner` are returned unchanged; a failed send still spent its
// token (the provider saw the request).
class RateLimitedChannel final : public ForwardingChannel {
 public:
  using SleepFn = std::function<void(absl::Duration)>;

  RateLimitedChannel(DeliveryChannel& inner, TokenBucket& bucket, SleepFn sleep = {});

  absl::StatusOr<std::string> Send(const Recipient& to, const RenderedNotice& notice) override;

 private:
  TokenBucket& bucket_;
  SleepFn sleep_;
};

}  // namespace forewarn
