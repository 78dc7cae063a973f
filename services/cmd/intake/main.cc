// forewarn-intake: the gRPC API for incidents plus the outbox relay.
#include "services/cmd/intake/intake_app.h"
#include "services/cmd/intake/intake_config.h"
#include "services/runtime/service_flags.h"

int main(int argc, char** argv) {
  forewarn::IntakeConfig cfg;
  return forewarn::ServiceMain(
      argc, argv, "forewarn-intake: incident gRPC API and outbox relay",
      [&](CLI::App& app) { forewarn::AddIntakeFlags(app, cfg); }, [&] { return forewarn::FinishIntakeConfig(cfg); },
      [&] { return forewarn::RunIntake(cfg); });
}
