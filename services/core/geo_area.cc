#include "services/core/geo_area.h"

namespace forewarn {

// Placeholder until the GeoJSON checks land (helper "geo").
absl::StatusOr<Area> ValidateArea(std::string_view, const Area& area) { return area; }

}  // namespace forewarn
