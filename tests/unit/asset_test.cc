// The network asset tree's domain rules (services/directory/asset.h), the
// asset links and location a customer record may carry
// (ValidateCustomer), and their CSV columns (services/cli/customer_file.h).
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "services/cli/customer_file.h"
#include "services/directory/asset.h"
#include "services/directory/customer.h"

namespace forewarn {
namespace {

Asset MakeAsset(std::string code, std::string parent = "") {
  return Asset{std::move(code), "feeder", std::move(parent), LocalizedText{"العليا", "Olaya"}};
}

std::string Error(const std::vector<Asset>& assets) {
  absl::Status s = ValidateAssets(assets);
  EXPECT_TRUE(s.ok() || s.code() == absl::StatusCode::kInvalidArgument) << s;
  return std::string(s.message());
}

TEST(AssetValidation, AcceptsAWellFormedBatch) {
  EXPECT_EQ(Error({MakeAsset("S-1"), MakeAsset("F_1.a:b", "S-1"), MakeAsset(std::string(64, 'x'), "S-1")}), "");
}

TEST(AssetValidation, EachRuleNamesTheAssetAndField) {
  Asset a = MakeAsset("T 1");
  EXPECT_EQ(Error({MakeAsset("ok"), a}), "assets[1].code: 'T 1' is not 1-64 of A-Z a-z 0-9 _ . : -");
  EXPECT_EQ(Error({MakeAsset("")}), "assets[0].code: is required");
  EXPECT_EQ(Error({MakeAsset(std::string(65, 'x'))}).substr(0, 15), "assets[0].code:");
  a = MakeAsset("T1");
  a.kind = "Feeder";
  EXPECT_EQ(Error({a}), "assets[0].kind: 'Feeder' is not 1-32 of a-z 0-9 _");
  a.kind = std::string(33, 'k');
  EXPECT_EQ(Error({a}).substr(0, 15), "assets[0].kind:");
  a = MakeAsset("T1", "T1");
  EXPECT_EQ(Error({MakeAsset("A"), MakeAsset("B"), MakeAsset("C"), a}),
            "assets[3].parent_code: is the asset's own code");
  a = MakeAsset("T1", "bad parent");
  EXPECT_EQ(Error({a}).substr(0, 22), "assets[0].parent_code:");
  a = MakeAsset("T1");
  a.name.ar = "";
  EXPECT_EQ(Error({a}), "assets[0].name.ar: is required");
  a.name.ar = "x";
  a.name.en = std::string(201, 'e');
  EXPECT_EQ(Error({a}), "assets[0].name.en: is longer than 200 characters");
  a.name.en = std::string(200, 'e');
  EXPECT_EQ(Error({a}), "");
  a.name.en = "\xff\xfe";
  EXPECT_EQ(Error({a}), "assets[0].name.en: is not valid UTF-8");
  EXPECT_EQ(Error({MakeAsset("A"), MakeAsset("A")}), "assets[1].code: 'A' repeats assets[0]");
}

TEST(AssetValidation, BatchSizeIsBounded) {
  EXPECT_EQ(Error({}), "assets: at least one asset is required");
  std::vector<Asset> many;
  for (int i = 0; i < 10001; ++i) many.push_back(MakeAsset("A" + std::to_string(i)));
  EXPECT_EQ(Error(many), "assets: at most 10000 per request (got 10001)");
  many.pop_back();
  EXPECT_EQ(Error(many), "");
}

// The service checks the page size and token before the store is asked.
class NoAssetStore final : public AssetStore {
 public:
  absl::StatusOr<AssetUpsertCounts> Upsert(const std::vector<Asset>& assets) override {
    ++calls;
    return AssetUpsertCounts{static_cast<int64_t>(assets.size()), 0, 0};
  }
  absl::StatusOr<AssetPage> List(const AssetFilter& f) override {
    ++calls;
    last = f;
    return AssetPage{};
  }
  int calls = 0;
  AssetFilter last;
};

TEST(AssetDirectory, ChecksRequestsBeforeTheStore) {
  NoAssetStore store;
  AssetDirectoryService service(store);
  EXPECT_EQ(service.Upsert({MakeAsset("A", "A")}).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(store.calls, 0);
  EXPECT_EQ(service.List({"", 5001, ""}).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(service.List({"", 0, "not a code!"}).status().message(), "page_token: not a token ListAssets returned");
  EXPECT_EQ(store.calls, 0);
  ASSERT_TRUE(service.List({"S1", 0, ""}).ok());
  EXPECT_EQ(store.last.page_size, 100);
  EXPECT_EQ(service.Upsert({MakeAsset("A")})->inserted, 1);
}

// --- customer links and location ---

Customer MakeCustomer() {
  Customer c;
  c.external_id = "C1";
  c.name = "Ali";
  c.locale = "ar";
  c.time_zone = "Asia/Riyadh";
  c.services = {{"electricity", "riyadh"}, {"water", "riyadh"}};
  return c;
}

std::optional<FieldError> Check(Customer& c) {
  const std::set<std::string> services = {"electricity", "water", "telecom"}, regions = {"riyadh"};
  return ValidateCustomer(c, ContactRules{}, services, regions, OptOutPolicy{});
}

TEST(CustomerLinks, LinksNameTheCustomersOwnServicesAndKeepTheirOrder) {
  Customer c = MakeCustomer();
  c.assets = {{"water", "W-2"}, {"electricity", "TX-1"}};
  EXPECT_FALSE(Check(c));
  EXPECT_EQ(c.assets, (std::vector<AssetLink>{{"water", "W-2"}, {"electricity", "TX-1"}}));

  c.assets = {{"electricity", "TX-1"}, {"telecom", "CELL-1"}};  // a known service, not the customer's
  auto e = Check(c);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->field, "assets[1].service");
  EXPECT_EQ(e->reason, "'telecom' is not one of the customer's services");

  c.assets = {{"electricity", "TX 1"}};
  e = Check(c);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->field, "assets[0].asset");
  c.assets = {{"electricity", ""}};
  EXPECT_EQ(Check(c)->reason, "is required");

  c.assets = {{"electricity", "TX-1"}, {"water", "TX-1"}, {"electricity", "TX-1"}};
  e = Check(c);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->field, "assets[2]");
  EXPECT_EQ(e->reason, "repeats an earlier link");

