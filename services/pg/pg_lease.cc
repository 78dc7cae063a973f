#include "services/pg/pg_lease.h"

#include <unistd.h>

#include <array>

#include "absl/random/random.h"
#include "absl/strings/str_cat.h"
#include "spdlog/spdlog.h"

namespace forewarn::pg {
namespace {

// Takes the lease when it is free or expired, renews it when we hold it;
// returns a row only then. One statement, judged by the database's clock.
constexpr char kAcquire[] =
    "INSERT INTO leases AS l (name, holder, expires_at) "
    "VALUES ($1, $2, now() + $3::bigint * interval '1 microsecond') "
    "ON CONFLICT (name) DO UPDATE SET holder = EXCLUDED.holder, expires_at = EXCLUDED.expires_at "
    "WHERE l.holder = EXCLUDED.holder OR l.expires_at < now() "
    "RETURNING 1";
constexpr char kRelease[] = "DELETE FROM leases WHERE name = $1 AND holder = $2";

std::chrono::steady_clock::duration ToSteady(absl::Duration d) {
  return std::chrono::duration_cast<std::chrono::steady_clock::duration>(absl::ToChronoNanoseconds(d));
}

}  // namespace

PgLease::PgLease(Options options) : options_(std::move(options)) {
  if (!options_.now) options_.now = [] { return std::chrono::steady_clock::now(); };
  if (options_.holder.empty()) options_.holder = DefaultLeaseHolder();
}

bool PgLease::Hold(pqxx::connection& c) {
  if (held_ && options_.now() < renew_at_) return true;
  const bool was_held = held_;
  held_ = false;  // until the request below succeeds
  const auto sent = options_.now();
  bool granted = false;
  try {
    pqxx::nontransaction tx(c);
    granted = !tx.exec_params(kAcquire, options_.name, options_.holder, absl::ToInt64Microseconds(options_.length))
                   .empty();
  } catch (...) {
    if (was_held) Lose("renewal_failed");
    throw;
  }
  if (!granted) {
    if (was_held) Lose("taken");
    return false;
  }
  deadline_ = sent + ToSteady(options_.length);
  renew_at_ = sent + ToSteady(options_.length / 3);
  if (options_.now() >= deadline_) {  // the answer came too late to act on
    if (was_held) Lose("renewal_too_slow");
    return false;
  }
  held_ = true;
  if (!was_held) {
    spdlog::info("event=lease_acquired lease={} holder={} length_ms={}", options_.name, options_.holder,
                 absl::ToInt64Milliseconds(options_.length));
  }
  return true;
}

void PgLease::Lose(const char* reason) {
  spdlog::warn("event=lease_lost lease={} holder={} reason={}", options_.name, options_.holder, reason);
}

void PgLease::Release(pqxx::connection& c) {
  if (!held_) return;
  held_ = false;
  pqxx::nontransaction tx(c);
  tx.exec_params(kRelease, options_.name, options_.holder);
  spdlog::info("event=lease_released lease={} holder={}", options_.name, options_.holder);
}

absl::Duration PgLease::UntilRenewal() const {
  if (!held_) return absl::ZeroDuration();
  const auto now = options_.now();
  if (now >= renew_at_) return absl::ZeroDuration();
  return absl::FromChrono(renew_at_ - now);
}

std::string DefaultLeaseHolder() {
  std::array<char, 256> host{};
  if (gethostname(host.data(), host.size() - 1) != 0) host[0] = '\0';
  absl::BitGen gen;
  return absl::StrCat(host.data(), ":", getpid(), ":", absl::Hex(absl::Uniform<uint32_t>(gen)));
}

}  // namespace forewarn::pg
