#include "services/pg/audience_sql.h"

#include "absl/strings/str_replace.h"

namespace forewarn::pg {

const char* ChannelsColumn(NoticeCategory category) {
  switch (category) {
    case NoticeCategory::kUnplannedOutages: return "channels_unplanned";
    case NoticeCategory::kPlannedMaintenance: return "channels_maintenance";
    case NoticeCategory::kBankingChanges: return "channels_banking";
  }
  return "channels_unplanned";
}

std::string AudienceSql(NoticeCategory category, absl::string_view kind, absl::string_view services,
                        absl::string_view regions, absl::string_view old_iban) {
  // The kind tests are one-time filters: the planner drops the branches
  // that cannot apply to the incident at hand. {ch}: the category's
  // channels (bit 1 SMS, bit 2 email).
  static constexpr char kTemplate[] =
      "SELECT a.id, a.name, a.locale, a.time_zone, a.phone, a.email, a.role, "
      "  (a.ch & 1) <> 0 AND a.phone <> '' AS by_sms, "
      "  ((a.ch & 2) <> 0 OR ((a.ch & 1) <> 0 AND a.phone = '')) AND a.email <> '' AS by_email FROM ("
      "SELECT c.id, c.name, c.locale, c.time_zone, coalesce(c.phone, '') AS phone, coalesce(c.email, '') AS email, "
      "  c.{ch} AS ch, 'affected'::text AS role FROM customers c "
      "WHERE {kind} <> 'iban_change' AND EXISTS (SELECT 1 FROM customer_services cs WHERE cs.customer_id = c.id "
      "  AND cs.service_code = ANY({services}) AND cs.region_code = ANY({regions})) "
      "UNION ALL "
      "SELECT c.id, c.name, c.locale, c.time_zone, coalesce(c.phone, ''), coalesce(c.email, ''), "
      "  c.{ch}, 'holder' FROM customers c JOIN accounts acc ON acc.customer_id = c.id "
      "WHERE {kind} = 'iban_change' AND acc.iban = {iban} "
      "UNION ALL "
      "SELECT c.id, c.name, c.locale, c.time_zone, coalesce(c.phone, ''), coalesce(c.email, ''), "
      "  c.{ch}, 'beneficiary' FROM customers c "
      "WHERE {kind} = 'iban_change' AND EXISTS (SELECT 1 FROM beneficiaries b WHERE b.customer_id = c.id "
      "  AND b.iban = {iban})) a";
  return absl::StrReplaceAll(kTemplate, {{"{kind}", kind},
                                         {"{services}", services},
                                         {"{regions}", regions},
                                         {"{iban}", old_iban},
                                         {"{ch}", ChannelsColumn(category)}});
}

}  // namespace forewarn::pg
