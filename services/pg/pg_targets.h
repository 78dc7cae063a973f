#pragma once

// Internal to the Postgres adapter: only .cc files in services/pg include this.

#include <pqxx/pqxx>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "services/core/model.h"

namespace forewarn::pg {

// The checks of an incident's targets that need the database, before
// anything is stored: every asset code exists, the uploaded list exists,
// PostGIS finds the area valid (no self-intersection). INVALID_ARGUMENT
// naming the field under `prefix` ("" or "targets."), e.g.
// "asset_codes: unknown asset F-9".
absl::Status CheckTargets(pqxx::transaction_base& tx, const Targets& targets, absl::string_view prefix);

}  // namespace forewarn::pg
