#pragma once

#include <string>

namespace forewarn::testing {

// The PostgreSQL server started by the test command, or "" when absent.
std::string TestPgUri();
// The same server through pgbouncer in transaction pooling mode
// (FOREWARN_TEST_PGBOUNCER_URI), or "" when absent.
std::string TestPgbouncerUri();
// The dev broker started by the test command, or "" when absent.
std::string TestKafkaBootstrap();

// A fresh, empty database on the test server, dropped on destruction.
class ScratchDatabase {
 public:
  ScratchDatabase();
  ~ScratchDatabase();
  ScratchDatabase(const ScratchDatabase&) = delete;
  ScratchDatabase& operator=(const ScratchDatabase&) = delete;

  const std::string& uri() const { return uri_; }
  // This database through pgbouncer (transaction pooling), or "" when the
  // test command started none.
  std::string pooled_uri() const;
  const std::string& name() const { return name_; }
  // Runs SQL (several statements allowed) and returns the first column of
  // the first row of the last statement, or "" when it returned nothing.
  std::string Exec(const std::string& sql) const;

 private:
  std::string admin_uri_;
  std::string name_;
  std::string uri_;
};

}  // namespace forewarn::testing
