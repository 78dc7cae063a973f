#pragma once

// Internal to the Postgres adapter: only .cc files in services/pg include this.

#include <string>

#include "services/directory/customer.h"

namespace forewarn::pg {

// The content hash of a customer record as imported (or as the directory
// last set it; a customer's own opt-outs are not part of it): SHA-256 (32
// raw bytes) of a stable serialisation of every stored field (not the id):
// name, language, zone, phone, email, services, accounts, beneficiaries,
// the three channel sets, asset links and location. Storage keeps no order within the lists, so they
// are hashed sorted: the same record hashes the same whatever order its
// lists arrive in. Two records hash alike only if they store alike.
std::string CustomerContentHash(const Customer& c);

}  // namespace forewarn::pg