  c.assets.assign(65, {"electricity", "TX-1"});
  EXPECT_EQ(Check(c)->field, "assets");
}

TEST(CustomerLinks, LocationIsInRangeAndFinite) {
  Customer c = MakeCustomer();
  c.location = GeoPoint{24.7136, 46.6753};
  EXPECT_FALSE(Check(c));
  for (GeoPoint p : {GeoPoint{90, 180}, GeoPoint{-90, -180}}) {
    c.location = p;
    EXPECT_FALSE(Check(c));
  }
  const double nan = std::numeric_limits<double>::quiet_NaN(), inf = std::numeric_limits<double>::infinity();
  for (GeoPoint p : {GeoPoint{90.0001, 0}, GeoPoint{-91, 0}, GeoPoint{nan, 0}, GeoPoint{inf, 0}}) {
    c.location = p;
    auto e = Check(c);
    ASSERT_TRUE(e);
    EXPECT_EQ(e->field, "location.latitude");
  }
  for (GeoPoint p : {GeoPoint{0, 180.5}, GeoPoint{0, -181}, GeoPoint{0, nan}, GeoPoint{0, -inf}}) {
    c.location = p;
    auto e = Check(c);
    ASSERT_TRUE(e);
    EXPECT_EQ(e->field, "location.longitude");
  }
  c.location = GeoPoint{-0.0, -0.0};
  EXPECT_FALSE(Check(c));
  EXPECT_FALSE(std::signbit(c.location->latitude));  // -0 is 0
}

// --- CSV columns ---

struct Rows {
  std::vector<cli::CustomerRow> rows;
  std::string error;
};

Rows ReadCsv(const std::string& text) {
  std::istringstream in(text);
  Rows out;
  auto reader = cli::CustomerReader::Open(in, cli::CustomerFormat::kCsv, "c.csv");
  if (!reader.ok()) {
    out.error = std::string(reader.status().message());
    return out;
  }
  for (;;) {
    cli::CustomerRow row;
    auto more = (*reader)->Next(&row);
    if (!more.ok()) out.error = std::string(more.status().message());
    if (!more.ok() || !*more) return out;
    out.rows.push_back(row);
  }
}

TEST(CustomerCsvTargeting, ReadsAssetsAndLocation) {
  auto r = ReadCsv(
      "external_id,name,language,time_zone,services,assets,latitude,longitude\n"
      "C1,Ali,ar,Asia/Riyadh,electricity/riyadh;water/riyadh,electricity:TX-1;water:W:2,24.7136,46.6753\n"
      "C2,Sara,en,Asia/Riyadh,electricity/riyadh,,,\n");
  ASSERT_EQ(r.error, "");
  ASSERT_EQ(r.rows.size(), 2u);
  const v1::Customer& c = r.rows[0].customer;
  ASSERT_EQ(c.assets_size(), 2);
  EXPECT_EQ(c.assets(0).service(), "electricity");
  EXPECT_EQ(c.assets(0).asset(), "TX-1");
  EXPECT_EQ(c.assets(1).asset(), "W:2");  // split at the first ':'
  ASSERT_TRUE(c.has_location());
  EXPECT_EQ(c.location().latitude(), 24.7136);
  EXPECT_EQ(c.location().longitude(), 46.6753);
  EXPECT_FALSE(r.rows[1].customer.has_location());
  EXPECT_EQ(r.rows[1].customer.assets_size(), 0);
}

TEST(CustomerCsvTargeting, BadValuesAreRejectedRows) {
  auto r = ReadCsv(
      "external_id,name,language,time_zone,assets,latitude,longitude\n"
      "C1,Ali,ar,Asia/Riyadh,TX-1,,\n"
      "C2,Ali,ar,Asia/Riyadh,,24.7,\n"
      "C3,Ali,ar,Asia/Riyadh,,north,46.7\n"
      "C4,Ali,ar,Asia/Riyadh,,24.7,46.7\n");
  ASSERT_EQ(r.error, "");
  ASSERT_EQ(r.rows.size(), 4u);
  ASSERT_TRUE(r.rows[0].problem);
  EXPECT_EQ(r.rows[0].problem->field, "assets[0]");
  EXPECT_EQ(r.rows[0].problem->reason, "'TX-1' is not SERVICE:ASSET (e.g. electricity:TX-1)");
  ASSERT_TRUE(r.rows[1].problem);
  EXPECT_EQ(r.rows[1].problem->field, "location.longitude");
  ASSERT_TRUE(r.rows[2].problem);
  EXPECT_EQ(r.rows[2].problem->field, "location.latitude");
  EXPECT_EQ(r.rows[2].customer.external_id(), "C3");
  EXPECT_FALSE(r.rows[3].problem);
}

TEST(CustomerCsvTargeting, LatitudeNeedsLongitudeInTheHeader) {
  EXPECT_EQ(ReadCsv("external_id,name,language,time_zone,latitude\n").error,
            "c.csv:1: column 'latitude' needs 'longitude' (both or neither)");
}

TEST(CustomerCsvTargeting, ExportThenReadKeepsLinksAndLocation) {
  v1::Customer c;
  c.set_external_id("C1");
  c.set_name("Ali");
  c.set_language("ar");
  c.set_time_zone("Asia/Riyadh");
  auto* l = c.add_assets();
  l->set_service("electricity");
  l->set_asset("RUH:TX-0001");
  c.mutable_location()->set_latitude(24.713600000000001);
  c.mutable_location()->set_longitude(-0.1);
  std::ostringstream out;
  ASSERT_TRUE(cli::CustomerWriter::Open(out, cli::CustomerFormat::kCsv)->Write(c).ok());
  EXPECT_NE(out.str().find(",electricity:RUH:TX-0001,24.7136,-0.1\n"), std::string::npos) << out.str();
  auto r = ReadCsv(out.str());
  ASSERT_EQ(r.error, "");
  ASSERT_EQ(r.rows.size(), 1u);
  EXPECT_EQ(r.rows[0].customer.SerializeAsString(), c.SerializeAsString());
  c.mutable_assets(0)->set_service("elec:tricity");
  EXPECT_EQ(cli::CustomerWriter::Open(out, cli::CustomerFormat::kCsv)->Write(c).code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(AssetCsv, ReadsByHeaderAndStopsAtAMalformedRecord) {
  std::istringstream in("name_en,code,kind,name_ar\nOlaya,F1,feeder,العليا\nx,y\n");
  cli::CsvTable table(in, "assets.csv");
  ASSERT_TRUE(table.ReadHeader({"code", "kind", "name_ar", "name_en", "parent_code"}, 4).ok());
  std::vector<std::string> fields;
  int64_t line = 0;
  ASSERT_TRUE(*table.Next(&fields, &line));
  EXPECT_EQ(line, 2);
  EXPECT_EQ(fields, (std::vector<std::string>{"F1", "feeder", "العليا", "Olaya", ""}));
  auto bad = table.Next(&fields, &line);
  EXPECT_EQ(bad.status().message(), "assets.csv:3: 2 fields, expected 4 (as the header)");
  std::istringstream missing("code,kind,name_en\n");
  cli::CsvTable t2(missing, "a.csv");
  EXPECT_EQ(t2.ReadHeader({"code", "kind", "name_ar", "name_en", "parent_code"}, 4).message(),
            "a.csv:1: missing column 'name_ar'");
}

}  // namespace
}  // namespace forewarn
