// forewarn-intake: the gRPC API for incidents plus the outbox relay.
#include <iostream>

#include "CLI/CLI.hpp"
#include "services/intake/intake_app.h"
#include "services/intake/intake_config.h"
#include "services/runtime/service_flags.h"

int main(int argc, char** argv) {
  forewarn::IntakeConfig cfg;
  CLI::App app{"forewarn-intake: incident gRPC API and outbox relay"};
  forewarn::ShowDefaultsInHelp(app);
  forewarn::AddIntakeFlags(app, cfg);
  CLI11_PARSE(app, argc, argv);
  if (auto s = forewarn::FinishIntakeConfig(cfg); !s.ok()) {
    std::cerr << "error: " << s.message() << "\n";
    return 2;
  }
  return forewarn::RunIntake(cfg);
}
