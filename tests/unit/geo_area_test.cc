#include "services/core/geo_area.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "absl/strings/str_cat.h"

namespace forewarn {
namespace {

using ::testing::HasSubstr;

Area Geo(std::string geojson) {
  Area a;
  a.geojson = std::move(geojson);
  return a;
}

Area Round(Circle c) {
  Area a;
  a.circle = c;
  return a;
}

// The error message of ValidateArea("area", a), or "" when it passes.
std::string ErrorOf(const Area& a) {
  auto r = ValidateArea("area", a);
  if (r.ok()) return "";
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  return std::string(r.status().message());
}

std::string ErrorOf(const std::string& geojson) { return ErrorOf(Geo(geojson)); }

constexpr char kSquare[] = R"([[46.6,24.6],[46.8,24.6],[46.8,24.8],[46.6,24.8],[46.6,24.6]])";

// A closed ring of `n` positions (n - 1 distinct) around Riyadh.
std::string Ring(size_t n) {
  std::string out = "[";
  for (size_t i = 0; i + 1 < n; ++i) absl::StrAppend(&out, "[", 46.0 + i * 1e-5, ",", 24.0 + (i % 2) * 1e-3, "],");
  absl::StrAppend(&out, "[46,24]]");
  return out;
}

TEST(GeoAreaTest, PolygonBecomesCanonicalMultiPolygon) {
  auto r = ValidateArea("area", Geo(absl::StrCat(R"({ "type": "Polygon", "coordinates": [ )", kSquare, "] }")));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->geojson,
            R"({"coordinates":[[[[46.6,24.6],[46.8,24.6],[46.8,24.8],[46.6,24.8],[46.6,24.6]]]],"type":"MultiPolygon"})");
}

TEST(GeoAreaTest, MultiPolygonAndFeatureAcceptedAltitudeDroppedFullPrecisionKept) {
  const std::string multi =
      R"({"type":"MultiPolygon","coordinates":[[[[46.71234567890123,24.5,610],[47,24.5,1],[47,25,2],[46.71234567890123,24.5,610]]],)"
      R"([[[1,2],[3,2],[3,4],[1,2]],[[1.5,2.5],[2,2.5],[2,3],[1.5,2.5]]]]})";
  auto r = ValidateArea("area", Geo(multi));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_THAT(r->geojson, HasSubstr("[[[[46.71234567890123,24.5],[47.0,24.5],[47.0,25.0],[46.71234567890123,24.5]]]"));
  EXPECT_THAT(r->geojson, HasSubstr("[[1.5,2.5],[2.0,2.5],[2.0,3.0],[1.5,2.5]]"));
  EXPECT_THAT(r->geojson, HasSubstr(R"("type":"MultiPolygon")"));

  auto f = ValidateArea("area", Geo(absl::StrCat(R"({"type":"Feature","properties":{"name":"x"},)",
                                                 R"("geometry":{"type":"Polygon","coordinates":[)", kSquare, "]}}")));
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_EQ(f->geojson, ValidateArea("area", Geo(absl::StrCat(R"({"type":"Polygon","coordinates":[)", kSquare, "]}")))
                            ->geojson);
  // The canonical form is a fixed point.
  auto again = ValidateArea("area", Geo(r->geojson));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->geojson, r->geojson);
}

TEST(GeoAreaTest, NotJsonNamesTheParserPosition) {
  EXPECT_THAT(ErrorOf(R"({"type": "Polygon", "coordinates": [)"), HasSubstr("area.geojson: is not JSON (parse error at"));
  EXPECT_THAT(ErrorOf("{\"type\": Polygon}"), HasSubstr("column 10"));
}

TEST(GeoAreaTest, OtherTypesRefused) {
  EXPECT_EQ(ErrorOf(R"({"type":"Point","coordinates":[1,2]})"), "area.geojson: type Point is not Polygon or MultiPolygon");
  EXPECT_EQ(ErrorOf(R"({"type":"GeometryCollection","geometries":[]})"),
            "area.geojson: type GeometryCollection is not Polygon or MultiPolygon");
  EXPECT_EQ(ErrorOf(R"({"type":"Feature","geometry":{"type":"LineString","coordinates":[[1,2],[3,4]]}})"),
            "area.geojson: type LineString is not Polygon or MultiPolygon");
  EXPECT_EQ(ErrorOf(R"({"type":"Feature","geometry":null})"), "area.geojson: type Feature has no geometry object");
  EXPECT_EQ(ErrorOf(R"([1,2])"), "area.geojson: type array is not Polygon or MultiPolygon");
  EXPECT_EQ(ErrorOf(R"({"coordinates":[]})"), "area.geojson: type (none) is not Polygon or MultiPolygon");
  EXPECT_EQ(ErrorOf(R"({"type":"Polygon"})"), "area.geojson: Polygon: coordinates must be an array");
  EXPECT_EQ(ErrorOf(R"({"type":"Polygon","coordinates":[]})"),
            "area.geojson: polygon 1: must be a non-empty array of rings");
  EXPECT_EQ(ErrorOf(R"({"type":"MultiPolygon","coordinates":[]})"), "area.geojson: MultiPolygon: has no polygons");
}

