#include "absl/strings/str_cat.h"
#include "services/pg/audience_sql.h"
#include "services/pg/pg_pool.h"
#include "services/pg/pg_store.h"

namespace forewarn {
namespace {

// The audience rule (audience_sql.h) over the incident's kind, services,
// regions and old IBAN, behind a cursor.
std::string DeclareAudience(NoticeCategory category) {
  return absl::StrCat("DECLARE audience NO SCROLL CURSOR FOR ",
                      pg::AudienceSql(category, "$1::text", "$2::text[]", "$3::text[]", "$4::text"));
}

}  // namespace

PgAudienceSource::PgAudienceSource(PgDatabase db, int fetch_size) : pool_(db.pool()), fetch_size_(fetch_size) {}
PgAudienceSource::~PgAudienceSource() = default;

absl::Status PgAudienceSource::ForEachRecipient(const Incident& incident,
                                                const std::function<absl::Status(const Recipient&)>& fn) {
  return pool_->Run([&](pqxx::connection& c) -> absl::Status {
    // One consistent snapshot for the whole stream.
    pqxx::transaction<pqxx::repeatable_read, pqxx::read_only> tx(c);
    // A stream pays JIT compilation up front and gains nothing from it
    // (measured: ~0.2 s more per million customers). Transaction-scoped, so
    // it holds behind a transaction pooler too.
    tx.exec0("SET LOCAL jit = off");
    static const pg::PerCategory declare(DeclareAudience);
    tx.exec_params(declare.For(CategoryOf(incident.kind)), std::string(ToString(incident.kind)),
                   pg::TextArray(incident.services), pg::TextArray(incident.regions), incident.old_iban);
    const std::string fetch = absl::StrCat("FETCH FORWARD ", fetch_size_, " FROM audience");
    Recipient r;
    while (true) {
      auto rows = tx.exec(fetch);
      if (rows.empty()) break;
      for (const auto& row : rows) {
        r.customer_id = row[0].as<int64_t>();
        r.name = row[1].as<std::string>();
        r.locale = row[2].as<std::string>();
        r.time_zone = row[3].as<std::string>();
        r.role = ParseAudienceRole(row[6].as<std::string>());
        // One recipient per channel the rule chose; an SMS carries the
        // email address to fall back on.
        if (row[7].as<bool>()) {
          r.channel = Channel::kSms;
          r.address = row[4].as<std::string>();
          r.fallback_email = row[5].as<std::string>();
          if (auto s = fn(r); !s.ok()) return s;
        }
        if (row[8].as<bool>()) {
          r.channel = Channel::kEmail;
          r.address = row[5].as<std::string>();
          r.fallback_email.clear();
          if (auto s = fn(r); !s.ok()) return s;
        }
      }
    }
    tx.exec0("CLOSE audience");
    tx.commit();
    return absl::OkStatus();
  });
}

}  // namespace forewarn
