#pragma once

// Internal to the Postgres adapter: only .cc files in services/pg include
// this. The customer directory's statements and row mapping
// (PgCustomerStore).

#include <cstdint>
#include <string>
#include <string_view>

#include <pqxx/pqxx>

#include "services/directory/customer.h"
#include "services/pg/pg_pool.h"

namespace forewarn::pg {

// The named statements of PgCustomerStore (all "dir_*").
PgPool::Prepared CustomerStatements();

// A PostgreSQL array literal, built element by element (text elements
// quoted and escaped).
class ArrayLiteral {
 public:
  void Add(std::string_view text);
  void Add(int64_t n);
  void AddDouble(double x);  // finite; written with 17 significant digits (exact)
  void AddNull();
  // The literal; the builder is empty afterwards.
  std::string Take();

 private:
  void Separate();
  std::string out_ = "{";
  bool empty_ = true;
};

// A channel set as stored: bit 1 SMS, bit 2 email.
int ChannelBits(const ChannelSet& c);
ChannelSet ChannelsFromBits(int bits);
// Every category's channels in one bit set, laid out as customers.opted_out:
// bit 2 * category + channel (unplanned outages in bits 0-1, planned
// maintenance 2-3, banking changes 4-5).
int PreferenceBits(const Preferences& p);

// A customer row as the directory's reads select it (no lists; its
// location included).
Customer RowToCustomer(const pqxx::row& r);

}  // namespace forewarn::pg
