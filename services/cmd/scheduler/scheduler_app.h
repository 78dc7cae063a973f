#pragma once

// forewarn-scheduler's configuration and wiring: releases time-driven
// notices into the outbox when due, notices held for quiet hours back onto
// the notices topic when the customer's window opens, and escalations
// (notices not delivered, or without a receipt in time) to the customer's
// other channel; applies delivery receipts that came before their notice
// was recorded.

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
  // Receipts that still match no notice this long after they came are
  // dropped (counted as orphaned).
  std::string receipt_give_up = "24h";
  // Ledger partitions (a month each) wholly older than this are dropped,
  // unless an incident in them is open or changed since; at least 31d.
  std::string ledger_retention = "400d";
  // How often partition maintenance runs (and once at start-up).
  std::string ledger_maintenance_every = "1h";
  ClockFlags clock;
  HttpFlags http;
};

void AddSchedulerFlags(CLI::App& app, SchedulerConfig& cfg);

// Runs the scheduler until SIGTERM/SIGINT; returns the process exit code.
int RunScheduler(const SchedulerConfig& cfg);

}  // namespace forewarn
