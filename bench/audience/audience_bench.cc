// Streams the audience of one incident per kind of target — services x
// regions (the baseline: what every incident did before targeting), an asset
// subtree, a map polygon, a circle — through PgAudienceSource, the resolver's
// adapter, exactly as the resolver does (server-side cursor, 5000 rows a
// fetch), into a sink that only counts. Prints rows/s, each as a ratio of the
// regions stream in the same run, and the process's RSS before and after
// each stream (flat: the stream holds no audience in memory).
#include <fstream>
#include <iostream>
#include <string>

#include "CLI/CLI.hpp"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "services/pg/pg_store.h"

namespace forewarn {
namespace {

// VmRSS and VmHWM of this process, in MiB.
std::pair<double, double> Rss() {
  std::ifstream in("/proc/self/status");
  std::string key;
  double rss = 0, hwm = 0;
  while (in >> key) {
    double kb = 0;
    if (key == "VmRSS:" && in >> kb) rss = kb / 1024;
    if (key == "VmHWM:" && in >> kb) hwm = kb / 1024;
  }
  return {rss, hwm};
}

struct Run {
  std::string name;
  Targets targets;
};

struct Streamed {
  int64_t customers = 0;
  int64_t recipients = 0;
  double seconds = 0;  // the best of the rounds
};

// Streams `targets`' audience `rounds` times, as the resolver does.
absl::StatusOr<Streamed> Stream(PgAudienceSource& audience, const Targets& targets, int rounds) {
  Incident incident;
  incident.kind = IncidentKind::kUnplannedOutage;
  incident.version = 1;
  incident.services = {"electricity"};
  SetTargets(incident, targets);
  Streamed best;
  for (int r = 0; r < rounds; ++r) {
    Streamed run;
    int64_t last = -1;
    const absl::Time start = absl::Now();
    auto s = audience.ForEachRecipient(incident, [&](const Recipient& recipient) {
      ++run.recipients;  // a customer's channels come one after the other
      if (recipient.customer_id != last) ++run.customers;
      last = recipient.customer_id;
      return absl::OkStatus();
    });
    if (!s.ok()) return s;
    run.seconds = absl::ToDoubleSeconds(absl::Now() - start);
    if (best.seconds == 0 || run.seconds < best.seconds) best = run;
  }
  return best;
}

struct Options {
  std::string pg, polygon, asset = "GRID";
  double lat = 24.7, lon = 46.7, radius = 20000;
  int rounds = 2;
  bool migrate = false;
};

std::vector<Run> Runs(const Options& o) {
  std::ifstream in(o.polygon);
  Area area;
  area.geojson.assign(std::istreambuf_iterator<char>(in), {});
  Area circle;
  circle.circle = Circle{o.lat, o.lon, o.radius};
  return {{"regions", {{"riyadh"}, {}, "", std::nullopt}},
          {"asset subtree", {{}, {o.asset}, "", std::nullopt}},
          {"polygon", {{}, {}, "", area}},
          {"circle", {{}, {}, "", circle}}};
}

int RunAll(const Options& o) {
  PgDatabase db(o.pg, 2);
  PgAudienceSource audience(db);
  double baseline = 0;
  std::cout << absl::StrFormat("%-14s %10s %10s %8s %12s %7s %9s %9s\n", "target", "customers", "recipients", "s",
                               "customers/s", "ratio", "RSS MiB", "HWM MiB");
  for (const auto& run : Runs(o)) {
    auto streamed = Stream(audience, run.targets, o.rounds);
    if (!streamed.ok()) {
      std::cerr << run.name << ": " << streamed.status() << "\n";
      return 1;
    }
    const double rate = static_cast<double>(streamed->customers) / streamed->seconds;
    if (baseline == 0) baseline = rate;
    const auto [rss, hwm] = Rss();
    std::cout << absl::StrFormat("%-14s %10d %10d %8.2f %12.0f %7.2f %9.1f %9.1f\n", run.name, streamed->customers,
                                 streamed->recipients, streamed->seconds, rate, rate / baseline, rss, hwm);
  }
  return 0;
}

int Main(int argc, char** argv) {
  CLI::App app{"stream incident audiences per kind of target and print customers/s"};
  Options o;
  app.add_option("--pg", o.pg, "PostgreSQL URI (schema migrated, data loaded)")->required();
  app.add_flag("--migrate", o.migrate, "only create the schema (before the data is loaded)");
  app.add_option("--asset", o.asset, "the asset whose subtree is streamed");
  app.add_option("--polygon-file", o.polygon, "GeoJSON MultiPolygon of the area streamed");
  app.add_option("--circle-lat", o.lat);
  app.add_option("--circle-lon", o.lon);
  app.add_option("--circle-radius", o.radius, "metres");
  app.add_option("--rounds", o.rounds, "streams per target; the best is reported");
  CLI11_PARSE(app, argc, argv);
  if (o.migrate) {
    auto s = ApplyMigrations(o.pg);
    if (!s.ok()) std::cerr << "migrate: " << s << "\n";
    return s.ok() ? 0 : 1;
  }
  return RunAll(o);
}

}  // namespace
}  // namespace forewarn

int main(int argc, char** argv) { return forewarn::Main(argc, argv); }
