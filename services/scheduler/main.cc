// forewarn-scheduler: releases time-driven notices (maintenance reminders,
// start and completion, overdue follow-ups) into the outbox when due, and
// notices held for quiet hours back onto the notices topic when the
// customer's window opens. Safe to run several copies: releases are
// transactional and row-locked, and the notice ledger deduplicates.
#include "CLI/CLI.hpp"
#include "services/runtime/service_flags.h"
#include "services/scheduler/scheduler_app.h"

int main(int argc, char** argv) {
  forewarn::SchedulerConfig cfg;
  CLI::App app{"forewarn-scheduler: releases due and held notices"};
  forewarn::ShowDefaultsInHelp(app);
  forewarn::AddSchedulerFlags(app, cfg);
  CLI11_PARSE(app, argc, argv);
  return forewarn::RunScheduler(cfg);
}
