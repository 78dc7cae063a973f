// forewarn-scheduler: releases time-driven notices (maintenance reminders,
// start and completion, overdue follow-ups) into the outbox when due, and
// notices held for quiet hours back onto the notices topic when the
// customer's window opens. Safe to run several copies: releases are
// transactional and row-locked, and the notice ledger deduplicates.
#include "services/runtime/service_flags.h"
#include "services/cmd/scheduler/scheduler_app.h"

int main(int argc, char** argv) {
  forewarn::SchedulerConfig cfg;
  return forewarn::ServiceMain(
      argc, argv, "forewarn-scheduler: releases due and held notices",
      [&](CLI::App& app) { forewarn::AddSchedulerFlags(app, cfg); }, nullptr,
      [&] { return forewarn::RunScheduler(cfg); });
}
