// Integration tests of the network asset tree's PostgreSQL adapter
// (PgAssetStore, migrations 0011 and 0012) and of customers' asset links and
// locations in PgCustomerStore, against the real server started by
// scripts/test.sh (FOREWARN_TEST_PG_URI).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "services/directory/asset.h"
#include "services/pg/pg_asset_store.h"
#include "services/pg/pg_customer_store.h"
#include "services/pg/pg_store.h"
#include "tests/integration/pg_fixture.h"

namespace forewarn {
namespace {

constexpr char kSeed[] =
    "INSERT INTO services VALUES ('electricity','Electricity','الكهرباء'),('water','Water','المياه');"
    "INSERT INTO regions VALUES ('riyadh','Riyadh','الرياض'),('jeddah','Jeddah','جدة');";

Asset MakeAsset(std::string code, std::string kind, std::string parent = "") {
  return Asset{code, std::move(kind), std::move(parent), LocalizedText{"حي " + code, "District " + code}};
}

Customer MakeCustomer(int n) {
  Customer c;
  c.external_id = absl::StrCat("crm-", n);
  c.name = absl::StrCat("Customer ", n);
  c.locale = "en";
  c.time_zone = "Asia/Riyadh";
  c.services = {{"electricity", "riyadh"}, {"water", "riyadh"}};
  return c;
}

// The tree S1 > F1 > T1, T2 and S1 > F2 > T3 (substation, feeders,
// transformers), in an order where children come before their parents.
std::vector<Asset> Tree() {
  return {MakeAsset("T1", "transformer", "F1"), MakeAsset("T2", "transformer", "F1"),
          MakeAsset("T3", "transformer", "F2"), MakeAsset("F1", "feeder", "S1"),
          MakeAsset("F2", "feeder", "S1"),      MakeAsset("S1", "substation")};
}

class PgAssetStoreTest : public testing::PgTest {
 protected:
  void SetUp() override {
    SetUpDatabase(kSeed);
    if (db_ == nullptr) return;
    assets_ = std::make_unique<PgAssetStore>(PgDatabase(db_->uri(), 2));
    customers_ = std::make_unique<PgCustomerStore>(PgDatabase(db_->uri(), 2));
  }
  std::string Count(const std::string& table, const std::string& where = "true") {
    return db_->Exec(absl::StrCat("SELECT count(*) FROM ", table, " WHERE ", where));
  }
  std::vector<UpsertRow> UpsertCustomers(const std::vector<Customer>& batch) {
    auto rows = customers_->Upsert(batch, false);
    EXPECT_TRUE(rows.ok()) << rows.status();
    return rows.ok() ? *rows : std::vector<UpsertRow>{};
  }

  std::unique_ptr<PgAssetStore> assets_;
  std::unique_ptr<PgCustomerStore> customers_;
};

TEST_F(PgAssetStoreTest, UpsertCountsInsertedUpdatedAndUnchanged) {
  auto first = assets_->Upsert(Tree());  // children before parents, in one batch
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->inserted, 6);
  EXPECT_EQ(first->updated, 0);
  EXPECT_EQ(first->unchanged, 0);
  EXPECT_EQ(db_->Exec("SELECT parent_code FROM assets WHERE code = 'T3'"), "F2");
  EXPECT_EQ(Count("assets", "parent_code IS NULL"), "1");

  std::vector<Asset> again = Tree();
  again[0].name.en = "Olaya North";  // renamed
  again[2].parent_code = "F1";       // moved to another feeder
  again.push_back(MakeAsset("T4", "transformer", "F2"));
  const std::string stamp = db_->Exec("SELECT updated_at::text FROM assets WHERE code = 'S1'");
  auto second = assets_->Upsert(again);
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(second->inserted, 1);
  EXPECT_EQ(second->updated, 2);
  EXPECT_EQ(second->unchanged, 4);
  EXPECT_EQ(db_->Exec("SELECT name_en FROM assets WHERE code = 'T1'"), "Olaya North");
  EXPECT_EQ(db_->Exec("SELECT parent_code FROM assets WHERE code = 'T3'"), "F1");
  EXPECT_EQ(db_->Exec("SELECT updated_at::text FROM assets WHERE code = 'S1'"), stamp);  // not written
}

TEST_F(PgAssetStoreTest, AParentMayBeStoredAlready) {
  ASSERT_TRUE(assets_->Upsert({MakeAsset("S1", "substation")}).ok());
  auto r = assets_->Upsert({MakeAsset("F1", "feeder", "S1")});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->inserted, 1);
}

