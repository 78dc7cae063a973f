// forewarn-resolver: incident events in, one notice job per affected
// customer and channel out. Offsets are stored only after the jobs are
// acknowledged by the broker.
#include "services/cmd/resolver/resolver_app.h"
#include "services/runtime/service_flags.h"

int main(int argc, char** argv) {
  forewarn::ResolverConfig cfg;
  return forewarn::ServiceMain(
      argc, argv, "forewarn-resolver: fans incident events out to notice jobs",
      [&](CLI::App& app) { forewarn::AddResolverFlags(app, cfg); }, nullptr, [&] { return forewarn::RunResolver(cfg); });
}
