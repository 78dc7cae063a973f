#pragma once

#include <mutex>

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace forewarn {

// Time is a port: production reads the system clock, tests inject FakeClock.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual absl::Time Now() const = 0;
};

// The system clock, optionally shifted by a fixed offset (used by end-to-end
// tests and drills that need the services to "see" a different time).
class SystemClock final : public Clock {
 public:
  explicit SystemClock(absl::Duration offset = absl::ZeroDuration()) : offset_(offset) {}
  absl::Time Now() const override { return absl::Now() + offset_; }

 private:
  absl::Duration offset_;
};

// A clock that moves only when told to. Thread-safe.
class FakeClock final : public Clock {
 public:
  explicit FakeClock(absl::Time start) : now_(start) {}
  absl::Time Now() const override {
    std::lock_guard lock(mu_);
    return now_;
  }
  void Advance(absl::Duration d) {
    std::lock_guard lock(mu_);
    now_ += d;
  }
  void Set(absl::Time t) {
    std::lock_guard lock(mu_);
    now_ = t;
  }

 private:
  mutable std::mutex mu_;
  absl::Time now_;
};

}  // namespace forewarn
