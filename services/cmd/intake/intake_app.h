#pragma once

// forewarn-intake's wiring: the incident gRPC API, the outbox relay and the
// gauges the intake exports.

#include "services/cmd/intake/intake_config.h"

namespace forewarn {

// Runs the intake until SIGTERM/SIGINT; returns the process exit code (2 for
// a configuration fault found at start-up, 1 for a dependency that cannot be
// reached). `cfg` has been through FinishIntakeConfig.
int RunIntake(const IntakeConfig& cfg);

}  // namespace forewarn
