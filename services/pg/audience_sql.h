#pragma once

// Internal to the Postgres adapter: only .cc files in services/pg include this.

#include <string>
#include "absl/strings/string_view.h"

namespace forewarn::pg {

// The audience rule, the one place it is written: who an incident reaches,
// on which channels. Used by the resolver's stream (PgAudienceSource) and by
// the completeness check (PgIncidentStore::CheckCompleteness), so the two
// can never disagree.
//
// Customers: for an outage or maintenance, every customer who uses any of
// the services in any of the regions, once each (role 'affected'); for an
// IBAN change, the account holder ('holder') and everyone who saved the IBAN
// as a beneficiary ('beneficiary'). Channels: SMS when chosen and a mobile
// number is on file; email when chosen, and in place of SMS for a customer
// who chose SMS but has no mobile number (nobody is left uninformed), when an
// address is on file.
//
// Returns a SELECT yielding one row per audience member, in this order:
// customer_id bigint, name, locale, time_zone, phone ('' when none), email
// ('' when none), role, by_sms bool, by_email bool (the channels the rule
// chose; a member may have neither). The arguments are SQL expressions
// (parameters such as "$1") for the incident's kind (text), services
// (text[]), regions (text[]) and old IBAN (text).
std::string AudienceSql(absl::string_view kind, absl::string_view services, absl::string_view regions,
                        absl::string_view old_iban);

}  // namespace forewarn::pg
