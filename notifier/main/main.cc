// forewarn-notifier: a consumer-group worker. Run several; they split the
// partitions of the notices topic. Offsets are stored only after the ledger
// says every notice of the batch is done.
#include <iostream>

#include "CLI/CLI.hpp"
#include "notifier/main/notifier_app.h"
#include "notifier/main/notifier_config.h"
#include "services/runtime/service_flags.h"

int main(int argc, char** argv) {
  forewarn::NotifierConfig cfg;
  CLI::App app{"forewarn-notifier: renders and delivers notices"};
  forewarn::ShowDefaultsInHelp(app);
  forewarn::AddNotifierFlags(app, cfg);
  CLI11_PARSE(app, argc, argv);
  if (auto s = forewarn::FinishNotifierConfig(cfg); !s.ok()) {
    std::cerr << "error: " << s.message() << "\n";
    return 2;
  }
  return forewarn::RunNotifier(cfg);
}
