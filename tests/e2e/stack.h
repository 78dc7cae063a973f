#pragma once

// The whole Forewarn stack as separate processes, for end-to-end tests:
// the dev broker, intake, resolver, scheduler and two notifiers, over a
// scratch database on the test command's PostgreSQL.

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "forewarn/v1/incident.grpc.pb.h"
#include "nlohmann/json.hpp"
#include "tests/support/process.h"
#include "tests/support/test_db.h"

namespace forewarn::testing {

// One delivered notice, as read back from the file outbox.
struct Delivered {
  int64_t customer_id = 0;
  std::string channel;
  std::string kind;
  std::string occasion;
  int64_t version = 0;
  nlohmann::json line;
};

class ServiceStack {
 public:
  struct Options {
    int notifiers = 2;
    std::vector<std::string> notifier_args;  // e.g. real channel providers
  };
  // Starts everything; `seed_sql` runs once the intake created the schema.
  absl::Status Start(const std::string& seed_sql) { return Start(seed_sql, Options{}); }
  absl::Status Start(const std::string& seed_sql, const Options& options);
  void Stop();
  ~ServiceStack() { Stop(); }

  v1::IncidentService::Stub& stub() { return *stub_; }
  ScratchDatabase& db() { return *db_; }
  // Every service's clock is the real time plus this shift.
  void SetTimeOffset(absl::Duration offset);
  std::vector<Delivered> ReadOutbox() const;
  // Polls the ledger until `sql` (a count query) returns `want`; true when
  // reached within `timeout`.
  bool WaitForCount(const std::string& sql, int64_t want, absl::Duration timeout = absl::Seconds(120));
  std::unique_ptr<grpc::ClientContext> Ctx() const;
  const std::string& dir() const { return dir_; }

 private:
  absl::Status Launch(const std::string& name, std::vector<std::string> argv);

  std::unique_ptr<ScratchDatabase> db_;
  std::string dir_, outbox_, offset_file_;
  std::vector<std::unique_ptr<ChildProcess>> procs_;
  std::unique_ptr<v1::IncidentService::Stub> stub_;
};

// Asserts (gtest) that no *.log file in `dir` holds a raw phone number,
// email address or IBAN.
void ExpectNoPersonalDataInLogs(const std::string& dir);

}  // namespace forewarn::testing