TEST_F(PgAssetStoreTest, AnUnknownParentRefusesTheWholeBatch) {
  auto r = assets_->Upsert({MakeAsset("S1", "substation"), MakeAsset("F1", "feeder", "S1"),
                            MakeAsset("F9", "feeder", "S-missing")});
  ASSERT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StartsWith(r.status().message(), "assets[2].parent_code: no asset 'S-missing'")) << r.status();
  EXPECT_EQ(Count("assets"), "0");  // nothing stored
}

TEST_F(PgAssetStoreTest, ACycleIsRefusedWithNothingStored) {
  ASSERT_TRUE(assets_->Upsert(Tree()).ok());
  // S1 under T1 (which is under F1 under S1), with a new asset beside it.
  auto r = assets_->Upsert({MakeAsset("X1", "transformer", "F2"), MakeAsset("S1", "substation", "T1")});
  ASSERT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().message(), "assets[1].parent_code: would put 'S1' below itself (a cycle in the asset tree)");
  EXPECT_EQ(Count("assets", "code = 'X1'"), "0");
  EXPECT_EQ(Count("assets", "code = 'S1' AND parent_code IS NULL"), "1");
  // A cycle entirely within one batch of new assets.
  r = assets_->Upsert({MakeAsset("A", "site", "B"), MakeAsset("B", "site", "C"), MakeAsset("C", "site", "A")});
  ASSERT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << r.status();
  EXPECT_EQ(Count("assets"), "6");
}

TEST_F(PgAssetStoreTest, ListPagesByCodeWithSubtreeCustomerCounts) {
  ASSERT_TRUE(assets_->Upsert(Tree()).ok());
  ASSERT_TRUE(assets_->Upsert({MakeAsset("S2", "substation")}).ok());
  std::vector<Customer> batch;
  for (int n = 1; n <= 5; ++n) batch.push_back(MakeCustomer(n));
  batch[0].assets = {{"electricity", "T1"}, {"water", "T2"}};  // two links under F1: counted once
  batch[1].assets = {{"electricity", "T2"}};
  batch[2].assets = {{"electricity", "T3"}};
  batch[3].assets = {{"electricity", "F2"}};  // attached to a feeder directly
  UpsertCustomers(batch);                       // customer 5: no link

  auto roots = assets_->List({"", 100, ""});
  ASSERT_TRUE(roots.ok()) << roots.status();
  ASSERT_EQ(roots->assets.size(), 2u);
  EXPECT_EQ(roots->assets[0].code, "S1");
  EXPECT_EQ(roots->assets[0].name.ar, "حي S1");
  EXPECT_EQ(roots->customers, (std::vector<int64_t>{4, 0}));
  EXPECT_EQ(roots->last_code, "");

  auto feeders = assets_->List({"S1", 100, ""});
  ASSERT_TRUE(feeders.ok()) << feeders.status();
  ASSERT_EQ(feeders->assets.size(), 2u);
  EXPECT_EQ(feeders->customers, (std::vector<int64_t>{2, 2}));  // F1: 1, 2; F2: 3, 4

  auto page1 = assets_->List({"F1", 1, ""});
  ASSERT_TRUE(page1.ok());
  ASSERT_EQ(page1->assets.size(), 1u);
  EXPECT_EQ(page1->assets[0].code, "T1");
  EXPECT_EQ(page1->assets[0].parent_code, "F1");
  EXPECT_EQ(page1->customers, (std::vector<int64_t>{1}));
  EXPECT_EQ(page1->last_code, "T1");
  auto page2 = assets_->List({"F1", 1, page1->last_code});
  ASSERT_TRUE(page2.ok());
  ASSERT_EQ(page2->assets.size(), 1u);
  EXPECT_EQ(page2->assets[0].code, "T2");
  EXPECT_EQ(page2->customers, (std::vector<int64_t>{2}));
  EXPECT_EQ(page2->last_code, "");

  auto leaf = assets_->List({"T1", 10, ""});
  ASSERT_TRUE(leaf.ok());
  EXPECT_TRUE(leaf->assets.empty());
  EXPECT_EQ(assets_->List({"NOPE", 10, ""}).status().code(), absl::StatusCode::kNotFound);
}

TEST_F(PgAssetStoreTest, AssetLinkedToCustomersIsNotDeleted) {
  ASSERT_TRUE(assets_->Upsert(Tree()).ok());
  Customer c = MakeCustomer(1);
  c.assets = {{"electricity", "T1"}};
  UpsertCustomers({c});
  EXPECT_THROW(db_->Exec("DELETE FROM assets WHERE code = 'T1'"), std::exception);
  EXPECT_THROW(db_->Exec("INSERT INTO customer_assets VALUES ('NOPE', 'electricity', 1)"), std::exception);
}

