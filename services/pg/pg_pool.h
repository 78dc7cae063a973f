#pragma once

// Internal to the Postgres adapter: only .cc files in services/pg include this.

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <pqxx/pqxx>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace forewarn::pg {

// A small fixed-size pool of connections, created lazily and replaced when
// broken, so services recover by themselves after a database restart.
class PgPool {
 public:
  PgPool(std::string uri, int size) : uri_(std::move(uri)), size_(size) {}

  // Runs `fn` with a connection; maps libpqxx exceptions to absl::Status.
  absl::Status Run(const std::function<absl::Status(pqxx::connection&)>& fn);

  const std::string& uri() const { return uri_; }

 private:
  std::string uri_;
  int size_;
  std::mutex mu_;
  std::condition_variable cv_;
  int created_ = 0;
  std::vector<std::unique_ptr<pqxx::connection>> idle_;
};

// Maps an exception thrown by libpqxx to a status; the message names the
// operation ("create incident: ...").
absl::Status StatusFromException(const std::string& op);

int64_t ToMicros(absl::Time t);
absl::Time FromMicros(int64_t us);
// A Postgres array literal of text values, each quoted and escaped.
std::string TextArray(const std::vector<std::string>& values);
template <typename Int>
std::string IntArray(const std::vector<Int>& values) {
  std::string out = "{";
  for (size_t i = 0; i < values.size(); ++i) {
    if (i) out += ',';
    out += std::to_string(values[i]);
  }
  out += '}';
  return out;
}
std::vector<std::string> SplitCodes(const std::string& joined);

}  // namespace forewarn::pg
