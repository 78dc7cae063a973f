#pragma once

#include <memory>
#include <string>

#include "services/core/notice_links.h"
#include "services/pg/pg_store.h"

namespace forewarn {

// The status links' tokens in PostgreSQL (table status_links, migration 15),
// over the process's shared pool. TokenFor inserts a new random token with
// ON CONFLICT DO NOTHING and then reads the combination's token, in one
// transaction: two notifiers racing for one (incident, language, zone)
// insert at most one row between them and both read it. A new token that
// happens to be another combination's (one chance in 2^40 per pair) is
// drawn again.
class PgStatusLinks final : public StatusLinks {
 public:
  explicit PgStatusLinks(PgDatabase db);
  ~PgStatusLinks() override;

  // NOT_FOUND for an unknown incident (a UUID no incident has); INVALID_ARGUMENT
  // for a language other than "ar" or "en", or an id that is not a UUID.
  absl::StatusOr<std::string> TokenFor(const std::string& incident_id, const std::string& language,
                                       const std::string& time_zone) override;

 private:
  std::shared_ptr<pg::PgPool> pool_;
};

}  // namespace forewarn
