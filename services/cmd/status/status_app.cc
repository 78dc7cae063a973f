#include "services/cmd/status/status_app.h"

#include <optional>

#include "CLI/CLI.hpp"
#include "services/http/metrics.h"
#include "services/pg/pg_status_reader.h"
#include "services/pg/pg_store.h"
#include "services/runtime/runtime.h"
#include "services/core/message_code.h"
#include "services/status_http/status_server.h"
#include "services/status_page/cached_status_reader.h"
#include "services/status_page/status_site.h"
#include "services/status_page/viewer.h"
#include "spdlog/spdlog.h"

namespace forewarn {

void AddStatusFlags(CLI::App& app, StatusConfig& cfg) {
  AddPgFlags(app, cfg.pg);
  AddPgReadFlags(app, cfg.pg_read);
  app.add_option("--listen", cfg.listen, "the status pages' HTTP address (HOST:PORT; port 0: a free one)")
      ->envname("FOREWARN_STATUS_LISTEN");
  app.add_option("--port-file", cfg.port_file, "write the bound port here once serving (tests)");
  app.add_option("--threads", cfg.threads, "HTTP worker threads")->check(CLI::Range(1, 1024))->envname("FOREWARN_STATUS_THREADS");
  app.add_option("--base-url", cfg.base_url, "absolute links in the feeds, e.g. https://status.example (empty: the Host header)")
      ->envname("FOREWARN_STATUS_BASE_URL");
  app.add_option("--client-ip-header", cfg.client_ip_header,
                 "behind a proxy: the header whose last address is the client's (X-Forwarded-For)")
      ->envname("FOREWARN_STATUS_CLIENT_IP_HEADER");
  app.add_option("--default-language", cfg.default_language, "without ?lang= or a known Accept-Language")
      ->check(CLI::IsMember({"ar", "en"}))->envname("FOREWARN_STATUS_DEFAULT_LANGUAGE");
  app.add_option("--default-time-zone", cfg.default_time_zone, "IANA zone of times without ?tz=")
      ->envname("FOREWARN_STATUS_DEFAULT_TIME_ZONE");
  app.add_option("--message-code-secret-file", cfg.message_code_secret_file,
                 "the notices' verification code secret, one line of 32+ bytes (the notifiers' too); unset: /check is off")
      ->envname("FOREWARN_MESSAGE_CODE_SECRET_FILE");
  app.add_option("--cache-ms", cfg.cache_ms, "how long a read is served from memory")->check(CLI::Range(0, 60000));
  app.add_option("--miss-burst", cfg.miss_burst, "misses (unknown token/ref, wrong code) a client may make at once")
      ->check(CLI::Range(1, 1000));
  app.add_option("--miss-refill-seconds", cfg.miss_refill_seconds, "one miss back per this many seconds")
      ->check(CLI::Range(1, 3600));
  app.add_option("--restored-hours", cfg.restored_hours, "how long restored service stays on the overview")
      ->check(CLI::Range(1, 720));
  AddHttpFlags(app, cfg.http);
}

absl::Status CheckStatusConfig(const StatusConfig& cfg) {
  return LoadViewerZone(cfg.default_time_zone, "--default-time-zone").status();
}

namespace {

absl::StatusOr<std::optional<MessageCodes>> LoadCodes(const StatusConfig& cfg) {
  if (cfg.message_code_secret_file.empty()) return std::optional<MessageCodes>();
  auto codes = MessageCodes::FromFile(cfg.message_code_secret_file);
  if (!codes.ok()) return codes.status();
  return std::optional<MessageCodes>(*std::move(codes));
}

StatusHttpOptions HttpOptions(const StatusConfig& cfg) {
  StatusHttpOptions o;
  o.listen = cfg.listen;
  o.threads = cfg.threads;
  o.base_url = cfg.base_url;
  o.client_ip_header = cfg.client_ip_header;
  return o;
}

}  // namespace

int RunStatus(const StatusConfig& cfg) {
  SetupLogging("status");
  RaiseOpenFileLimit();
  const auto& stop = InstallStopSignals();
  absl::StatusOr<std::optional<MessageCodes>> codes = LoadCodes(cfg);
  if (!codes.ok()) return StartupFailed(codes.status(), 2);
  auto db = ResolvePgEndpoint(cfg.pg, stop);
  if (!db.ok()) return StartupFailed(db.status(), 1);
  PgDatabase pg(*db, cfg.pg.pool_size);
  MetricsRegistry metrics;
  if (auto s = AttachReadReplica(cfg.pg_read, cfg.pg, pg, metrics, stop); !s.ok()) return StartupFailed(s, 2);
  const SystemClock clock;
  PgStatusReader db_reader(pg);
  CachedStatusReader reader(db_reader, clock, absl::Milliseconds(cfg.cache_ms));
  MissLimiter limiter(clock, {.burst = cfg.miss_burst, .refill = absl::Seconds(cfg.miss_refill_seconds)});
  StatusSite site(reader, codes->has_value() ? &**codes : nullptr, limiter, clock, metrics,
                  {cfg.default_language, cfg.default_time_zone, absl::Hours(cfg.restored_hours)});
  auto server = StatusHttpServer::Start(HttpOptions(cfg), site, metrics);
  if (!server.ok()) return StartupFailed(server.status(), 1);
  if (!cfg.port_file.empty()) {
    if (auto s = WriteFileAtomically(cfg.port_file, std::to_string((*server)->port())); !s.ok()) {
      return StartupFailed(s, 1);
    }
  }
  auto http = StartObservabilityIfConfigured(cfg.http.listen, cfg.http.port_file, metrics);
  if (!http.ok()) return StartupFailed(http.status(), 1);
  spdlog::info("event=started port={} message_check={}", (*server)->port(), codes->has_value());
  while (!stop) SleepUnlessStopped(stop, absl::Seconds(1));
  (*server)->Stop();
  spdlog::info("event=stopped");
  return 0;
}

}  // namespace forewarn
