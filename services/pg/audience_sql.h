#pragma once

// Internal to the Postgres adapter: only .cc files in services/pg include this.

#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "services/core/ports.h"

namespace forewarn::pg {

// A statement's parameters as text, numbered from `first` in the order they
// are added: Add returns the placeholder ("$5::text[]") to write into the
// SQL. Run with pqxx::prepare::make_dynamic_params(values()) after the
// statement's fixed parameters $1..$first-1.
class SqlArgs {
 public:
  explicit SqlArgs(int first = 1) : next_(first) {}
  std::string Add(std::string value, absl::string_view cast);
  const std::vector<std::string>& values() const { return values_; }

 private:
  int next_;
  std::vector<std::string> values_;
};

// The audience rule, the one place it is written: who an incident version
// reaches, on which channels. Used by the resolver's stream
// (PgAudienceSource), the completeness check (PgIncidentStore::
// CheckCompleteness) and the preview's counts, so they cannot disagree.
//
// Customers: for an outage or maintenance, every customer of the incident's
// services reached by any of its selectors (Targets), once each (role
// 'affected'): the services in its regions; an asset of a service at or
// below one of its assets; membership of its uploaded list; a location
// inside its area. For a delta scope, the version's members against the
// previous version's (joined: new, left: no longer, stayed: both; the
// channels always the customer's current ones). For an IBAN change, the
// account holder ('holder') and everyone who saved the IBAN as a
// beneficiary ('beneficiary'). Channels, as the customer chose them for the
// incident's notice category: SMS when chosen and a mobile number is on
// file; email when chosen, and in place of SMS for a customer who chose SMS
// but has no mobile number (nobody is left uninformed), when an address is
// on file.
//
// Returns a SELECT yielding one row per audience member, in this order:
// customer_id bigint, name, locale, time_zone, phone ('' when none), email
// ('' when none), role, by_sms bool, by_email bool (the channels the rule
// chose; a member may have neither). Only the selectors the incident has
// are in the statement, so an incident by regions alone runs the plan it
// always did.
std::string AudienceSql(const AudienceQuery& query, SqlArgs& args);

// One SELECT per selector the targets have, each yielding the customer ids
// it reaches among customers of the services (`services`: the placeholder
// of their text[] parameter) with repeats, named as in
// AudienceSize::Selector.
struct SelectorSql {
  std::string name;
  std::string sql;
};
std::vector<SelectorSql> SelectorsSql(absl::string_view services, const Targets& targets, SqlArgs& args);

// The geometry of an area, as SQL over its parameters.
std::string AreaSql(const Area& area, SqlArgs& args);
// A circle as the float8[] text forewarn_area() and incidents.area_circle
// take: "{lat,lon,radius}".
std::string CircleArray(const Circle& c);

// The customers' column of channels chosen for `category` (a bit set: 1 SMS,
// 2 email), e.g. "channels_unplanned".
const char* ChannelsColumn(NoticeCategory category);

}  // namespace forewarn::pg
