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
// (ST_IsValidReason, when the incident is stored).
absl::StatusOr<Area> ValidateArea(std::string_view field, const Area& area);

}  // namespace forewarn
