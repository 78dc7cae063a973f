#include "services/pg/pg_pooling.h"

#include <pqxx/pqxx>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "services/pg/pg_pool.h"

namespace forewarn {

const char* ToString(PgPooling pooling) {
  return pooling == PgPooling::kTransaction ? "transaction" : "session";
}

absl::StatusOr<PgPooling> ParsePgPooling(const std::string& text) {
  if (text == "session") return PgPooling::kSession;
  if (text == "transaction") return PgPooling::kTransaction;
  return absl::InvalidArgumentError(
      absl::StrCat("--pg-pooling: \"", text, "\" is not one of auto, session, transaction"));
}

absl::StatusOr<PgPoolingProbe> DetectPgPooling(const std::string& uri, int rounds) {
  try {
    pqxx::connection a(uri), b(uri);
    // Each query is its own transaction: a transaction pooler may hand the
    // server connection that served `a` to `b` next (pgbouncer reuses the
    // most recently released one first).
    auto backend = [](pqxx::connection& c) {
      pqxx::nontransaction tx(c);
      return tx.exec1("SELECT pg_backend_pid()")[0].as<int64_t>();
    };
    int64_t first_a = 0, first_b = 0;
    for (int round = 0; round < rounds; ++round) {
      const int64_t pid_a = backend(a), pid_b = backend(b);
      if (round == 0) first_a = pid_a, first_b = pid_b;
      if (pid_a == pid_b) {
        return PgPoolingProbe{PgPooling::kTransaction,
                              absl::StrCat("two client connections shared server backend ", pid_a)};
      }
      if (pid_a != first_a || pid_b != first_b) {
        return PgPoolingProbe{PgPooling::kTransaction,
                              absl::StrCat("a client connection moved between server backends (",
                                           pid_a != first_a ? first_a : first_b, " -> ",
                                           pid_a != first_a ? pid_a : pid_b, ")")};
      }
    }
    return PgPoolingProbe{PgPooling::kSession,
                          absl::StrCat("each client connection kept its own server backend over ", rounds,
                                       " transactions")};
  } catch (const std::exception&) {
    return pg::StatusFromException("detect pooling");
  }
}

}  // namespace forewarn
