#include "notifier/worker/delivery_outcome.h"

#include <gtest/gtest.h>

#include "services/core/ports.h"

namespace forewarn {
namespace {

TEST(Classify, MapsEachDeliveryResultToWhatBecomesOfTheNotice) {
  struct Row {
    absl::Status result;
    DeliveryContext context;
    Disposition want;
  };
  const absl::Status transient = absl::UnavailableError("503");
  const absl::Status timeout = absl::DeadlineExceededError("timed out");
  const absl::Status permanent = absl::InvalidArgumentError("bad number");
  const absl::Status paused = ProviderPausedError("circuit open");
  const Row rows[] = {
      {absl::OkStatus(), {true, 0, 5}, Disposition::kSent},
      {absl::OkStatus(), {false, 4, 5}, Disposition::kSent},
      {permanent, {true, 0, 5}, Disposition::kFailed},
      {absl::FailedPreconditionError("no channel"), {false, 0, 5}, Disposition::kFailed},
      {transient, {false, 0, 5}, Disposition::kRetryInPlace},  // no retry topic: not counted
      {paused, {true, 4, 5}, Disposition::kRetryInPlace},      // not attempted: not counted
      {transient, {true, 0, 5}, Disposition::kRetryLater},
      {timeout, {true, 3, 5}, Disposition::kRetryLater},
      {transient, {true, 4, 5}, Disposition::kDeadLetter},  // the fifth attempt failed
      {timeout, {true, 0, 1}, Disposition::kDeadLetter},
  };
  for (const auto& row : rows) {
    EXPECT_EQ(Classify(row.result, row.context), row.want)
        << row.result << " attempt=" << row.context.attempt << " requeue=" << row.context.has_requeue;
  }
}

}  // namespace
}  // namespace forewarn
