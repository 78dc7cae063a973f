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

int Main(int argc, char** argv) {
  CLI::App app{"stream incident audiences per kind of target and print rows/s"};
  std::string pg, polygon;
  std::string asset = "GRID";
  double lat = 24.7, lon = 46.7, radius = 20000;
  int rounds = 2;
  bool migrate = false;
  app.add_option("--pg", pg, "PostgreSQL URI (schema migrated, data loaded)")->required();
  app.add_flag("--migrate", migrate, "only create the schema (before the data is loaded)");
  app.add_option("--asset", asset, "the asset whose subtree is streamed");
  app.add_option("--polygon-file", polygon, "GeoJSON MultiPolygon of the area streamed");
  app.add_option("--circle-lat", lat);
  app.add_option("--circle-lon", lon);
  app.add_option("--circle-radius", radius, "metres");
  app.add_option("--rounds", rounds, "streams per target; the best is reported");
  CLI11_PARSE(app, argc, argv);
  if (migrate) {
    auto s = ApplyMigrations(pg);
    if (!s.ok()) std::cerr << "migrate: " << s << "\n";
    return s.ok() ? 0 : 1;
  }
  std::ifstream in(polygon);
  Area area;
  area.geojson.assign(std::istreambuf_iterator<char>(in), {});
  Area circle;
  circle.circle = Circle{lat, lon, radius};
  const std::vector<Run> runs = {{"regions", {{"riyadh"}, {}, "", std::nullopt}},
                                 {"asset subtree", {{}, {asset}, "", std::nullopt}},
                                 {"polygon", {{}, {}, "", area}},
                                 {"circle", {{}, {}, "", circle}}};
  PgDatabase db(pg, 2);
  PgAudienceSource audience(db);
  double baseline = 0;
  std::cout << absl::StrFormat("%-14s %10s %10s %8s %12s %7s %9s %9s\n", "target", "customers", "recipients", "s",
                               "customers/s", "ratio", "RSS MiB", "HWM MiB");
  for (const auto& run : runs) {
    Incident incident;
    incident.kind = IncidentKind::kUnplannedOutage;
    incident.version = 1;
    incident.services = {"electricity"};
    SetTargets(incident, run.targets);
    double best = 0;
    int64_t rows = 0, customers = 0;
    for (int r = 0; r < rounds; ++r) {
      rows = customers = 0;
      int64_t last = -1;
      const absl::Time start = absl::Now();
      auto s = audience.ForEachRecipient(incident, [&](const Recipient& recipient) {
        ++rows;  // a customer's channels come one after the other
        if (recipient.customer_id != last) ++customers;
        last = recipient.customer_id;
        return absl::OkStatus();
      });
      if (!s.ok()) {
        std::cerr << run.name << ": " << s << "\n";
        return 1;
      }
      const double secs = absl::ToDoubleSeconds(absl::Now() - start);
      if (best == 0 || secs < best) best = secs;
    }
    const double rate = static_cast<double>(customers) / best;
    if (baseline == 0) baseline = rate;
    const auto [rss, hwm] = Rss();
    std::cout << absl::StrFormat("%-14s %10d %10d %8.2f %12.0f %7.2f %9.1f %9.1f\n", run.name, customers, rows, best,
                                 rate, rate / baseline, rss, hwm);
  }
  return 0;
}

}  // namespace
}  // namespace forewarn

int main(int argc, char** argv) { return forewarn::Main(argc, argv); }
