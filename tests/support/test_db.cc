#include "tests/support/test_db.h"

#include <cstdlib>
#include <pqxx/pqxx>

#include "absl/random/random.h"
#include "absl/strings/str_cat.h"

namespace forewarn::testing {
namespace {

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

// Replaces the database name (the path after the last '/') in a URI.
std::string WithDatabase(const std::string& uri, const std::string& db) {
  const auto slash = uri.rfind('/');
  const auto query = uri.find('?', slash);
  return uri.substr(0, slash + 1) + db + (query == std::string::npos ? "" : uri.substr(query));
}

}  // namespace

std::string TestPgUri() { return Env("FOREWARN_TEST_PG_URI"); }
std::string TestPgbouncerUri() { return Env("FOREWARN_TEST_PGBOUNCER_URI"); }
std::string TestKafkaBootstrap() { return Env("FOREWARN_TEST_KAFKA"); }

ScratchDatabase::ScratchDatabase() : admin_uri_(TestPgUri()) {
  absl::BitGen gen;
  name_ = absl::StrCat("fwtest_", absl::Uniform<uint64_t>(gen));
  pqxx::connection c(admin_uri_);
  pqxx::nontransaction tx(c);
  tx.exec0(absl::StrCat("CREATE DATABASE ", name_));
  uri_ = WithDatabase(admin_uri_, name_);
}

ScratchDatabase::~ScratchDatabase() {
  try {
    pqxx::connection c(admin_uri_);
    pqxx::nontransaction tx(c);
    tx.exec0(absl::StrCat("DROP DATABASE IF EXISTS ", name_, " WITH (FORCE)"));
  } catch (const std::exception&) {
    // Best effort: the scratch server is discarded after the run anyway.
  }
}

std::string ScratchDatabase::pooled_uri() const {
  const std::string pooled = TestPgbouncerUri();
  return pooled.empty() ? "" : WithDatabase(pooled, name_);
}

std::string ScratchDatabase::Exec(const std::string& sql) const {
  pqxx::connection c(uri_);
  pqxx::work tx(c);
  auto r = tx.exec(sql);
  tx.commit();
  if (r.empty() || r.columns() == 0 || r[0][0].is_null()) return "";
  return r[0][0].as<std::string>();
}

}  // namespace forewarn::testing
