// Precise targeting against the real PostgreSQL/PostGIS: who each selector
// reaches (assets with their subtrees, uploaded lists, map areas), their
// union restricted to the incident's services, the audience changes between
// versions, and the refusals that store nothing.
#include <set>

#include "tests/integration/pg_fixture.h"
#include "tests/support/new_incidents.h"

namespace forewarn {
namespace {

const absl::Time kNow = absl::FromUnixSeconds(1'790'000'000);
constexpr char kList[] = "0f8fad5b-d9cb-469f-a165-70867728950e";

// SUB-1 > F-1 > T-1, T-2; SUB-1 > F-2 > T-3; SUB-2 > F-3 > T-4.
// Electricity customers in riyadh: 1 (T-1), 2 (T-2), 3 (on F-1 itself),
// 4 (T-3), 5 (T-4), 7 (T-1 but for water only: not an electricity link),
// 9, 10. Water only: 6 (T-1 for water), 8, 11.
// Locations: 1 and 5 inside the box 46.6-46.8 E, 24.6-24.8 N; 8 inside (water
// only); 4 outside. The uploaded list holds 9, 10 and 11.
constexpr char kSeed[] = R"sql(
INSERT INTO services VALUES ('electricity', 'Electricity', 'الكهرباء'), ('water', 'Water', 'المياه');
INSERT INTO regions VALUES ('riyadh', 'Riyadh', 'الرياض');
INSERT INTO assets (code, kind, parent_code, name_ar, name_en) VALUES
  ('SUB-1', 'substation', NULL, 'محطة العليا', 'Olaya substation'),
  ('SUB-2', 'substation', NULL, 'محطة الملز', 'Malaz substation'),
  ('F-1', 'feeder', 'SUB-1', 'حي السليمانية', 'Al Sulimaniyah'),
  ('F-2', 'feeder', 'SUB-1', 'حي الورود', 'Al Wurud'),
  ('F-3', 'feeder', 'SUB-2', 'حي الملز', 'Al Malaz'),
  ('T-1', 'transformer', 'F-1', 'محول 1', 'Transformer 1'),
  ('T-2', 'transformer', 'F-1', 'محول 2', 'Transformer 2'),
  ('T-3', 'transformer', 'F-2', 'محول 3', 'Transformer 3'),
  ('T-4', 'transformer', 'F-3', 'محول 4', 'Transformer 4');
INSERT INTO customers (id, name, locale, time_zone, phone, email, location)
SELECT i, 'C' || i, 'en', 'Asia/Riyadh', '+96650000000' || (i % 10), 'c' || i || '@example.com',
       CASE i WHEN 1 THEN ST_SetSRID(ST_MakePoint(46.7, 24.7), 4326)
              WHEN 5 THEN ST_SetSRID(ST_MakePoint(46.65, 24.65), 4326)
              WHEN 8 THEN ST_SetSRID(ST_MakePoint(46.75, 24.75), 4326)
              WHEN 4 THEN ST_SetSRID(ST_MakePoint(46.9, 24.7), 4326) END
FROM generate_series(1, 11) i;
INSERT INTO customer_services (service_code, region_code, customer_id)
SELECT 'electricity', 'riyadh', i FROM unnest(ARRAY[1, 2, 3, 4, 5, 7, 9, 10]) i;
INSERT INTO customer_services (service_code, region_code, customer_id)
SELECT 'water', 'riyadh', i FROM unnest(ARRAY[6, 7, 8, 11]) i;
INSERT INTO customer_assets (asset_code, service_code, customer_id) VALUES
  ('T-1', 'electricity', 1), ('T-2', 'electricity', 2), ('F-1', 'electricity', 3), ('T-3', 'electricity', 4),
  ('T-4', 'electricity', 5), ('T-1', 'water', 6), ('T-1', 'water', 7);
INSERT INTO audiences (id, created_by, entries, customers, unknown) VALUES ('0f8fad5b-d9cb-469f-a165-70867728950e', 'test', 3, 3, 0);
INSERT INTO audience_members (audience_id, customer_id) VALUES
  ('0f8fad5b-d9cb-469f-a165-70867728950e', 9), ('0f8fad5b-d9cb-469f-a165-70867728950e', 10),
  ('0f8fad5b-d9cb-469f-a165-70867728950e', 11);
)sql";

constexpr char kBox[] =
    R"({"type":"MultiPolygon","coordinates":[[[[46.6,24.6],[46.8,24.6],[46.8,24.8],[46.6,24.8],[46.6,24.6]]]]})";

Area Box() {
  Area a;
  a.geojson = kBox;
  a.name = {"وسط الرياض", "Central Riyadh"};
  return a;
}

class PgTargetingTest : public testing::PgTest {
 protected:
  void SetUp() override {
    SetUpStore(kSeed);
    if (store_ != nullptr) audience_ = std::make_unique<PgAudienceSource>(PgDatabase(db_->uri(), 2));
  }

