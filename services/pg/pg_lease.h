#pragma once

// Internal to the Postgres adapter: only .cc files in services/pg (and
// tests) include this.

#include <chrono>
#include <functional>
#include <string>

#include <pqxx/pqxx>

#include "absl/time/time.h"

namespace forewarn::pg {

// A named lease in the `leases` table (migration 0007): at most one holder
// at a time, whatever connection pooler sits in front of the database
// (a session advisory lock means nothing behind a transaction pooler).
// Expiry is judged by the database's clock (now()) for everyone else, and
// by the holder's own monotonic clock for itself: the holder's deadline is
// `length` after it *sent* its last successful request, which is never
// later than the expiry the database computed, so the holder stops before
// anyone else may start. Not thread-safe: one owner.
class PgLease {
 public:
  using MonotonicNow = std::function<std::chrono::steady_clock::time_point()>;
  struct Options {
    std::string name;                         // e.g. "outbox_relay"
    std::string holder;                       // unique per process; DefaultLeaseHolder()
    absl::Duration length = absl::Seconds(10);
    MonotonicNow now;                         // default std::chrono::steady_clock::now
  };
  explicit PgLease(Options options);

  // Whether the owner may act as the lease's holder right now. Sends one
  // acquire-or-renew statement when the lease is not held or a third of it
  // has passed since the last successful request was sent; otherwise
  // answers from the local deadline without a round trip. Throws what
  // libpqxx throws; the lease then counts as lost until a later Hold
  // succeeds.
  bool Hold(pqxx::connection& c);
  // Gives the lease up at once (clean shutdown), so the next holder need not
  // wait for it to expire. Throws what libpqxx throws.
  void Release(pqxx::connection& c);
  // How long until Hold must run again to renew in time (zero when the
  // lease is not held): an owner that waits never waits longer.
  absl::Duration UntilRenewal() const;

  const std::string& holder() const { return options_.holder; }

 private:
  void Lose(const char* reason);

  Options options_;
  bool held_ = false;
  std::chrono::steady_clock::time_point renew_at_{}, deadline_{};
};

// host:pid:random, unique per process start.
std::string DefaultLeaseHolder();

}  // namespace forewarn::pg
