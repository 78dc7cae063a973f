#pragma once

#include <string_view>

#include "absl/status/statusor.h"
#include "services/core/model.h"

namespace forewarn {

// Limits on a map area (Area, model.h).
inline constexpr size_t kMaxAreaVertices = 10000;    // positions in all rings together
inline constexpr double kMaxCircleRadiusMeters = 100000;

// Checks a caller's area and returns it in canonical form: `geojson` a
// GeoJSON MultiPolygon (from a Polygon, a MultiPolygon or a Feature holding
// one), or `circle`. INVALID_ARGUMENT naming what is wrong under `field`
// (e.g. "area.geojson: polygon 1, ring 2 is not closed (first position
// differs from last)"): not JSON, another geometry type, a ring with fewer
// than 4 positions or not closed, a position that is not [lon, lat] in
// range, more than kMaxAreaVertices positions, both or neither shape, a
// circle's centre out of range or radius outside 1 m .. 100 km, names
// longer than 200 characters. Self-intersection is PostGIS's to find
// (ST_IsValidReason, when the incident is stored). Indexes in messages are
// 1-based: "polygon 1" is the first polygon (a Polygon's only one), "ring 1"
// its exterior ring, "position 3" the third position of the ring. The
// canonical GeoJSON is compact, {"type":"MultiPolygon","coordinates":...},
// altitudes dropped, every number a double printed exactly (shortest text
// that reads back the same). An empty name is fine; one given is at most
// 200 characters of UTF-8 without control characters.
absl::StatusOr<Area> ValidateArea(std::string_view field, const Area& area);

}  // namespace forewarn