TEST(GeoAreaTest, RingsMustHaveFourPositionsAndBeClosed) {
  EXPECT_EQ(ErrorOf(R"({"type":"Polygon","coordinates":[[[1,2],[3,2],[1,2]]]})"),
            "area.geojson: polygon 1, ring 1: has 3 positions, at least 4 needed (a closed ring)");
  EXPECT_EQ(ErrorOf(absl::StrCat(R"({"type":"MultiPolygon","coordinates":[[)", kSquare,
                                 R"(],[[[1,2],[3,2],[3,4],[1,2]],[[1.5,2.5],[2,2.5],[2,3],[1.6,2.5]]]]})")),
            "area.geojson: polygon 2, ring 2: not closed (first position [1.5,2.5] differs from last [1.6,2.5])");
  EXPECT_EQ(ErrorOf(R"({"type":"Polygon","coordinates":[{"a":1}]})"),
            "area.geojson: polygon 1, ring 1: must be an array of positions");
}

TEST(GeoAreaTest, PositionsAreLonLatInRange) {
  auto poly = [](const std::string& third) {
    return absl::StrCat(R"({"type":"Polygon","coordinates":[[[1,2],[3,2],)", third, R"(,[1,2]]]})");
  };
  EXPECT_EQ(ErrorOf(poly("[180.5,3]")), "area.geojson: polygon 1, ring 1, position 3: longitude 180.5 is outside -180 .. 180");
  EXPECT_EQ(ErrorOf(poly("[3,-90.000001]")),
            "area.geojson: polygon 1, ring 1, position 3: latitude -90.000001 is outside -90 .. 90");
  EXPECT_EQ(ErrorOf(poly("[3]")), "area.geojson: polygon 1, ring 1, position 3: must be [longitude, latitude] (2 or 3 numbers)");
  EXPECT_EQ(ErrorOf(poly("[3,4,5,6]")),
            "area.geojson: polygon 1, ring 1, position 3: must be [longitude, latitude] (2 or 3 numbers)");
  EXPECT_EQ(ErrorOf(poly(R"([3,"4"])")), R"(area.geojson: polygon 1, ring 1, position 3: "4" is not a number)");
  EXPECT_EQ(ErrorOf(poly("[3,null]")), "area.geojson: polygon 1, ring 1, position 3: null is not a number");
  EXPECT_EQ(ErrorOf(poly("[3,1e400]")), "area.geojson: is not JSON (number overflow parsing '1e400')");
  EXPECT_EQ(ErrorOf(poly("[-180,90]")), "");
  EXPECT_EQ(ErrorOf(poly("[180,-90]")), "");
}

TEST(GeoAreaTest, TenThousandPositionsAcceptedOneMoreRefused) {
  const auto at_limit = absl::StrCat(R"({"type":"Polygon","coordinates":[)", Ring(kMaxAreaVertices), "]}");
  auto ok = ValidateArea("area", Geo(at_limit));
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(ErrorOf(absl::StrCat(R"({"type":"Polygon","coordinates":[)", Ring(kMaxAreaVertices + 1), "]}")),
            "area.geojson: more than 10000 positions (10001 counted up to polygon 1, ring 1)");
  // All rings together count.
  EXPECT_THAT(ErrorOf(absl::StrCat(R"({"type":"MultiPolygon","coordinates":[[)", Ring(6000), "],[", Ring(4001), "]]}")),
              HasSubstr("more than 10000 positions (10001 counted up to polygon 2, ring 1)"));
}

TEST(GeoAreaTest, ExactlyOneShape) {
  EXPECT_EQ(ErrorOf(Area{}), "area: give geojson or circle");
  Area both = Geo(absl::StrCat(R"({"type":"Polygon","coordinates":[)", kSquare, "]}"));
  both.circle = Circle{24.7, 46.7, 500};
  EXPECT_EQ(ErrorOf(both), "area: give geojson or circle, not both");
}

TEST(GeoAreaTest, CircleInRange) {
  auto r = ValidateArea("targets.area", Round({24.7136, 46.6753, 1500}));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->circle, (Circle{24.7136, 46.6753, 1500}));
  EXPECT_TRUE(r->geojson.empty());
  EXPECT_EQ(ErrorOf(Round({91, 46, 100})), "area.circle.latitude: 91.0 is outside -90 .. 90");
  EXPECT_EQ(ErrorOf(Round({24, -181, 100})), "area.circle.longitude: -181.0 is outside -180 .. 180");
  EXPECT_EQ(ErrorOf(Round({24, 46, 0.5})), "area.circle.radius_meters: 0.5 is outside 1 .. 100000");
  EXPECT_EQ(ErrorOf(Round({24, 46, 100000.5})), "area.circle.radius_meters: 100000.5 is outside 1 .. 100000");
  EXPECT_THAT(ErrorOf(Round({24, 46, std::nan("")})), HasSubstr("area.circle.radius_meters: nan is outside"));
  EXPECT_EQ(ErrorOf(Round({24, 46, 1})), "");
  EXPECT_EQ(ErrorOf(Round({24, 46, 100000})), "");
}

TEST(GeoAreaTest, NamesAtMost200CharactersOfUtf8) {
  Area a = Round({24, 46, 100});
  a.name.ar = std::string(200, 'x');
  a.name.en = "Al Olaya";
  EXPECT_EQ(ErrorOf(a), "");
  a.name.ar = "";  // optional
  EXPECT_EQ(ErrorOf(a), "");
  a.name.en = std::string(201, 'x');
  EXPECT_EQ(ErrorOf(a), "area.name.en: is 201 characters, at most 200 allowed");
  a.name.en = "Olaya";
  a.name.ar = "\xff\xfe";
  EXPECT_EQ(ErrorOf(a), "area.name.ar: is not valid UTF-8");
  // 200 Arabic letters (400 bytes) are 200 characters.
  std::string arabic;
  for (int i = 0; i < 200; ++i) arabic += "\xd8\xb9";
  a.name.ar = arabic;
  EXPECT_EQ(ErrorOf(a), "");
}

}  // namespace
}  // namespace forewarn
