#include "services/core/geo_area.h"

#include <cmath>
#include <string>
#include <utility>

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "services/core/validation.h"

namespace forewarn {
namespace {

using nlohmann::json;

constexpr size_t kMaxAreaNameChars = 200;

// A number as JSON prints it: the shortest text that reads back the same.
std::string Num(double v) { return std::isfinite(v) ? json(v).dump() : absl::StrCat(v); }

// Polygon, ring and position indexes in messages are 1-based: "polygon 1,
// ring 1" is the first polygon's exterior ring, "position 3" the third
// [lon, lat] of its ring. A Polygon input is polygon 1.
struct Where {
  size_t polygon = 0, ring = 0, position = 0;
  std::string Ring() const { return absl::StrCat("polygon ", polygon, ", ring ", ring); }
  std::string Position() const { return absl::StrCat(Ring(), ", position ", position); }
};

// Checks a GeoJSON document under `field` ("area.geojson") and builds its
// canonical MultiPolygon coordinates.
class GeoJsonReader {
 public:
  explicit GeoJsonReader(std::string_view field) : field_(field) {}

  absl::StatusOr<std::string> Canonical(std::string_view text) {
    json doc;
    try {
      doc = json::parse(text);
    } catch (const json::exception& e) {
      return Error(absl::StrCat("is not JSON (", ParserMessage(e), ")"));
    }
    const json* geometry = &doc;
    if (TypeOf(doc) == "Feature") {
      const auto g = doc.find("geometry");
      if (g == doc.end() || !g->is_object()) return Error("type Feature has no geometry object");
      geometry = &*g;
    }
    json out = json::array();
    if (auto s = ReadGeometry(*geometry, out); !s.ok()) return s;
    return json{{"type", "MultiPolygon"}, {"coordinates", std::move(out)}}.dump();
  }

 private:
  absl::Status ReadGeometry(const json& g, json& out) {
    const std::string type = TypeOf(g);
    if (type != "Polygon" && type != "MultiPolygon") {
      return Error(absl::StrCat("type ", type, " is not Polygon or MultiPolygon"));
    }
    const auto coords = g.find("coordinates");
    if (coords == g.end() || !coords->is_array()) return Error(absl::StrCat(type, ": coordinates must be an array"));
    if (type == "Polygon") return ReadPolygon(*coords, 1, out);
    if (coords->empty()) return Error("MultiPolygon: has no polygons");
    for (size_t p = 0; p < coords->size(); ++p) {
      if (auto s = ReadPolygon((*coords)[p], p + 1, out); !s.ok()) return s;
    }
    return absl::OkStatus();
  }

  absl::Status ReadPolygon(const json& rings, size_t polygon, json& out) {
    if (!rings.is_array() || rings.empty()) {
      return Error(absl::StrCat("polygon ", polygon, ": must be a non-empty array of rings"));
    }
    json polygon_out = json::array();
    for (size_t r = 0; r < rings.size(); ++r) {
      json ring_out = json::array();
      if (auto s = ReadRing(rings[r], Where{polygon, r + 1, 0}, ring_out); !s.ok()) return s;
      polygon_out.push_back(std::move(ring_out));
    }
    out.push_back(std::move(polygon_out));
    return absl::OkStatus();
  }

  absl::Status ReadRing(const json& ring, Where at, json& out) {
    if (!ring.is_array()) return Error(absl::StrCat(at.Ring(), ": must be an array of positions"));
    if (ring.size() < 4) {
      return Error(absl::StrCat(at.Ring(), ": has ", ring.size(), " positions, at least 4 needed (a closed ring)"));
    }
    vertices_ += ring.size();
    if (vertices_ > kMaxAreaVertices) {
      return Error(absl::StrCat("more than ", kMaxAreaVertices, " positions (", vertices_, " counted up to ",
                                at.Ring(), ")"));
    }
    for (size_t i = 0; i < ring.size(); ++i) {
      at.position = i + 1;
      if (auto s = ReadPosition(ring[i], at, out); !s.ok()) return s;
    }
    if (out.front() != out.back()) {
      return Error(absl::StrCat(at.Ring(), ": not closed (first position ", out.front().dump(),
                                " differs from last ", out.back().dump(), ")"));
    }
    return absl::OkStatus();
  }

