#pragma once

// forewarn-notifier's wiring: providers, the delivery channel stacks, the
// worker and the consume loop over the notices and retry topics.

#include "notifier/cmd/notifier_config.h"

namespace forewarn {

// Runs a notifier worker until SIGTERM/SIGINT; returns the process exit
// code (2 for a configuration fault found at start-up, 1 for a dependency
// that cannot be reached). `cfg` has been through FinishNotifierConfig.
// Offsets are stored only after the ledger says every notice of the batch
// is done.
int RunNotifier(const NotifierConfig& cfg);

}  // namespace forewarn