// Customers' links and locations (PgCustomerStore).
using PgCustomerStoreLinksTest = PgAssetStoreTest;

TEST_F(PgCustomerStoreLinksTest, LinksAndLocationRoundTrip) {
  ASSERT_TRUE(assets_->Upsert(Tree()).ok());
  Customer c = MakeCustomer(1);
  c.assets = {{"water", "T2"}, {"electricity", "T1"}};
  c.location = GeoPoint{24.7136, 46.6753};
  auto rows = UpsertCustomers({c, MakeCustomer(2)});
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_FALSE(rows[0].error);
  auto got = customers_->Get("crm-1");
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->assets, (std::vector<AssetLink>{{"electricity", "T1"}, {"water", "T2"}}));  // sorted
  ASSERT_TRUE(got->location.has_value());
  EXPECT_EQ(got->location->latitude, 24.7136);  // exact
  EXPECT_EQ(got->location->longitude, 46.6753);
  EXPECT_EQ(db_->Exec("SELECT ST_AsText(location) || ' ' || ST_SRID(location) FROM customers WHERE "
                      "external_id = 'crm-1'"),
            "POINT(46.6753 24.7136) 4326");
  EXPECT_FALSE(customers_->Get("crm-2")->location.has_value());
  auto page = customers_->List({});
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->customers.size(), 2u);
  EXPECT_EQ(page->customers[0].assets.size(), 2u);
  EXPECT_TRUE(page->customers[0].location.has_value());
  // Erasure takes the links with the customer.
  ASSERT_TRUE(customers_->Erase("crm-1").ok());
  EXPECT_EQ(Count("customer_assets"), "0");
}

TEST_F(PgCustomerStoreLinksTest, AnUnknownAssetRejectsOnlyThatRow) {
  ASSERT_TRUE(assets_->Upsert(Tree()).ok());
  Customer good = MakeCustomer(1), bad = MakeCustomer(2);
  good.assets = {{"electricity", "T1"}};
  bad.assets = {{"electricity", "T1"}, {"water", "W-404"}};
  auto rows = UpsertCustomers({good, bad, MakeCustomer(3)});
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_FALSE(rows[0].error);
  ASSERT_TRUE(rows[1].error.has_value());
  EXPECT_EQ(rows[1].error->field, "assets[1].asset");
  EXPECT_EQ(rows[1].error->reason, "no asset 'W-404'");
  EXPECT_FALSE(rows[2].error);
  EXPECT_EQ(Count("customers"), "2");
  EXPECT_EQ(Count("customer_assets"), "1");
  EXPECT_EQ(customers_->Get("crm-2").status().code(), absl::StatusCode::kNotFound);
}

TEST_F(PgCustomerStoreLinksTest, ReImportIsUnchangedUntilALinkOrTheLocationChanges) {
  ASSERT_TRUE(assets_->Upsert(Tree()).ok());
  Customer c = MakeCustomer(1);
  c.assets = {{"electricity", "T1"}, {"water", "T2"}};
  c.location = GeoPoint{21.5433, 39.1728};
  UpsertCustomers({c});
  std::swap(c.assets[0], c.assets[1]);  // another order stores alike
  EXPECT_EQ(UpsertCustomers({c})[0].outcome, UpsertOutcome::kUnchanged);
  c.assets[1].asset = "T3";  // the electricity link moves
  EXPECT_EQ(UpsertCustomers({c})[0].outcome, UpsertOutcome::kUpdated);
  EXPECT_EQ(Count("customer_assets", "asset_code = 'T3'"), "1");
  EXPECT_EQ(Count("customer_assets"), "2");
  c.location->latitude = 21.5434;
  EXPECT_EQ(UpsertCustomers({c})[0].outcome, UpsertOutcome::kUpdated);
  EXPECT_EQ(customers_->Get("crm-1")->location->latitude, 21.5434);
  c.location.reset();
  c.assets.clear();
  EXPECT_EQ(UpsertCustomers({c})[0].outcome, UpsertOutcome::kUpdated);
  EXPECT_EQ(Count("customer_assets"), "0");
  EXPECT_EQ(Count("customers", "location IS NULL"), "1");
  EXPECT_EQ(UpsertCustomers({c})[0].outcome, UpsertOutcome::kUnchanged);
}

}  // namespace
}  // namespace forewarn
