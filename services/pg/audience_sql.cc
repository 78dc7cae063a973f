#include "services/pg/audience_sql.h"

#include "absl/strings/str_replace.h"

namespace forewarn::pg {

std::string AudienceSql(absl::string_view kind, absl::string_view services, absl::string_view regions,
                        absl::string_view old_iban) {
  // The kind tests are one-time filters: the planner drops the branches
  // that cannot apply to the incident at hand.
  static constexpr char kTemplate[] =
      "SELECT a.id, a.name, a.locale, a.time_zone, a.phone, a.email, a.role, "
      "  a.notify_sms AND a.phone <> '' AS by_sms, "
      "  (a.notify_email OR (a.notify_sms AND a.phone = '')) AND a.email <> '' AS by_email FROM ("
      "SELECT c.id, c.name, c.locale, c.time_zone, coalesce(c.phone, '') AS phone, coalesce(c.email, '') AS email, "
      "  c.notify_sms, c.notify_email, 'affected'::text AS role FROM customers c "
      "WHERE {kind} <> 'iban_change' AND EXISTS (SELECT 1 FROM customer_services cs WHERE cs.customer_id = c.id "
      "  AND cs.service_code = ANY({services}) AND cs.region_code = ANY({regions})) "
      "UNION ALL "
      "SELECT c.id, c.name, c.locale, c.time_zone, coalesce(c.phone, ''), coalesce(c.email, ''), "
      "  c.notify_sms, c.notify_email, 'holder' FROM customers c JOIN accounts acc ON acc.customer_id = c.id "
      "WHERE {kind} = 'iban_change' AND acc.iban = {iban} "
      "UNION ALL "
      "SELECT c.id, c.name, c.locale, c.time_zone, coalesce(c.phone, ''), coalesce(c.email, ''), "
      "  c.notify_sms, c.notify_email, 'beneficiary' FROM customers c "
      "WHERE {kind} = 'iban_change' AND EXISTS (SELECT 1 FROM beneficiaries b WHERE b.customer_id = c.id "
      "  AND b.iban = {iban})) a";
  return absl::StrReplaceAll(kTemplate,
                             {{"{kind}", kind}, {"{services}", services}, {"{regions}", regions}, {"{iban}", old_iban}});
}

}  // namespace forewarn::pg
