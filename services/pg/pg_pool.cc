#include "services/pg/pg_pool.h"

#include <algorithm>
#include <exception>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "spdlog/spdlog.h"

namespace forewarn::pg {

void PgPool::AddPrepared(Prepared prepared) {
  std::lock_guard lock(mu_);
  for (auto& [name, sql] : prepared) {
    const bool known = std::any_of(prepared_.begin(), prepared_.end(), [&](const auto& p) { return p.first == name; });
    if (!known) prepared_.emplace_back(std::move(name), std::move(sql));
  }
}

void PgPool::PrepareMissing(Conn& conn) {
  if (!prepares()) return;
  Prepared missing;
  {
    std::lock_guard lock(mu_);
    missing.assign(prepared_.begin() + static_cast<std::ptrdiff_t>(conn.prepared), prepared_.end());
  }
  for (const auto& [name, sql] : missing) {
    conn.c->prepare(name, sql);
    ++conn.prepared;
  }
}

absl::Status PgPool::Run(const std::function<absl::Status(pqxx::connection&)>& fn) {
  Conn conn;
  {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return !idle_.empty() || created_ < size_; });
    if (!idle_.empty()) {
      conn = std::move(idle_.back());
      idle_.pop_back();
    } else {
      ++created_;
    }
  }
  absl::Status status;
  bool healthy = true;
  try {
    if (!conn.c) conn.c = std::make_unique<pqxx::connection>(db_.uri);
    healthy = false;  // until its statements are prepared (the schema may not be migrated yet)
    PrepareMissing(conn);
    healthy = true;
    status = fn(*conn.c);
  } catch (const pqxx::broken_connection&) {
    healthy = false;
    status = StatusFromException("database");
  } catch (const std::exception&) {
    status = StatusFromException("database");
  }
  if (conn.c && !conn.c->is_open()) healthy = false;
  {
    std::lock_guard lock(mu_);
    if (healthy && conn.c) {
      idle_.push_back(std::move(conn));
    } else {
      --created_;  // dropped; a fresh one is made on demand
    }
  }
  cv_.notify_one();
  return status;
}

std::string PgPool::Sql(const std::string& name) const {
  std::lock_guard lock(mu_);
  for (const auto& [n, sql] : prepared_) {
    if (n == name) return sql;
  }
  throw pqxx::argument_error("Unknown prepared statement '" + name + "'");
}

absl::StatusOr<int64_t> PgPool::Count(const char* sql) {
  int64_t count = 0;
  auto status = Run([&](pqxx::connection& c) -> absl::Status {
    pqxx::read_transaction tx(c);
    count = tx.exec1(sql)[0].as<int64_t>();
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  return count;
}

absl::Status StatusFromException(const std::string& op) {
  try {
    throw;
  } catch (const pqxx::broken_connection& e) {
    return absl::UnavailableError(absl::StrCat(op, ": database unavailable: ", e.what()));
  } catch (const pqxx::unique_violation& e) {
    return absl::AlreadyExistsError(absl::StrCat(op, ": ", e.what()));
  } catch (const pqxx::sql_error& e) {
    const std::string state = e.sqlstate();
    // Serialization failures and deadlocks: retry the whole operation.
    if (state == "40001" || state == "40P01") return absl::AbortedError(absl::StrCat(op, ": ", e.what()));
    // Admin shutdown, connection failures, cannot-connect-now.
    if (state.rfind("08", 0) == 0 || state.rfind("57P", 0) == 0) {
      return absl::UnavailableError(absl::StrCat(op, ": ", e.what()));
    }
    spdlog::error("event=sql_error op={} sqlstate={} query=\"{}\"", op, state, e.query().substr(0, 120));
    return absl::InternalError(absl::StrCat(op, ": sql error ", state));
  } catch (const pqxx::in_doubt_error& e) {
    return absl::UnavailableError(absl::StrCat(op, ": commit in doubt: ", e.what()));
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat(op, ": ", e.what()));
  }
}

int64_t IncidentEpoch(std::string_view id) {
  // "xxxxxxxx-xxxx-Vxxx-...": the version is the 15th character; the time
  // is the first 12 hex digits (the hyphen after the 8th skipped).
  if (id.size() != 36 || id[8] != '-' || id[13] != '-' || id[14] != '7') return 0;
  int64_t ms = 0;
  for (size_t i = 0; i < 13; ++i) {
    if (i == 8) continue;
    const char c = id[i];
    int digit = 0;
    if (c >= '0' && c <= '9') {
      digit = c - '0';
    } else if (c >= 'a' && c <= 'f') {
      digit = c - 'a' + 10;
    } else if (c >= 'A' && c <= 'F') {
      digit = c - 'A' + 10;
    } else {
      return 0;
    }
    ms = ms * 16 + digit;
  }
  return ms;
}

int64_t ToMicros(absl::Time t) { return absl::ToUnixMicros(t); }
absl::Time FromMicros(int64_t us) { return absl::FromUnixMicros(us); }

std::string BoolArray(const std::vector<bool>& values) {
  std::string out = "{";
  for (size_t i = 0; i < values.size(); ++i) {
    if (i) out += ',';
    out += values[i] ? 't' : 'f';
  }
  out += '}';
  return out;
}

std::string TextArray(const std::vector<std::string>& values) {
  std::string out = "{";
  for (size_t i = 0; i < values.size(); ++i) {
    if (i) out += ',';
    out += '"';
    for (char c : values[i]) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += '"';
  }
  out += '}';
  return out;
}

std::vector<std::string> SplitCodes(const std::string& joined) {
  if (joined.empty()) return {};
  return absl::StrSplit(joined, ',');
}

}  // namespace forewarn::pg
