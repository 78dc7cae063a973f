#include "absl/strings/str_cat.h"
#include "services/pg/pg_pool.h"
#include "services/pg/pg_store.h"

namespace forewarn {
namespace {

// Customers who use any affected service in any affected region, once each.
#define FW_CUSTOMER_COLUMNS \
  "c.id, c.name, c.locale, c.time_zone, coalesce(c.phone, ''), coalesce(c.email, ''), c.notify_sms, c.notify_email"

constexpr char kDeclareAudience[] =
    "DECLARE audience NO SCROLL CURSOR FOR "
    "SELECT " FW_CUSTOMER_COLUMNS ", 'affected' FROM customers c "
    "WHERE EXISTS (SELECT 1 FROM customer_services cs WHERE cs.customer_id = c.id "
    "AND cs.service_code = ANY($1::text[]) AND cs.region_code = ANY($2::text[]))";

// An IBAN change: the account holder, and everyone who saved it as a
// beneficiary.
constexpr char kDeclareIbanAudience[] =
    "DECLARE audience NO SCROLL CURSOR FOR "
    "SELECT " FW_CUSTOMER_COLUMNS ", 'holder' FROM customers c JOIN accounts a ON a.customer_id = c.id "
    "WHERE a.iban = $1 "
    "UNION ALL "
    "SELECT " FW_CUSTOMER_COLUMNS ", 'beneficiary' FROM customers c "
    "WHERE EXISTS (SELECT 1 FROM beneficiaries b WHERE b.customer_id = c.id AND b.iban = $1)";

}  // namespace

PgAudienceSource::PgAudienceSource(PgEndpoint db, int fetch_size)
    : pool_(std::make_unique<pg::PgPool>(std::move(db), 2)), fetch_size_(fetch_size) {}
PgAudienceSource::~PgAudienceSource() = default;

absl::Status PgAudienceSource::ForEachRecipient(const Incident& incident,
                                                const std::function<absl::Status(const Recipient&)>& fn) {
  return pool_->Run([&](pqxx::connection& c) -> absl::Status {
    // One consistent snapshot for the whole stream.
    pqxx::transaction<pqxx::repeatable_read, pqxx::read_only> tx(c);
    if (incident.kind == IncidentKind::kIbanChange) {
      tx.exec_params(kDeclareIbanAudience, incident.old_iban);
    } else {
      tx.exec_params(kDeclareAudience, pg::TextArray(incident.services), pg::TextArray(incident.regions));
    }
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
        const auto phone = row[4].as<std::string>();
        const auto email = row[5].as<std::string>();
        r.role = ParseAudienceRole(row[8].as<std::string>());
        const bool wants_sms = row[6].as<bool>(), wants_email = row[7].as<bool>();
        if (wants_sms && !phone.empty()) {
          r.channel = Channel::kSms;
          r.address = phone;
          r.fallback_email = email;
          if (auto s = fn(r); !s.ok()) return s;
        }
        r.fallback_email.clear();
        // Email when chosen, and in place of SMS for a customer who chose
        // SMS but has no mobile number (nobody is left uninformed).
        if ((wants_email || (wants_sms && phone.empty())) && !email.empty()) {
          r.channel = Channel::kEmail;
          r.address = email;
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
