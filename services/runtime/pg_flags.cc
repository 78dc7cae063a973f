#include "services/runtime/pg_flags.h"

#include "CLI/CLI.hpp"
#include "absl/status/status.h"
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

}  // namespace forewarn
