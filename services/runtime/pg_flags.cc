#include "services/runtime/pg_flags.h"

#include <array>

#include "CLI/CLI.hpp"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "services/http/metrics.h"
#include "services/pg/pg_store.h"
#include "services/runtime/policy_flags.h"
#include "services/runtime/runtime.h"
#include "spdlog/spdlog.h"

namespace forewarn {

void AddPgFlags(CLI::App& app, PgFlags& flags) {
  app.add_option("--pg", flags.uri, "PostgreSQL URI")->envname("FOREWARN_PG")->required();
  app.add_option("--pg-pooling", flags.pooling,
                 "how connections reach PostgreSQL: session (direct, or a pooler in session mode), transaction "
                 "(a pooler such as pgbouncer in transaction mode: no prepared statements, polling instead of "
                 "LISTEN), auto (detect at start-up)")
      ->envname("FOREWARN_PG_POOLING")
      ->check(CLI::IsMember({"auto", "session", "transaction"}));
  app.add_option("--pg-pool-size", flags.pool_size,
                 "most connections the service opens to PostgreSQL at once (one pool shared by its adapters)")
      ->envname("FOREWARN_PG_POOL_SIZE")
      ->check(CLI::Range(1, 64));
}

absl::StatusOr<PgEndpoint> ResolvePgEndpoint(const PgFlags& flags, const std::atomic<bool>& stop) {
  if (flags.pooling != "auto") {
    auto pooling = ParsePgPooling(flags.pooling);
    if (!pooling.ok()) return pooling.status();
    spdlog::info("event=pg_pooling mode={} chosen_by=flag", ToString(*pooling));
    return PgEndpoint(flags.uri, *pooling);
  }
  absl::StatusOr<PgPoolingProbe> probe = absl::UnavailableError("not probed");
  auto status = RetryUntilOk(stop, "detect PostgreSQL pooling mode", [&] {
    probe = DetectPgPooling(flags.uri);
    return absl::IsUnavailable(probe.status()) ? probe.status() : absl::OkStatus();
  });
  if (!status.ok()) return status;
  if (!probe.ok()) return probe.status();
  spdlog::info("event=pg_pooling mode={} chosen_by=auto evidence=\"{}\"", ToString(probe->pooling), probe->evidence);
  return PgEndpoint(flags.uri, probe->pooling);
}

void AddPgReadFlags(CLI::App& app, PgReadFlags& flags) {
  app.add_option("--pg-read", flags.uri,
                 "PostgreSQL URI of a streaming replica of --pg's database for pure reads (audience streams, "
                 "reports); unset: read from the primary")
      ->envname("FOREWARN_PG_READ");
  app.add_option("--pg-read-max-lag", flags.max_lag,
                 "how long a read waits for --pg-read to replay what the primary has written before it reads from "
                 "the primary instead (event=pg_read_lagging)")
      ->envname("FOREWARN_PG_READ_MAX_LAG");
}

absl::Status AttachReadReplica(const PgReadFlags& flags, const PgFlags& primary_flags, PgDatabase& db,
                               MetricsRegistry& metrics, const std::atomic<bool>& stop) {
  if (flags.uri.empty()) return absl::OkStatus();
  PgReadOptions options;
  if (auto s = ParseDurationFlag("--pg-read-max-lag", flags.max_lag, &options.max_lag); !s.ok()) return s;
  // A replica that is starting with the service gets a few seconds; then it is a misconfiguration.
  absl::Status check = absl::UnavailableError("not checked");
  for (int attempt = 0; attempt < 20 && !stop.load(); ++attempt) {
    check = CheckReadReplica(flags.uri, "--pg-read");
    if (!absl::IsUnavailable(check)) break;
    SleepUnlessStopped(stop, absl::Milliseconds(500));
  }
  if (!check.ok()) return check;
  PgFlags read_flags = primary_flags;
  read_flags.uri = flags.uri;
  auto endpoint = ResolvePgEndpoint(read_flags, stop);
  if (!endpoint.ok()) return endpoint.status();
  auto count = [&metrics](PgReadRoute route) -> Counter* {
    return &metrics.counter("forewarn_pg_reads_total", "Reads that may go to --pg-read, by the server that served them",
                            {{"served_by", ToString(route)}});
  };
  options.on_route = [counters = std::array<Counter*, 3>{count(PgReadRoute::kReplica),
                                                         count(PgReadRoute::kPrimaryLagging),
                                                         count(PgReadRoute::kPrimaryFailed)}](PgReadRoute route) {
    counters[static_cast<size_t>(route)]->Increment();
  };
  const absl::Duration max_lag = options.max_lag;
  db.SetReadReplica(*endpoint, primary_flags.pool_size, std::move(options));
  spdlog::info("event=pg_read_replica max_lag_ms={}", absl::ToInt64Milliseconds(max_lag));
  return absl::OkStatus();
}

}  // namespace forewarn