  NewIncident Outage(const std::string& key, Targets t) {
    NewIncident n = testing::OutageIncident(key, "electricity", "riyadh", {"عطل", "Cable fault"},
                                            kNow + absl::Hours(3));
    n.starts_at = kNow;
    n.regions = t.regions;
    n.asset_codes = t.asset_codes;
    n.audience_id = t.audience_id;
    n.area = t.area;
    return n;
  }

  absl::StatusOr<Incident> Create(const NewIncident& n) {
    return store_->Create(n, kNow, [](const Incident&) { return NoticePlan{}; });
  }

  // The customers a stream reaches.
  std::set<int64_t> Customers(const AudienceQuery& q) {
    std::set<int64_t> out;
    auto s = audience_->Stream(q, [&](const Recipient& r) {
      out.insert(r.customer_id);
      return absl::OkStatus();
    });
    EXPECT_TRUE(s.ok()) << s;
    return out;
  }
  std::set<int64_t> Reached(Targets t) {
    auto i = Create(Outage("k-" + std::to_string(++keys_), std::move(t)));
    EXPECT_TRUE(i.ok()) << i.status();
    if (!i.ok()) return {};
    return Customers(AudienceQuery{*store_->GetVersion(i->id, 1)});
  }

  std::unique_ptr<PgAudienceSource> audience_;
  int keys_ = 0;
};

using Set = std::set<int64_t>;

TEST_F(PgTargetingTest, AnAssetReachesTheCustomersOfItsSubtreeForTheIncidentsServices) {
  EXPECT_EQ(Reached({{}, {"F-1"}, "", std::nullopt}), (Set{1, 2, 3}));
  EXPECT_EQ(Reached({{}, {"T-1"}, "", std::nullopt}), (Set{1}));
  EXPECT_EQ(Reached({{}, {"SUB-1"}, "", std::nullopt}), (Set{1, 2, 3, 4}));
  EXPECT_EQ(Reached({{}, {"F-2", "SUB-2"}, "", std::nullopt}), (Set{4, 5}));
}

TEST_F(PgTargetingTest, AnUploadedListReachesItsMembersWhoUseTheServices) {
  EXPECT_EQ(Reached({{}, {}, kList, std::nullopt}), (Set{9, 10}));
}

TEST_F(PgTargetingTest, AnAreaReachesTheCustomersInsideWhoUseTheServices) {
  EXPECT_EQ(Reached({{}, {}, "", Box()}), (Set{1, 5}));
  Area circle;
  circle.circle = Circle{24.7, 46.7, 5000};  // customer 5 is ~7.5 km away
  EXPECT_EQ(Reached({{}, {}, "", circle}), (Set{1}));
}

TEST_F(PgTargetingTest, SelectorsUniteAndTheSizeCountsEachAndTheUnion) {
  const Targets t{{}, {"F-1"}, kList, Box()};
  EXPECT_EQ(Reached(t), (Set{1, 2, 3, 5, 9, 10}));
  auto size = audience_->Size(IncidentKind::kUnplannedOutage, {"electricity"}, t);
  ASSERT_TRUE(size.ok()) << size.status();
  ASSERT_EQ(size->selectors.size(), 3u);
  EXPECT_EQ(size->selectors[0].name, "assets");
  EXPECT_EQ(size->selectors[0].customers, 3);
  EXPECT_EQ(size->selectors[1].name, "audience");
  EXPECT_EQ(size->selectors[1].customers, 2);
  EXPECT_EQ(size->selectors[2].name, "area");
  EXPECT_EQ(size->selectors[2].customers, 2);
  EXPECT_EQ(size->customers, 6);  // customer 1 is under F-1 and inside the area: once
  EXPECT_EQ(size->sms_recipients, 6);
  EXPECT_EQ(size->email_recipients, 6);
  // Regions alone: everyone of the service there.
  auto regions = audience_->Size(IncidentKind::kUnplannedOutage, {"electricity"}, {{"riyadh"}, {}, "", std::nullopt});
  ASSERT_TRUE(regions.ok()) << regions.status();
  EXPECT_EQ(regions->customers, 8);
}

TEST_F(PgTargetingTest, UnknownAssetsListsAndInvalidAreasAreRefusedNamingTheFieldAndNothingIsStored) {
  auto unknown = Create(Outage("a", {{}, {"F-1", "F-9", "X"}, "", std::nullopt}));
  EXPECT_EQ(unknown.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(unknown.status().message(), "asset_codes: unknown assets F-9, X");
  auto list = Create(Outage("b", {{}, {}, "6f9619ff-8b86-4011-b42d-00c04fc964ff", std::nullopt}));
  EXPECT_EQ(list.status().message(), "audience_id: no uploaded audience 6f9619ff-8b86-4011-b42d-00c04fc964ff");
  Area bowtie;
  bowtie.geojson = R"({"type":"MultiPolygon","coordinates":[[[[46.6,24.6],[46.8,24.8],[46.8,24.6],[46.6,24.8],[46.6,24.6]]]]})";
  auto area = Create(Outage("c", {{}, {}, "", bowtie}));
  EXPECT_EQ(area.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(std::string(area.status().message()).substr(0, 24), "area: Self-intersection[") << area.status();
  auto size = audience_->Size(IncidentKind::kUnplannedOutage, {"electricity"}, {{}, {"F-9"}, "", std::nullopt});
  EXPECT_EQ(size.status().message(), "targets.asset_codes: unknown asset F-9");
  EXPECT_EQ(db_->Exec("SELECT count(*) FROM incidents"), "0");
}

TEST_F(PgTargetingTest, AnUpdateOfTheTargetsTellsJoinedLeftAndStayedApart) {
  auto created = Create(Outage("u", {{}, {"F-1"}, "", Box()}));  // 1, 2, 3, 5
  ASSERT_TRUE(created.ok()) << created.status();
  IncidentUpdate u;
  u.id = created->id;
  u.targets = Targets{{}, {"F-1", "F-2"}, "", std::nullopt};  // 1, 2, 3, 4
  ASSERT_TRUE(store_->Update(u, kNow + absl::Minutes(5), {}).ok());
  const Incident v1 = *store_->GetVersion(created->id, 1), v2 = *store_->GetVersion(created->id, 2);
  EXPECT_EQ(v2.asset_codes, (std::vector<std::string>{"F-1", "F-2"}));
  EXPECT_FALSE(v2.area.has_value());
  EXPECT_EQ(Customers({v2, AudienceScope::kJoined, &v1}), (Set{4}));
  EXPECT_EQ(Customers({v2, AudienceScope::kLeft, &v1}), (Set{5}));
  EXPECT_EQ(Customers({v2, AudienceScope::kStayed, &v1}), (Set{1, 2, 3}));
  EXPECT_EQ(Customers({v2}), (Set{1, 2, 3, 4}));
  // Unknown new targets change nothing.
  u.targets = Targets{{}, {"F-7"}, "", std::nullopt};
  EXPECT_EQ(store_->Update(u, kNow + absl::Minutes(6), {}).status().message(), "targets.asset_codes: unknown asset F-7");
  EXPECT_EQ(store_->Get(created->id)->version, 2);
}

TEST_F(PgTargetingTest, AVersionNamesThePlacesItTargets) {
  auto i = Create(Outage("p", {{"riyadh"}, {"F-2", "F-1"}, "", Box()}));
  ASSERT_TRUE(i.ok()) << i.status();
  const Incident v = *store_->GetVersion(i->id, 1);
  ASSERT_EQ(v.place_names.size(), 3u);
  EXPECT_EQ(v.place_names[0], (LocalizedText{"حي الورود", "Al Wurud"}));
  EXPECT_EQ(v.place_names[1], (LocalizedText{"حي السليمانية", "Al Sulimaniyah"}));
  EXPECT_EQ(v.place_names[2], (LocalizedText{"وسط الرياض", "Central Riyadh"}));
  ASSERT_TRUE(v.area.has_value());
  EXPECT_EQ(v.area->geojson, kBox);
  // A circle is kept as given.
  Area circle;  // kept exactly, to the last digit
  circle.circle = Circle{24.713612345678901, 46.675298765432101, 1500.25};
  auto c = Create(Outage("q", {{}, {}, "", circle}));
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->area->circle, circle.circle);
}

}  // namespace
}  // namespace forewarn
