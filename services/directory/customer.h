#pragma once

// The customer directory's domain: a customer as the CRM sends it, its
// preferences, and the rules a record must meet. No gRPC, libpqxx or
// librdkafka here.

#include <cstdint>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "services/core/model.h"

namespace forewarn {

// The channels a customer wants for one category of notices.
struct ChannelSet {
  bool sms = true;
  bool email = true;
  bool none() const { return !sms && !email; }
  bool operator==(const ChannelSet&) const = default;
};

// Channels per notice category (both channels unless the customer chose).
struct Preferences {
  ChannelSet unplanned_outages;
  ChannelSet planned_maintenance;
  ChannelSet banking_changes;
  ChannelSet& For(NoticeCategory c);
  const ChannelSet& For(NoticeCategory c) const;
  bool operator==(const Preferences&) const = default;
};

struct ServiceRegion {
  std::string service;
  std::string region;
  auto operator<=>(const ServiceRegion&) const = default;
};

struct Beneficiary {
  std::string iban;  // compact (electronic) form once validated
  std::string nickname;
  bool operator==(const Beneficiary&) const = default;
};

// The asset (services/directory/asset.h) supplying the customer for one of
// its services.
struct AssetLink {
  std::string service;
  std::string asset;
  auto operator<=>(const AssetLink&) const = default;
};

// A point on the map, WGS 84 degrees.
struct GeoPoint {
  double latitude = 0;
  double longitude = 0;
  bool operator==(const GeoPoint&) const = default;
};

struct Customer {
  int64_t id = 0;            // Forewarn's id (the ledger's customer id); 0 until stored
  std::string external_id;   // the CRM's key
  std::string name;
  std::string locale;        // "ar" | "en"
  std::string time_zone;     // IANA
  std::string phone;         // E.164 once validated; empty: no SMS
  std::string email;         // empty: no email
  std::vector<ServiceRegion> services;
  std::vector<std::string> accounts;  // IBANs, compact
  std::vector<Beneficiary> beneficiaries;
  Preferences preferences;
  std::vector<AssetLink> assets;   // per service; an incident on the asset or above reaches the customer
  std::optional<GeoPoint> location;  // unset: not on the map
  bool operator==(const Customer&) const = default;
};

// What may be silenced: the categories a customer may turn off entirely.
// Default: planned maintenance only (an unplanned outage and a change that
// moves a customer's money are always told).
// One rule a record breaks: the field (proto path, e.g. "services[2].region")
// and why.
struct FieldError {
  std::string field;
  std::string reason;
  bool operator==(const FieldError&) const = default;
};

struct OptOutPolicy {
  std::set<NoticeCategory> may_opt_out = {NoticeCategory::kPlannedMaintenance};
  // The first category `prefs` silences outside `may_opt_out`, as
  // {"preferences.unplanned_outages", "these notices cannot be turned off
  // (policy: only planned_maintenance may be)"}.
  std::optional<FieldError> Violation(const Preferences& prefs) const;
  // The same as FAILED_PRECONDITION "field: reason".
  absl::Status Check(const Preferences& prefs) const;
};

// Contact checks that need a library the domain does not link
// (libphonenumber): the intake passes NormalizeE164 and IsPlausibleEmail.
struct ContactRules {
  std::function<absl::StatusOr<std::string>(std::string_view)> normalize_phone;
  std::function<bool(std::string_view)> is_email;
};

struct CustomerLimits {
  size_t max_external_id = 128;  // bytes, printable (no control characters)
  size_t max_name_chars = 200;   // code points
  size_t max_email = 254;        // bytes
  size_t max_services = 64;
  size_t max_accounts = 64;
  size_t max_beneficiaries = 256;
  size_t max_nickname_chars = 100;
  size_t max_asset_links = 64;
};

// Checks one record and normalises it in place (phone to E.164, IBANs to the
// compact form, duplicates in lists removed, services sorted; asset links
// keep their order: each names one of the customer's services and an asset
// code of valid syntax, none twice; whether the asset exists is the store's
// to check). Returns the
// first rule it breaks, or nothing. The service and region codes are checked
// against the known ones; `policy` against the preferences.
std::optional<FieldError> ValidateCustomer(Customer& c, const ContactRules& contacts,
                                           const std::set<std::string>& known_services,
                                           const std::set<std::string>& known_regions, const OptOutPolicy& policy,
                                           const CustomerLimits& limits = {});

}  // namespace forewarn
