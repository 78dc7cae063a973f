// forewarn-resolver: incident events in, one notice job per affected
// customer and channel out. Offsets are stored only after the jobs are
// acknowledged by the broker.
#include "CLI/CLI.hpp"
#include "services/resolver/resolver_app.h"
#include "services/runtime/service_flags.h"

int main(int argc, char** argv) {
  forewarn::ResolverConfig cfg;
  CLI::App app{"forewarn-resolver: fans incident events out to notice jobs"};
  forewarn::ShowDefaultsInHelp(app);
  forewarn::AddResolverFlags(app, cfg);
  CLI11_PARSE(app, argc, argv);
  return forewarn::RunResolver(cfg);
}
