// forewarn-notifier: a consumer-group worker. Run several; they split the
// partitions of the notices topic. Offsets are stored only after the ledger
// says every notice of the batch is done.
#include "notifier/cmd/notifier_app.h"
#include "notifier/cmd/notifier_config.h"
#include "services/runtime/service_flags.h"

int main(int argc, char** argv) {
  forewarn::NotifierConfig cfg;
  return forewarn::ServiceMain(
      argc, argv, "forewarn-notifier: renders and delivers notices",
      [&](CLI::App& app) { forewarn::AddNotifierFlags(app, cfg); },
      [&] { return forewarn::FinishNotifierConfig(cfg); }, [&] { return forewarn::RunNotifier(cfg); });
}
