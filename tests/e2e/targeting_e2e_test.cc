// End-to-end precise targeting: PostgreSQL with PostGIS, Kafka, intake,
// resolver and two notifiers as separate processes. 3,000 electricity
// customers in riyadh, each supplied through one of nine transformers of the
// tree SUB-1 > F-1..F-3 > T-1..T-9 and placed on the map; every expected
// audience is computed here, independently of the SQL that selects it.
// (Uploaded lists end to end: AudienceListE2eTest.)
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <set>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "tests/e2e/stack.h"

namespace forewarn {
namespace {

namespace v1 = forewarn::v1;

constexpr int kCustomers = 3000;

// Customer `id` is on transformer T-(id % 9 + 1), under feeder F-(id % 9 / 3 + 1).
int FeederOf(int id) { return id % 9 / 3 + 1; }

// Where customer `id` is: spread over the box 46.5-46.9 E, 24.5-24.9 N (a
// low-discrepancy sequence, so the test knows every position).
std::pair<double, double> LonLatOf(int id) {
  double unused;
  return {46.5 + std::modf(id * 0.6180339887498949, &unused) * 0.4,
          24.5 + std::modf(id * 0.7548776662466927, &unused) * 0.4};
}

// Part of the city: a hexagon over the box's south-west and middle.
const std::vector<std::pair<double, double>> kHexagon = {{46.55, 24.55}, {46.75, 24.52}, {46.85, 24.70},
                                                         {46.70, 24.85}, {46.60, 24.80}, {46.52, 24.68},
                                                         {46.55, 24.55}};

std::string HexagonGeoJson() {
  std::string ring;
  for (const auto& [lon, lat] : kHexagon) absl::StrAppend(&ring, ring.empty() ? "" : ",", "[", lon, ",", lat, "]");
  return absl::StrCat(R"({"type":"Polygon","coordinates":[[)", ring, "]]}");
}

// Point in polygon by ray casting, the test's own computation.
bool InHexagon(std::pair<double, double> p) {
  bool inside = false;
  for (size_t i = 0, j = kHexagon.size() - 2; i + 1 < kHexagon.size(); j = i++) {
    const auto [xi, yi] = kHexagon[i];
    const auto [xj, yj] = kHexagon[j];
    if ((yi > p.second) != (yj > p.second) && p.first < (xj - xi) * (p.second - yi) / (yj - yi) + xi) {
      inside = !inside;
    }
  }
  return inside;
}

std::string SeedSql() {
  std::string sql =
      "INSERT INTO services VALUES ('electricity','Electricity','الكهرباء'),('water','Water','المياه');"
      "INSERT INTO regions VALUES ('riyadh','Riyadh','الرياض');"
      "INSERT INTO assets (code, kind, parent_code, name_ar, name_en) VALUES "
      "('SUB-1','substation',NULL,'محطة العليا','Olaya substation'),"
      "('F-1','feeder','SUB-1','حي السليمانية','Al Sulimaniyah'),"
      "('F-2','feeder','SUB-1','حي الورود','Al Wurud'),"
      "('F-3','feeder','SUB-1','حي المروج','Al Muruj');"
      "INSERT INTO assets (code, kind, parent_code, name_ar, name_en) "
      "SELECT 'T-' || t, 'transformer', 'F-' || ((t - 1) / 3 + 1), 'محول ' || t, 'Transformer ' || t "
      "FROM generate_series(1, 9) t;";
  std::string customers =
      "INSERT INTO customers (id, name, locale, time_zone, phone, email, channels_unplanned, "
      "  channels_maintenance, channels_banking) VALUES ";
  for (int id = 1; id <= kCustomers; ++id) {
    absl::StrAppend(&customers, id > 1 ? "," : "", testing::SeededCustomerRow(id, 60000000, "target"));
  }
  std::string places;
  for (int id = 1; id <= kCustomers; ++id) {
    const auto [lon, lat] = LonLatOf(id);
    absl::StrAppend(&places, "UPDATE customers SET location = ST_SetSRID(ST_MakePoint(", lon, ",", lat,
                    "), 4326) WHERE id = ", id, ";");
  }
  return absl::StrCat(
      sql, customers, ";", places,
      "INSERT INTO customer_services SELECT 'electricity', 'riyadh', i FROM generate_series(1, ", kCustomers, ") i;",
      "INSERT INTO customer_assets (asset_code, service_code, customer_id) "
      "SELECT 'T-' || (i % 9 + 1), 'electricity', i FROM generate_series(1, ", kCustomers, ") i;",
      // Water customers on the same transformers and inside the area: an
      // electricity outage must not reach them.
      "INSERT INTO customers (id, name, locale, time_zone, email, location) "
      "SELECT i, 'W' || i, 'en', 'Asia/Riyadh', 'w' || i || '@example.com', "
      "ST_SetSRID(ST_MakePoint(46.7, 24.7), 4326) FROM generate_series(9001, 9050) i;",
      "INSERT INTO customer_services SELECT 'water', 'riyadh', i FROM generate_series(9001, 9050) i;",
      "INSERT INTO customer_assets (asset_code, service_code, customer_id) "
      "SELECT 'T-5', 'water', i FROM generate_series(9001, 9050) i;");
}

class TargetingE2eTest : public testing::StackTest {
 protected:
  void SetUp() override { StartStack(SeedSql()); }

