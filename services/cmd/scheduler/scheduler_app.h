#pragma once

// forewarn-scheduler's configuration and wiring: releases time-driven
// notices into the outbox when due, and notices held for quiet hours back
// onto the notices topic when the customer's window opens.

#include <string>

#include "services/runtime/pg_flags.h"
#include "services/runtime/service_flags.h"

namespace CLI {
class App;
}

namespace forewarn {

struct SchedulerConfig {
  PgFlags pg;
  KafkaFlags kafka;
  std::string notices_topic = "forewarn.notices";
  int batch_size = 1000;
  int poll_ms = 500;  // how often to look for due notices
  ClockFlags clock;
  HttpFlags http;
};

void AddSchedulerFlags(CLI::App& app, SchedulerConfig& cfg);

// Runs the scheduler until SIGTERM/SIGINT; returns the process exit code.
int RunScheduler(const SchedulerConfig& cfg);

}  // namespace forewarn
