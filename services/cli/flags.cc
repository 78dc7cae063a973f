#include <fstream>
#include <iostream>
#include <sstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "services/cli/command.h"
#include "services/cli/format.h"

namespace forewarn::cli {

namespace {

// The file's bytes ("-": stdin); returns the reason it cannot, or "".
std::string ReadWholeFile(const std::string& path, std::string* out) {
  std::ostringstream text;
  if (path == "-") {
    text << std::cin.rdbuf();
  } else {
    std::ifstream in(path, std::ios::binary);
    if (!in) return "cannot open " + path;
    text << in.rdbuf();
  }
  *out = text.str();
  return "";
}

}  // namespace

CLI::App& AddGroup(CLI::App& app, const char* name, const char* help) {
  CLI::App& group = *app.add_subcommand(name, help);
  group.require_subcommand(1);
  return group;
}

void AddIncidentId(CLI::App* app, std::string& id) { app->add_option("id", id, "incident id or reference (e.g. RIY-4K7Q)")->required(); }

void AddExpectedVersion(CLI::App* app, int64_t& expected_version) {
  app->add_option("--expected-version", expected_version, "fail if the incident changed meanwhile");
}

void AddIdempotencyKey(CLI::App* app, std::string& key) {
  app->add_option("--idempotency-key", key, "unique key; a retry with the same key is safe")->required();
}

void ReasonFlags::Add(CLI::App* app, const char* en_help, const char* ar_help, bool required) {
  auto* en_option = app->add_option("--reason-en", en, en_help);
  auto* ar_option = app->add_option("--reason-ar", ar, ar_help);
  if (required) {
    en_option->required();
    ar_option->required();
  }
}

void ReasonFlags::Set(v1::LocalizedText* out) const {
  out->set_en(en);
  out->set_ar(ar);
}

void TargetFlags::Add(CLI::App* app) {
  app->add_option("--region", regions, "affected region code (repeatable)");
  app->add_option("--asset", assets, "affected network asset code, with everything below it (repeatable)");
  app->add_option("--audience", audience, "an uploaded list of affected customers (audience upload's id)");
  auto* file = app->add_option("--area-file", area_file, "affected map area: a GeoJSON Polygon/MultiPolygon file, - for stdin");
  app->add_option("--circle", circle, "affected map area: a circle LAT,LON,METRES")->excludes(file);
  app->add_option("--area-name-en", area_name.en, "the area's name as customers know it, English");
  app->add_option("--area-name-ar", area_name.ar, "the area's name as customers know it, Arabic");
}

bool TargetFlags::given() const {
  return !regions.empty() || !assets.empty() || !audience.empty() || !area_file.empty() || !circle.empty();
}

std::string TargetFlags::Set(v1::Targets* out) const {
  for (const auto& r : regions) out->add_regions(r);
  for (const auto& a : assets) out->add_asset_codes(a);
  out->set_audience_id(audience);
  if (!area_file.empty()) {
    std::string text;
    if (auto e = ReadWholeFile(area_file, &text); !e.empty()) return "--area-file: " + e;
    out->mutable_area()->set_geojson(text);
  } else if (!circle.empty()) {
    std::vector<std::string> parts = absl::StrSplit(circle, ',');
    double lat = 0, lon = 0, metres = 0;
    if (parts.size() != 3 || !absl::SimpleAtod(parts[0], &lat) || !absl::SimpleAtod(parts[1], &lon) ||
        !absl::SimpleAtod(parts[2], &metres)) {
      return "--circle: expected LAT,LON,METRES, e.g. 24.7136,46.6753,1500";
    }
    out->mutable_area()->mutable_circle()->set_latitude(lat);
    out->mutable_area()->mutable_circle()->set_longitude(lon);
    out->mutable_area()->mutable_circle()->set_radius_meters(metres);
  } else if (!area_name.en.empty() || !area_name.ar.empty()) {
    return "--area-name-en/--area-name-ar: name an area given with --area-file or --circle";
  }
  if (out->has_area()) area_name.Set(out->mutable_area()->mutable_name());
  return "";
}

void NewIncidentFlags::Add(CLI::App* app) {
  AddIdempotencyKey(app, key);
  app->add_option("--service", services, "affected service code (repeatable)")->required();
  targets.Add(app);
  reason.Add(app, "reason, English", "reason, Arabic", /*required=*/true);
  app->add_flag("--dry-run", dry_run, "show the audience per selector; create nothing");
}

int NewIncidentFlags::DryRun(Session& session, v1::IncidentKind kind) const {
  v1::PreviewAudienceRequest req;
  req.set_kind(kind);
  for (const auto& s : services) req.add_services(s);
  if (auto e = targets.Set(req.mutable_targets()); !e.empty()) return session.UsageError(e);
  return session.Call(&Session::Stub::PreviewAudience, req);
}

void RestorationFlags::Add(CLI::App* app, const char* at_help, const char* in_help) {
  auto* at_option = app->add_option("--restore-at", at, at_help);
  auto* in_option = app->add_option("--restore-in", in, in_help);
  at_option->excludes(in_option);
}

std::string RestorationFlags::Set(google::protobuf::Timestamp* out) const {
  std::string err;
  if (!at.empty()) {
    if (!ParseTime(at, out, &err)) return "--restore-at: " + err;
  } else if (!in.empty()) {
    absl::Duration d;
    if (!absl::ParseDuration(in, &d) || d <= absl::ZeroDuration()) {
      return "--restore-in: expected a positive duration like 90m or 3h";
    }
    ToWholeSeconds(absl::Now() + d, out);
  }
  return "";
}

}  // namespace forewarn::cli
