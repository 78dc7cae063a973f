#pragma once

#include <atomic>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "services/core/ports.h"

namespace forewarn {

// Moves committed outbox rows to the broker. A row is marked published only
// after the broker acknowledged it, so a crash or broker outage loses nothing
// (an event may be published twice; consumers are idempotent).
class OutboxRelay {
 public:
  struct Options {
    int batch_size = 500;
    absl::Duration idle_wait = absl::Seconds(1);
    absl::Duration initial_backoff = absl::Milliseconds(200);
    absl::Duration max_backoff = absl::Seconds(10);
  };
  OutboxRelay(OutboxSource& source, EventPublisher& publisher, Options options)
      : source_(source), publisher_(publisher), options_(options) {}

  // Publishes at most one batch; returns how many rows it published.
  absl::StatusOr<int> RunOnce();
  // Runs until `stop` becomes true, backing off on errors.
  void Run(const std::atomic<bool>& stop);

 private:
  OutboxSource& source_;
  EventPublisher& publisher_;
  Options options_;
};

}  // namespace forewarn