  // [lon, lat] or [lon, lat, altitude] (dropped).
  absl::Status ReadPosition(const json& p, const Where& at, json& out) {
    if (!p.is_array() || p.size() < 2 || p.size() > 3) {
      return Error(absl::StrCat(at.Position(), ": must be [longitude, latitude] (2 or 3 numbers)"));
    }
    for (const auto& n : p) {
      if (!n.is_number()) return Error(absl::StrCat(at.Position(), ": ", n.dump(), " is not a number"));
      if (!std::isfinite(n.get<double>())) return Error(absl::StrCat(at.Position(), ": a number out of range"));
    }
    const double lon = p[0].get<double>(), lat = p[1].get<double>();
    if (lon < -180 || lon > 180) {
      return Error(absl::StrCat(at.Position(), ": longitude ", Num(lon), " is outside -180 .. 180"));
    }
    if (lat < -90 || lat > 90) return Error(absl::StrCat(at.Position(), ": latitude ", Num(lat), " is outside -90 .. 90"));
    out.push_back(json::array({lon, lat}));
    return absl::OkStatus();
  }

  // The "type" member as text; "null", "number", ... for a value that is
  // not a string, "(none)" without one.
  static std::string TypeOf(const json& g) {
    if (!g.is_object()) return g.type_name();
    const auto t = g.find("type");
    if (t == g.end()) return "(none)";
    return t->is_string() ? t->get<std::string>() : std::string(t->type_name());
  }

  // The parser's message without its "[json.exception.parse_error.101] " tag.
  static std::string ParserMessage(const json::exception& e) {
    std::string what = e.what();
    if (const auto end = what.find("] "); what.rfind("[json.exception", 0) == 0 && end != std::string::npos) {
      what.erase(0, end + 2);
    }
    return what;
  }

  absl::Status Error(absl::string_view message) const {
    return absl::InvalidArgumentError(absl::StrCat(field_, ": ", message));
  }

  std::string field_;
  size_t vertices_ = 0;
};

absl::Status ValidateCircle(const std::string& field, const Circle& c) {
  auto out_of = [&](const char* name, double v, double lo, double hi) -> absl::Status {
    if (std::isfinite(v) && v >= lo && v <= hi) return absl::OkStatus();
    return absl::InvalidArgumentError(absl::StrCat(field, ".", name, ": ", Num(v), " is outside ", lo, " .. ", hi));
  };
  if (auto s = out_of("latitude", c.latitude, -90, 90); !s.ok()) return s;
  if (auto s = out_of("longitude", c.longitude, -180, 180); !s.ok()) return s;
  return out_of("radius_meters", c.radius_meters, 1, kMaxCircleRadiusMeters);
}

absl::Status ValidateName(const std::string& field, const LocalizedText& name) {
  ValidationLimits limits;
  limits.max_text_chars = kMaxAreaNameChars;
  for (const auto& [lang, text] : {std::pair{"ar", &name.ar}, std::pair{"en", &name.en}}) {
    if (text->empty()) continue;  // a name is optional
    if (auto s = ValidateText(absl::StrCat(field, ".name.", lang), *text, limits); !s.ok()) return s;
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<Area> ValidateArea(std::string_view field, const Area& area) {
  const std::string f(field);
  const bool has_geojson = !area.geojson.empty(), has_circle = area.circle.has_value();
  if (has_geojson == has_circle) {
    return absl::InvalidArgumentError(
        absl::StrCat(f, has_geojson ? ": give geojson or circle, not both" : ": give geojson or circle"));
  }
  if (auto s = ValidateName(f, area.name); !s.ok()) return s;
  Area out = area;
  if (has_circle) {
    if (auto s = ValidateCircle(f + ".circle", *area.circle); !s.ok()) return s;
    return out;
  }
  auto canonical = GeoJsonReader(f + ".geojson").Canonical(area.geojson);
  if (!canonical.ok()) return canonical.status();
  out.geojson = std::move(*canonical);
  return out;
}

}  // namespace forewarn