  v1::CreateIncidentRequest Outage(const std::string& key) {
    v1::CreateIncidentRequest req = testing::OutageRequest(key, "electricity", "riyadh", "A cable fault",
                                                           "عطل في كابل", absl::Hours(3));
    req.clear_regions();
    return req;
  }

  // (customer, channel) -> how many notices of `kind`/`occasion` at `version`
  // the outbox holds for incident `id`, once `want` of them are in the
  // ledger (and half a second more, for a duplicate to surface).
  std::map<std::pair<int64_t, std::string>, int> Delivered(const std::string& id, int64_t version,
                                                           const std::string& kind, const std::string& occasion,
                                                           size_t want) {
    const std::string sql = absl::StrCat("SELECT count(*) FROM notice_ledger WHERE incident_id = '", id,
                                         "' AND incident_version = ", version, " AND notice_kind = '", kind,
                                         "' AND occasion = '", occasion, "' AND state = 'sent'");
    EXPECT_TRUE(stack_.WaitForCount(sql, static_cast<int64_t>(want)))
        << stack_.db().Exec("SELECT string_agg(channel || ' ' || state || ' ' || coalesce(error, '') || ' x' || n, '; ') "
                            "FROM (SELECT channel, state, error, count(*) n FROM notice_ledger GROUP BY 1, 2, 3) s");
    absl::SleepFor(absl::Milliseconds(500));
    std::map<std::pair<int64_t, std::string>, int> got;
    for (const auto& d : stack_.ReadOutbox()) {
      const bool of_incident = d.line.at("message_id").get<std::string>().rfind("<" + id + ".", 0) == 0;
      if (of_incident && d.version == version && d.kind == kind && d.occasion == occasion) {
        ++got[{d.customer_id, d.channel}];
      }
    }
    return got;
  }

