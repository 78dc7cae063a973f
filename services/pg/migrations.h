#pragma once

#include <string>
#include <vector>

namespace forewarn::pg {

struct Migration {
  int version;
  std::string name;
  std::string sql;
};

// In version order; embedded from services/pg/migrations/NNNN_name.sql.
const std::vector<Migration>& Migrations();

}  // namespace forewarn::pg
