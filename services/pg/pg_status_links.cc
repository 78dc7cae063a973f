#include "services/pg/pg_status_links.h"

#include "absl/strings/str_cat.h"
#include "services/core/validation.h"
#include "services/pg/pg_pool.h"

namespace forewarn {
namespace {

// Nothing when the combination has its token already (or the new token is
// taken): the SELECT after it reads what is stored. Only an incident that
// exists gets a row.
constexpr char kInsert[] =
    "INSERT INTO status_links (token, incident_id, language, time_zone) "
    "SELECT $1, id, $3, $4 FROM incidents WHERE id = $2::uuid ON CONFLICT DO NOTHING";
constexpr char kSelect[] =
    "SELECT token FROM status_links WHERE incident_id = $1::uuid AND language = $2 AND time_zone = $3";
constexpr char kIncidentExists[] = "SELECT 1 FROM incidents WHERE id = $1::uuid";

// Draws of a new token before giving up (each one collides with another
// combination's token with probability n / 2^40).
constexpr int kDraws = 5;

}  // namespace

PgStatusLinks::PgStatusLinks(PgDatabase db) : pool_(db.pool()) {
  pool_->AddPrepared({{"status_link_insert", kInsert},
                      {"status_link_select", kSelect},
                      {"status_link_incident", kIncidentExists}});
}
PgStatusLinks::~PgStatusLinks() = default;

absl::StatusOr<std::string> PgStatusLinks::TokenFor(const std::string& incident_id, const std::string& language,
                                                    const std::string& time_zone) {
  if (!IsUuid(incident_id)) return absl::InvalidArgumentError("incident_id: must be a UUID");
  if (language != "ar" && language != "en") {
    return absl::InvalidArgumentError(absl::StrCat("language: '", language, "' is neither ar nor en"));
  }
  std::string token;
  auto status = pool_->Run([&](pqxx::connection& c) -> absl::Status {
    for (int draw = 0; draw < kDraws; ++draw) {
      pqxx::work tx(c);
      pool_->Exec(tx, "status_link_insert", NewStatusLinkToken(), incident_id, language, time_zone);
      const pqxx::result rows = pool_->Exec(tx, "status_link_select", incident_id, language, time_zone);
      if (!rows.empty()) {
        token = rows[0][0].as<std::string>();
        tx.commit();
        return absl::OkStatus();
      }
      if (pool_->Exec(tx, "status_link_incident", incident_id).empty()) {
        return absl::NotFoundError(absl::StrCat("incident ", incident_id, " not found"));
      }
    }
    return absl::InternalError("status link: no free token after several draws");
  });
  if (!status.ok()) return status;
  return token;
}

}  // namespace forewarn