  // Asserts that `got` holds each of `ids`' recipients exactly once, and no one else.
  static void ExpectExactlyOnce(const std::map<std::pair<int64_t, std::string>, int>& got, const std::set<int>& ids) {
    std::set<std::pair<int64_t, std::string>> seen;
    for (const auto& [who, n] : got) {
      EXPECT_EQ(n, 1) << "customer " << who.first << " " << who.second << " got " << n;
      seen.insert(who);
    }
    EXPECT_EQ(seen, testing::SeededRecipients(ids));
  }
};

TEST_F(TargetingE2eTest, AnOutageOnOneFeederReachesExactlyTheCustomersUnderIt) {
  v1::CreateIncidentRequest req = Outage("feeder-2");
  req.add_asset_codes("F-2");
  const auto created = stack_.CreateIncident(req);
  ASSERT_TRUE(created.ok()) << created.status();
  std::set<int> under;
  for (int id = 1; id <= kCustomers; ++id) {
    if (FeederOf(id) == 2) under.insert(id);
  }
  const auto want = testing::SeededRecipients(under);
  const auto got = Delivered(created->id(), 1, "outage_started", "", want.size());
  ExpectExactlyOnce(got, under);
  // The notice names the place the customer knows, in their language.
  for (const auto& d : stack_.ReadOutbox()) {
    if (d.kind != "outage_started" || d.channel != "sms") continue;
    const bool ar = testing::SeededCustomerFor(static_cast<int>(d.customer_id)).locale == "ar";
    EXPECT_NE(d.line.at("text").get<std::string>().find(ar ? "حي الورود" : "Al Wurud"), std::string::npos)
        << d.line.at("text");
  }
}

TEST_F(TargetingE2eTest, APolygonOverPartOfTheCityReachesExactlyTheCustomersInside) {
  v1::CreateIncidentRequest req = Outage("polygon");
  req.mutable_area()->set_geojson(HexagonGeoJson());
  req.mutable_area()->mutable_name()->set_en("Central Riyadh");
  req.mutable_area()->mutable_name()->set_ar("وسط الرياض");
  std::set<int> inside;
  for (int id = 1; id <= kCustomers; ++id) {
    if (InHexagon(LonLatOf(id))) inside.insert(id);
  }
  ASSERT_GT(inside.size(), 500u);
  ASSERT_LT(inside.size(), 2500u);
  const auto created = stack_.CreateIncident(req);
  ASSERT_TRUE(created.ok()) << created.status();
  ExpectExactlyOnce(Delivered(created->id(), 1, "outage_started", "", testing::SeededRecipients(inside).size()),
                    inside);
}

TEST_F(TargetingE2eTest, AnUpdateAddingAFeederAndRemovingTheAreaTellsExactlyWhoJoinedAndWhoLeft) {
  v1::CreateIncidentRequest req = Outage("spread");
  req.add_asset_codes("F-1");
  req.mutable_area()->set_geojson(HexagonGeoJson());
  std::set<int> before, after;
  for (int id = 1; id <= kCustomers; ++id) {
    if (FeederOf(id) == 1 || InHexagon(LonLatOf(id))) before.insert(id);
    if (FeederOf(id) == 1 || FeederOf(id) == 2) after.insert(id);
  }
  const auto created = stack_.CreateIncident(req);
  ASSERT_TRUE(created.ok()) << created.status();
  ExpectExactlyOnce(Delivered(created->id(), 1, "outage_started", "", testing::SeededRecipients(before).size()),
                    before);

  v1::UpdateIncidentRequest update;
  update.set_id(created->id());
  update.mutable_targets()->add_asset_codes("F-1");
  update.mutable_targets()->add_asset_codes("F-2");
  v1::Incident updated;
  const grpc::Status s = stack_.stub().UpdateIncident(stack_.Ctx().get(), update, &updated);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(updated.version(), 2);
  EXPECT_FALSE(updated.has_area());

  std::set<int> joined, left;
  for (int id : after) {
    if (!before.contains(id)) joined.insert(id);
  }
  for (int id : before) {
    if (!after.contains(id)) left.insert(id);
  }
  ASSERT_FALSE(joined.empty());
  ASSERT_FALSE(left.empty());
  ExpectExactlyOnce(
      Delivered(created->id(), 2, "outage_started", "joined", testing::SeededRecipients(joined).size()), joined);
  ExpectExactlyOnce(Delivered(created->id(), 2, "outage_restored", "left", testing::SeededRecipients(left).size()),
                    left);
  // Nothing else at version 2: the customers who stayed learn nothing new.
  EXPECT_EQ(stack_.db().Exec(absl::StrCat("SELECT count(*) FROM notice_ledger WHERE incident_id = '",
                                          created->id(), "' AND incident_version = 2")),
            absl::StrCat(testing::SeededRecipients(joined).size() + testing::SeededRecipients(left).size()));
  // The preview counts the new targets per selector.
  v1::PreviewNoticesRequest preview;
  preview.set_incident_id(created->id());
  v1::PreviewNoticesResponse previewed;
  ASSERT_TRUE(stack_.stub().PreviewNotices(stack_.Ctx().get(), preview, &previewed).ok());
  ASSERT_EQ(previewed.audience().selectors_size(), 1);
  EXPECT_EQ(previewed.audience().selectors(0).selector(), "assets");
  EXPECT_EQ(previewed.audience().customers(), static_cast<int64_t>(after.size()));
}

TEST_F(TargetingE2eTest, BadTargetsAreRefusedNamingTheFieldAndNothingIsStored) {
  auto expect = [&](v1::CreateIncidentRequest req, const std::string& message) {
    const auto r = stack_.CreateIncident(req);
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << r.status();
    EXPECT_NE(std::string(r.status().message()).find(message), std::string::npos) << r.status();
  };
  expect(Outage("none"), "regions, asset_codes, audience_id, area: at least one selector is required");
  v1::CreateIncidentRequest unknown = Outage("unknown");
  unknown.add_asset_codes("F-9");
  expect(unknown, "asset_codes: unknown asset F-9");
  v1::CreateIncidentRequest bowtie = Outage("bowtie");
  bowtie.mutable_area()->set_geojson(
      R"({"type":"Polygon","coordinates":[[[46.6,24.6],[46.8,24.8],[46.8,24.6],[46.6,24.8],[46.6,24.6]]]})");
  expect(bowtie, "area: Self-intersection");
  v1::CreateIncidentRequest open = Outage("open-ring");
  open.mutable_area()->set_geojson(R"({"type":"Polygon","coordinates":[[[46.6,24.6],[46.8,24.8],[46.8,24.6],[46.6,24.7]]]})");
  expect(open, "area.geojson");
  v1::CreateIncidentRequest far = Outage("far");
  far.mutable_area()->mutable_circle()->set_latitude(95);
  far.mutable_area()->mutable_circle()->set_longitude(46.7);
  far.mutable_area()->mutable_circle()->set_radius_meters(500);
  expect(far, "area.circle");
  EXPECT_EQ(stack_.db().Exec("SELECT count(*) FROM incidents"), "0");
}

}  // namespace
}  // namespace forewarn
