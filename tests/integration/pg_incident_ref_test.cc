// Migration 15 on the real PostgreSQL: incidents of a populated version-14
// database get unique references in the order they were created, and every
// incident inserted afterwards gets one from the trigger, whichever path
// inserts it.

#include <gtest/gtest.h>

#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "services/core/incident_ref.h"
#include "services/pg/pg_store.h"
#include "tests/support/test_db.h"

namespace forewarn {
namespace {

// An incident row of `kind` in `regions` (a SQL array literal).
std::string InsertIncident(const std::string& kind, const std::string& regions, const std::string& key) {
  return absl::StrCat(
      "INSERT INTO incidents (version, kind, state, services, regions, reason_ar, reason_en, starts_at, "
      "expected_restoration_at, idempotency_key, request_hash, created_at, updated_at) VALUES (1, '", kind,
      "', 'open', '{electricity}', '", regions, "', 'r', 'r', now(), now(), '", key, "', 'h', now(), now()) ");
}

class PgIncidentRefTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (testing::TestPgUri().empty()) GTEST_SKIP() << "FOREWARN_TEST_PG_URI not set";
    db_ = std::make_unique<testing::ScratchDatabase>();
  }
  std::unique_ptr<testing::ScratchDatabase> db_;
};

TEST_F(PgIncidentRefTest, MigrationGivesExistingIncidentsUniqueReferencesInCreationOrder) {
  ASSERT_TRUE(ApplyMigrations(db_->uri(), 14).ok());
  for (int i = 1; i <= 3; ++i) {
    db_->Exec(absl::StrCat(InsertIncident("unplanned_outage", "{riyadh}", absl::StrCat("old-", i)),
                           "; UPDATE incidents SET created_at = now() + interval '", i, " minutes' WHERE "
                           "idempotency_key = 'old-", i, "'"));
  }
  db_->Exec(InsertIncident("iban_change", "{}", "old-iban"));
  ASSERT_TRUE(ApplyMigrations(db_->uri()).ok());
  EXPECT_EQ(db_->Exec("SELECT string_agg(ref, ',' ORDER BY idempotency_key) FROM incidents"),
            "RIY-0002,RIY-0003,RIY-0004,IBN-0001");  // old-iban came first
}

TEST_F(PgIncidentRefTest, EveryNewIncidentGetsAReferenceOfItsRegionOrKind) {
  ASSERT_TRUE(ApplyMigrations(db_->uri()).ok());
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"unplanned_outage", "{riyadh,jeddah}"}, {"planned_maintenance", "{}"}, {"iban_change", "{}"},
      {"unplanned_outage", "{}"},            {"unplanned_outage", "{al}"},   {"planned_maintenance", "{al-khobar}"}};
  std::vector<std::string> prefixes;
  for (size_t i = 0; i < cases.size(); ++i) {
    const std::string ref =
        db_->Exec(InsertIncident(cases[i].first, cases[i].second, absl::StrCat("k", i)) + "RETURNING ref");
    EXPECT_TRUE(IsIncidentRef(ref)) << ref;
    EXPECT_EQ(ref.size(), 8u) << ref;
    prefixes.push_back(ref.substr(0, 3));
  }
  EXPECT_EQ(prefixes, (std::vector<std::string>{"RIY", "MNT", "IBN", "OUT", "OUT", "ALK"}));
  // A reference is unique, and only ever of the shape the notices promise.
  const std::string taken = db_->Exec("SELECT ref FROM incidents WHERE idempotency_key = 'k0'");
  EXPECT_THROW(db_->Exec(absl::StrCat("UPDATE incidents SET ref = '", taken, "' WHERE idempotency_key = 'k1'")),
               std::exception);
  EXPECT_THROW(db_->Exec("UPDATE incidents SET ref = 'RIY-4K7U' WHERE idempotency_key = 'k1'"), std::exception);
}

TEST_F(PgIncidentRefTest, ManyIncidentsOfOnePrefixStayUnique) {
  ASSERT_TRUE(ApplyMigrations(db_->uri()).ok());
  db_->Exec(
      "INSERT INTO incidents (version, kind, state, services, regions, reason_ar, reason_en, starts_at, "
      "expected_restoration_at, idempotency_key, request_hash, created_at, updated_at) "
      "SELECT 1, 'unplanned_outage', 'open', '{electricity}', '{riyadh}', 'r', 'r', now(), now(), 'bulk-' || g, 'h', "
      "now(), now() FROM generate_series(1, 3000) g");
  EXPECT_EQ(db_->Exec("SELECT count(DISTINCT ref) || '/' || count(*) FROM incidents WHERE ref LIKE 'RIY-____'"),
            "3000/3000");
}

}  // namespace
}  // namespace forewarn
