// forewarn-status: the status pages customers open from their notices
// (overview, incident pages, personal links, message check, feeds).
#include "services/cmd/status/status_app.h"
#include "services/runtime/service_flags.h"

int main(int argc, char** argv) {
  forewarn::StatusConfig cfg;
  return forewarn::ServiceMain(
      argc, argv, "forewarn-status: the public status pages of incidents",
      [&](CLI::App& app) { forewarn::AddStatusFlags(app, cfg); }, [&] { return forewarn::CheckStatusConfig(cfg); },
      [&] { return forewarn::RunStatus(cfg); });
}
