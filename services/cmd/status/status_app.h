#pragma once

// forewarn-status's configuration and wiring: the status pages customers
// open from their notices, read from PostgreSQL (a read-only role, or a
// replica with --pg-read), cached for a second.

#include <string>

#include "services/runtime/pg_flags.h"
#include "services/runtime/service_flags.h"

namespace CLI {
class App;
}

namespace forewarn {

struct StatusConfig {
  PgFlags pg{.uri = "", .pooling = "auto", .pool_size = 4};
  PgReadFlags pg_read;
  std::string listen = "0.0.0.0:8080";
  std::string port_file;
  int threads = 16;
  std::string base_url;
  std::string client_ip_header;
  std::string default_language = "ar";
  std::string default_time_zone = "Asia/Riyadh";
  std::string message_code_secret_file;
  int cache_ms = 1000;
  int miss_burst = 10;
  int miss_refill_seconds = 10;
  int restored_hours = 24;
  HttpFlags http;
};

void AddStatusFlags(CLI::App& app, StatusConfig& cfg);
// Checks what the flags cannot: the default time zone. INVALID_ARGUMENT naming the flag.
absl::Status CheckStatusConfig(const StatusConfig& cfg);

// Serves until SIGTERM/SIGINT; returns the process exit code.
int RunStatus(const StatusConfig& cfg);

}  // namespace forewarn
