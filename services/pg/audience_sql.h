#pragma once

// Internal to the Postgres adapter: only .cc files in services/pg include this.

#include <array>
#include <iterator>
#include <string>

#include "absl/strings/string_view.h"
#include "services/core/model.h"

namespace forewarn::pg {

// The audience rule, the one place it is written: who an incident reaches,
// on which channels. Used by the resolver's stream (PgAudienceSource) and by
// the completeness check (PgIncidentStore::CheckCompleteness), so the two
// can never disagree.
//
// Customers: for an outage or maintenance, every customer who uses any of
// the services in any of the regions, once each (role 'affected'); for an
// IBAN change, the account holder ('holder') and everyone who saved the IBAN
// as a beneficiary ('beneficiary'). Channels, as the customer chose them for
// the incident's notice category (`category`, CategoryOf(kind): it picks the
// customers' channels_* column when the SQL is built, so the stream pays no
// per-row choice): SMS when chosen and a mobile number is on file; email when
// chosen, and in place of SMS for a customer who chose SMS but has no mobile
// number (nobody is left uninformed), when an address is on file.
//
// Returns a SELECT yielding one row per audience member, in this order:
// customer_id bigint, name, locale, time_zone, phone ('' when none), email
// ('' when none), role, by_sms bool, by_email bool (the channels the rule
// chose; a member may have neither). The arguments are SQL expressions
// (parameters such as "$1") for the incident's kind (text), services
// (text[]), regions (text[]) and old IBAN (text).
// `kind` must be of `category`.
std::string AudienceSql(NoticeCategory category, absl::string_view kind, absl::string_view services,
                        absl::string_view regions, absl::string_view old_iban);

// The customers' column of channels chosen for `category` (a bit set: 1 SMS,
// 2 email), e.g. "channels_unplanned".
const char* ChannelsColumn(NoticeCategory category);

// A statement built once per notice category (the audience rule's channel
// column differs), e.g. `static const PerCategory sql(BuildFn);`.
class PerCategory {
 public:
  explicit PerCategory(std::string (*build)(NoticeCategory)) {
    for (NoticeCategory c : kAllNoticeCategories) sql_[static_cast<size_t>(c)] = build(c);
  }
  const std::string& For(NoticeCategory c) const { return sql_[static_cast<size_t>(c)]; }

 private:
  std::array<std::string, std::size(kAllNoticeCategories)> sql_;
};

}  // namespace forewarn::pg
