#include "absl/strings/str_cat.h"
#include "services/pg/migrations.h"
#include "services/pg/pg_pool.h"
#include "services/pg/pg_store.h"
#include "spdlog/spdlog.h"

namespace forewarn {
namespace {

constexpr int64_t kMigrationLockId = 0x466f726577617202;
constexpr char kCreateTable[] =
    "CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, name text NOT NULL, "
    "applied_at timestamptz NOT NULL DEFAULT now())";

}  // namespace

absl::Status ApplyMigrations(const std::string& uri, int up_to) {
  pg::PgPool pool(uri, 1);
  return pool.Run([up_to](pqxx::connection& c) -> absl::Status {
    for (const auto& m : pg::Migrations()) {
      if (m.version > up_to) break;
      pqxx::work tx(c);
      // Transaction-scoped lock: concurrent starters apply each step once.
      tx.exec_params("SELECT pg_advisory_xact_lock($1)", kMigrationLockId);
      tx.exec0(kCreateTable);
      if (!tx.exec_params("SELECT 1 FROM schema_migrations WHERE version = $1", m.version).empty()) continue;
      tx.exec0(m.sql);
      tx.exec_params("INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", m.version, m.name);
      tx.commit();
      spdlog::info("event=migration_applied version={} name={}", m.version, m.name);
    }
    return absl::OkStatus();
  });
}

}  // namespace forewarn
