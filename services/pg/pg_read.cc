#include "services/pg/pg_read.h"

#include <algorithm>
#include <cstdint>
#include <string>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "spdlog/spdlog.h"

namespace forewarn {
namespace {

// The primary's WAL insert position: every transaction committed before
// it was asked is below it (also with synchronous_commit off, whose commit
// records may not be written out yet).
constexpr char kPrimaryLsn[] = "SELECT pg_current_wal_insert_lsn()::text";
// How many bytes of WAL the replica still has to replay to reach $1 (<= 0:
// reached). NULL when the server is not in recovery (any more: a promoted
// replica's replay position stays where it was, and is no use).
constexpr char kReplayBehind[] =
    "SELECT CASE WHEN pg_is_in_recovery() THEN pg_wal_lsn_diff($1::pg_lsn, pg_last_wal_replay_lsn())::bigint END";

// `lsn` ("X/Y") made reachable: a WAL insert position just past a page
// header (24 bytes; 40 at a segment's start) means the last record ended at
// the page boundary, which is where a replica's replay position then stops;
// it only moves past the header with the next record, which may be long in
// coming on an idle primary. Unparsable text is returned as it is.
std::string ReachableLsn(const std::string& lsn) {
  constexpr uint64_t kPage = 8192;  // XLOG_BLCKSZ
  const size_t slash = lsn.find('/');
  uint64_t hi = 0, lo = 0;
  if (slash == std::string::npos || !absl::SimpleHexAtoi(lsn.substr(0, slash), &hi) ||
      !absl::SimpleHexAtoi(lsn.substr(slash + 1), &lo)) {
    return lsn;
  }
  uint64_t pos = (hi << 32) | lo;
  if (const uint64_t offset = pos % kPage; offset == 24 || offset == 40) pos -= offset;
  return absl::StrFormat("%X/%X", pos >> 32, pos & 0xFFFFFFFFu);
}

}  // namespace

const char* ToString(PgReadRoute route) {
  switch (route) {
    case PgReadRoute::kReplica:
      return "replica";
    case PgReadRoute::kPrimaryLagging:
      return "primary_lagging";
    case PgReadRoute::kPrimaryFailed:
      return "primary_failed";
  }
  return "unknown";
}

absl::Status CheckReadReplica(const std::string& uri, const char* flag) {
  bool in_recovery = false;
  try {
    pqxx::connection c(uri);
    pqxx::read_transaction tx(c);
    in_recovery = tx.exec1("SELECT pg_is_in_recovery()")[0].as<bool>();
  } catch (const pqxx::broken_connection& e) {
    return absl::UnavailableError(absl::StrCat(flag, ": cannot connect to the read replica: ", e.what()));
  } catch (const std::exception& e) {
    return absl::UnavailableError(absl::StrCat(flag, ": cannot query the read replica: ", e.what()));
  }
  if (!in_recovery) {
    return absl::FailedPreconditionError(absl::StrCat(
        flag, ": the server is not a standby (pg_is_in_recovery() is false): point it at a streaming replica "
              "with hot_standby on, or leave it unset to read from the primary"));
  }
  return absl::OkStatus();
}

void PgDatabase::SetReadReplica(PgEndpoint replica, int pool_size, PgReadOptions options) {
  reads_->SetReplica(std::make_shared<pg::PgPool>(std::move(replica), pool_size), std::move(options));
}

namespace pg {

void PgReads::SetReplica(std::shared_ptr<PgPool> replica, PgReadOptions options) {
  replica_ = std::move(replica);
  options_ = std::move(options);
}

std::shared_ptr<PgPool> PgReads::Route(const char* what, PgReadRoute route, int64_t behind_bytes,
                                       absl::Duration waited) {
  if (options_.on_route) options_.on_route(route);
  if (route == PgReadRoute::kReplica) {
    if (waited >= absl::Milliseconds(100)) {
      spdlog::info("event=pg_read_caught_up read={} waited_ms={}", what, absl::ToInt64Milliseconds(waited));
    }
    return replica_;
  }
  if (route == PgReadRoute::kPrimaryLagging) {
    spdlog::warn("event=pg_read_lagging read={} behind_bytes={} waited_ms={} max_lag_ms={} served_by=primary", what,
                 behind_bytes, absl::ToInt64Milliseconds(waited), absl::ToInt64Milliseconds(options_.max_lag));
  }
  return primary_;
}

std::shared_ptr<PgPool> PgReads::CaughtUp(const char* what) {
  if (!replica_) return primary_;
  std::string target;
  auto status = primary_->Run([&](pqxx::connection& c) -> absl::Status {
    pqxx::nontransaction tx(c);
    target = ReachableLsn(tx.exec1(kPrimaryLsn)[0].as<std::string>());
    return absl::OkStatus();
  });
  if (!status.ok()) return primary_;  // the read itself will report the primary's failure
  const absl::Time start = absl::Now();
  const absl::Time deadline = start + options_.max_lag;
  absl::Duration pause = absl::Milliseconds(1);
  int64_t behind = 0;
  while (true) {
    status = replica_->Run([&](pqxx::connection& c) -> absl::Status {
      pqxx::nontransaction tx(c);
      const auto field = tx.exec_params1(kReplayBehind, target)[0];
      if (field.is_null()) return absl::FailedPreconditionError("the read replica is no longer in recovery");
      behind = field.as<int64_t>();
      return absl::OkStatus();
    });
    if (!status.ok()) {
      spdlog::warn("event=pg_read_replica_failed read={} served_by=primary status=\"{}\"", what, status.ToString());
      return Route(what, PgReadRoute::kPrimaryFailed, 0, absl::Now() - start);
    }
    if (behind <= 0) return Route(what, PgReadRoute::kReplica, 0, absl::Now() - start);
    const absl::Time now = absl::Now();
    if (now >= deadline) return Route(what, PgReadRoute::kPrimaryLagging, behind, now - start);
    std::this_thread::sleep_for(absl::ToChronoMicroseconds(std::min(pause, deadline - now)));
    pause = std::min(pause * 2, absl::Milliseconds(20));
  }
}

}  // namespace pg
}  // namespace forewarn
