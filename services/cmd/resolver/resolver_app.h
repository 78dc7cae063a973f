#pragma once

// forewarn-resolver's configuration and wiring: incident events in, one
// notice job per affected customer and channel out.

#include <string>

#include "services/runtime/pg_flags.h"
#include "services/runtime/service_flags.h"

namespace CLI {
class App;
}

namespace forewarn {

struct ResolverConfig {
  PgFlags pg;
  PgReadFlags pg_read;  // the audience stream may read from a replica
  KafkaFlags kafka;
  GroupFlags group{.group = "forewarn-resolver", .instance_id = ""};
  std::string events_topic = "forewarn.events";
  std::string notices_topic = "forewarn.notices";
  int fetch_size = 5000;  // audience rows per cursor fetch
  HttpFlags http;
};

void AddResolverFlags(CLI::App& app, ResolverConfig& cfg);

// Runs the resolver until SIGTERM/SIGINT; returns the process exit code.
// Offsets are stored only after an event's jobs are acknowledged by the
// broker.
int RunResolver(const ResolverConfig& cfg);

}  // namespace forewarn
