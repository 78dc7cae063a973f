#pragma once

// What the PostgreSQL adapters' tests share: a migrated scratch database on
// the test command's server, and two schedulers releasing at once.

#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <string>
#include <thread>

#include "services/core/scheduled_releases.h"
#include "services/pg/migrations.h"
#include "services/pg/pg_store.h"
#include "tests/support/test_db.h"

namespace forewarn::testing {

class PgTest : public ::testing::Test {
 protected:
  // Skips the test without the test command's PostgreSQL; otherwise db_ is a
  // scratch database with the schema and `seed_sql` run (fails fatally when
  // migrating fails).
  void SetUpDatabase(const std::string& seed_sql = "") {
    if (TestPgUri().empty()) GTEST_SKIP() << "FOREWARN_TEST_PG_URI not set";
    db_ = std::make_unique<ScratchDatabase>();
    ASSERT_TRUE(ApplyMigrations(db_->uri()).ok());
    if (!seed_sql.empty()) db_->Exec(seed_sql);
  }
  // SetUpDatabase, then store_ over db_ (two connections).
  void SetUpStore(const std::string& seed_sql) {
    SetUpDatabase(seed_sql);
    if (db_ != nullptr && !HasFatalFailure()) store_ = std::make_unique<PgIncidentStore>(PgDatabase(db_->uri(), 2));
  }

  std::unique_ptr<ScratchDatabase> db_;
  std::unique_ptr<PgIncidentStore> store_;
};

// Two schedulers over `db` each call ReleaseDue(now, limit) `rounds` times at
// the same time; the notices they released together (a failed call fails the
// test).
inline int ReleaseDueFromTwo(const PgEndpoint& db, absl::Time now, int rounds, int limit) {
  std::atomic<int> total{0};
  auto run = [&] {
    PgNoticeScheduler scheduler(db);
    ScheduledReleases s(scheduler);
    for (int round = 0; round < rounds; ++round) {
      auto n = s.ReleaseDue(now, limit);
      ASSERT_TRUE(n.ok()) << n.status();
      total += *n;
    }
  };
  std::thread a(run), b(run);
  a.join();
  b.join();
  return total.load();
}

}  // namespace forewarn::testing
