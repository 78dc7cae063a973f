#pragma once

#include <string>
#include <utility>

#include "absl/status/statusor.h"

namespace forewarn {

// How client connections reach PostgreSQL. Session: each client connection
// has its own server session for its lifetime (PostgreSQL itself, or a
// pooler such as pgbouncer in session mode). Transaction: a pooler hands a
// server connection to a client for one transaction only (pgbouncer
// pool_mode=transaction or statement), so nothing that outlives a
// transaction may be relied on: no named prepared statements, no LISTEN, no
// session advisory locks, no SET, no temporary tables, no WITH HOLD cursors.
enum class PgPooling { kSession, kTransaction };

const char* ToString(PgPooling pooling);
// "session" or "transaction"; INVALID_ARGUMENT otherwise.
absl::StatusOr<PgPooling> ParsePgPooling(const std::string& text);

// Where the database is and how connections reach it. Built from a bare URI
// it means session mode (tests, tools); services resolve the mode from
// --pg-pooling (services/runtime/pg_flags.h).
struct PgEndpoint {
  PgEndpoint(std::string uri_in, PgPooling pooling_in = PgPooling::kSession)  // NOLINT: implicit by design
      : uri(std::move(uri_in)), pooling(pooling_in) {}
  PgEndpoint(const char* uri_in) : PgEndpoint(std::string(uri_in)) {}  // NOLINT

  std::string uri;  // postgresql://user@host:port/db
  PgPooling pooling;
};

// What DetectPgPooling saw.
struct PgPoolingProbe {
  PgPooling pooling = PgPooling::kSession;
  std::string evidence;  // for the start-up log line
};

// Finds out whether the connections behind `uri` are pooled per
// transaction: two client connections take turns asking for their server
// backend's pid, `rounds` times. Two clients seeing the same backend, or
// one client seeing its backend change, can only happen behind a
// transaction (or statement) pooler; otherwise the answer is session.
// UNAVAILABLE when the database cannot be reached.
absl::StatusOr<PgPoolingProbe> DetectPgPooling(const std::string& uri, int rounds = 5);

}  // namespace forewarn
