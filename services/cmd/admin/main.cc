// forewarn-admin: operator commands against Forewarn's infrastructure.
//
//   forewarn-admin topics --kafka BOOTSTRAP [--check] ...
//
// creates the events, notices, retry and dead-letter topics as configured
// (or, with --check, only verifies them) and prints one line per topic:
// "created", "ok", "mismatch", "missing" or "failed", with the details.
// Existing topics are never changed. Exit 0 when every topic is as
// configured, 1 when one is not or the broker cannot be reached, 2 for bad
// usage. Logs (key=value) go to stderr, the report to stdout.
#include "CLI/CLI.hpp"
#include "services/cmd/admin/topics_command.h"
#include "services/runtime/runtime.h"
#include "services/runtime/service_flags.h"

int main(int argc, char** argv) {
  forewarn::TopicsConfig topics;
  const auto add_flags = [&](CLI::App& app) {
    app.require_subcommand(1);
    forewarn::AddTopicsFlags(*app.add_subcommand("topics",
                                                 "create the events, notices, retry and dead-letter topics as "
                                                 "configured, verify existing ones (exit 1 on a mismatch)"),
                             topics);
  };
  return forewarn::ServiceMain(argc, argv, "forewarn-admin: operator commands against Forewarn's infrastructure",
                               add_flags, nullptr, [&] {
                                 forewarn::SetupLogging("admin");
                                 return forewarn::RunTopics(topics);
                               });
}
