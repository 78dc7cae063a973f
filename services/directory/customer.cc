#include "services/directory/customer.h"

#include <algorithm>
#include <cmath>
#include <map>

#include "absl/strings/ascii.h"
#include "absl/strings/string_view.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "services/core/iban.h"
#include "services/core/validation.h"
#include "services/directory/asset.h"

namespace forewarn {
namespace {

// "field: reason" (the form of the core's validation errors) as a FieldError.
FieldError FromStatus(const absl::Status& status, absl::string_view field) {
  absl::string_view message = status.message();
  if (absl::StartsWith(message, absl::StrCat(field, ": "))) message.remove_prefix(field.size() + 2);
  return {std::string(field), std::string(message)};
}

bool HasControl(absl::string_view s) {
  return std::any_of(s.begin(), s.end(), [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; });
}

// Valid UTF-8 without control characters, 1..max_bytes bytes, at most
// max_chars code points (0: no limit).
std::optional<FieldError> CheckText(absl::string_view field, absl::string_view text, size_t max_bytes,
                                    size_t max_chars, bool required) {
  if (text.empty()) {
    return required ? std::optional<FieldError>(FieldError{std::string(field), "is required"}) : std::nullopt;
  }
  if (!IsValidUtf8(text)) return FieldError{std::string(field), "is not valid UTF-8"};
  if (HasControl(text)) return FieldError{std::string(field), "must not contain control characters"};
  if (max_bytes > 0 && text.size() > max_bytes) {
    return FieldError{std::string(field), absl::StrCat("is longer than ", max_bytes, " bytes")};
  }
  if (max_chars > 0 && Utf8Length(text) > max_chars) {
    return FieldError{std::string(field), absl::StrCat("is longer than ", max_chars, " characters")};
  }
  return std::nullopt;
}

std::optional<FieldError> CheckIdentity(Customer& c, const CustomerLimits& limits) {
  if (auto e = CheckText("external_id", c.external_id, limits.max_external_id, 0, true)) return e;
  if (auto e = CheckText("name", c.name, 0, limits.max_name_chars, true)) return e;
  c.locale = absl::AsciiStrToLower(c.locale);
  if (c.locale.empty()) return FieldError{"language", "is required"};
  if (c.locale != "ar" && c.locale != "en") return FieldError{"language", "must be ar or en"};
  if (c.time_zone.empty()) return FieldError{"time_zone", "is required"};
  absl::TimeZone tz;
  if (HasControl(c.time_zone) || !absl::LoadTimeZone(c.time_zone, &tz)) {
    return FieldError{"time_zone", "is not a known IANA time zone (e.g. Asia/Riyadh)"};
  }
  return std::nullopt;
}

std::optional<FieldError> CheckContacts(Customer& c, const ContactRules& contacts, const CustomerLimits& limits) {
  if (!c.phone.empty()) {
    auto e164 = contacts.normalize_phone(std::string_view(c.phone));
    if (!e164.ok()) return FromStatus(e164.status(), "phone");
    c.phone = *e164;
  }
  if (auto e = CheckText("email", c.email, limits.max_email, 0, false)) return e;
  if (!c.email.empty() && !contacts.is_email(std::string_view(c.email))) return FieldError{"email", "is not a valid email address"};
  return std::nullopt;
}

std::optional<FieldError> CheckServices(Customer& c, const std::set<std::string>& services,
                                        const std::set<std::string>& regions, const CustomerLimits& limits) {
  if (c.services.size() > limits.max_services) {
    return FieldError{"services", absl::StrCat("at most ", limits.max_services, " entries")};
  }
  for (size_t i = 0; i < c.services.size(); ++i) {
    const ServiceRegion& s = c.services[i];
    if (!services.contains(s.service)) {
      return FieldError{absl::StrCat("services[", i, "].service"), absl::StrCat("unknown service code '",
                                                                                 absl::CHexEscape(s.service), "'")};
    }
    if (!regions.contains(s.region)) {
      return FieldError{absl::StrCat("services[", i, "].region"),
                        absl::StrCat("unknown region code '", absl::CHexEscape(s.region), "'")};
    }
  }
  std::sort(c.services.begin(), c.services.end());
  c.services.erase(std::unique(c.services.begin(), c.services.end()), c.services.end());
  return std::nullopt;
}

std::optional<FieldError> CheckAccounts(Customer& c, const CustomerLimits& limits) {
  if (c.accounts.size() > limits.max_accounts) {
    return FieldError{"accounts", absl::StrCat("at most ", limits.max_accounts, " entries")};
  }
  for (size_t i = 0; i < c.accounts.size(); ++i) {
    const std::string field = absl::StrCat("accounts[", i, "]");
    auto iban = NormalizeIban(field, c.accounts[i]);
    if (!iban.ok()) return FromStatus(iban.status(), field);
    c.accounts[i] = *iban;
  }
  std::sort(c.accounts.begin(), c.accounts.end());
  c.accounts.erase(std::unique(c.accounts.begin(), c.accounts.end()), c.accounts.end());
  return std::nullopt;
}

std::optional<FieldError> CheckBeneficiaries(Customer& c, const CustomerLimits& limits) {
  if (c.beneficiaries.size() > limits.max_beneficiaries) {
    return FieldError{"beneficiaries", absl::StrCat("at most ", limits.max_beneficiaries, " entries")};
  }
  std::map<std::string, std::string> by_iban;  // the last nickname of an IBAN listed twice wins
  for (size_t i = 0; i < c.beneficiaries.size(); ++i) {
    const std::string field = absl::StrCat("beneficiaries[", i, "]");
    auto iban = NormalizeIban(field + ".iban", c.beneficiaries[i].iban);
    if (!iban.ok()) return FromStatus(iban.status(), field + ".iban");
    if (auto e = CheckText(field + ".nickname", c.beneficiaries[i].nickname, 0, limits.max_nickname_chars, false)) {
      return e;
    }
    by_iban[*iban] = c.beneficiaries[i].nickname;
  }
  c.beneficiaries.clear();
  for (auto& [iban, nickname] : by_iban) c.beneficiaries.push_back({iban, nickname});
  return std::nullopt;
}

// Links checked against the customer's own services (before they are
// deduplicated: the indices are the record's).
std::optional<FieldError> CheckAssetLinks(const Customer& c, const CustomerLimits& limits) {
  if (c.assets.size() > limits.max_asset_links) {
    return FieldError{"assets", absl::StrCat("at most ", limits.max_asset_links, " entries")};
  }
  std::set<AssetLink> seen;
  for (size_t i = 0; i < c.assets.size(); ++i) {
    const AssetLink& l = c.assets[i];
    const bool uses = std::any_of(c.services.begin(), c.services.end(),
                                  [&l](const ServiceRegion& s) { return s.service == l.service; });
    if (!uses) {
      return FieldError{absl::StrCat("assets[", i, "].service"),
                        absl::StrCat("'", absl::CHexEscape(l.service), "' is not one of the customer's services")};
    }
    if (!IsAssetCode(l.asset)) {
      return FieldError{absl::StrCat("assets[", i, "].asset"),
                        l.asset.empty() ? std::string("is required")
                                        : absl::StrCat("'", absl::CHexEscape(l.asset),
                                                       "' is not an asset code (1-64 of A-Z a-z 0-9 _ . : -)")};
    }
    if (!seen.insert(l).second) {
      return FieldError{absl::StrCat("assets[", i, "]"), "repeats an earlier link"};
    }
  }
  return std::nullopt;
}

std::optional<FieldError> CheckLocation(Customer& c) {
  if (!c.location) return std::nullopt;
  GeoPoint& p = *c.location;
  if (!std::isfinite(p.latitude) || p.latitude < -90 || p.latitude > 90) {
    return FieldError{"location.latitude", "must be a number from -90 to 90"};
  }
  if (!std::isfinite(p.longitude) || p.longitude < -180 || p.longitude > 180) {
    return FieldError{"location.longitude", "must be a number from -180 to 180"};
  }
  if (p.latitude == 0) p.latitude = 0;  // -0 stores and hashes as 0
  if (p.longitude == 0) p.longitude = 0;
  return std::nullopt;
}

}  // namespace

ChannelSet& Preferences::For(NoticeCategory c) {
  switch (c) {
    case NoticeCategory::kUnplannedOutages: return unplanned_outages;
    case NoticeCategory::kPlannedMaintenance: return planned_maintenance;
    case NoticeCategory::kBankingChanges: return banking_changes;
  }
  return unplanned_outages;
}

const ChannelSet& Preferences::For(NoticeCategory c) const { return const_cast<Preferences*>(this)->For(c); }

std::optional<FieldError> OptOutPolicy::Violation(const Preferences& prefs) const {
  for (NoticeCategory c : kAllNoticeCategories) {
    if (!prefs.For(c).none() || may_opt_out.contains(c)) continue;
    std::vector<std::string> allowed;
    for (NoticeCategory m : may_opt_out) allowed.push_back(ToString(m));
    return FieldError{absl::StrCat("preferences.", ToString(c)),
                      absl::StrCat("these notices cannot be turned off (policy: ",
                                   allowed.empty() ? std::string("no category may be")
                                                   : absl::StrCat("only ", absl::StrJoin(allowed, ", "), " may be"),
                                   ")")};
  }
  return std::nullopt;
}

absl::Status OptOutPolicy::Check(const Preferences& prefs) const {
  auto v = Violation(prefs);
  return v ? absl::FailedPreconditionError(absl::StrCat(v->field, ": ", v->reason)) : absl::OkStatus();
}

std::optional<FieldError> ValidateCustomer(Customer& c, const ContactRules& contacts,
                                           const std::set<std::string>& known_services,
                                           const std::set<std::string>& known_regions, const OptOutPolicy& policy,
                                           const CustomerLimits& limits) {
  if (auto e = CheckIdentity(c, limits)) return e;
  if (auto e = CheckContacts(c, contacts, limits)) return e;
  if (auto e = CheckServices(c, known_services, known_regions, limits)) return e;
  if (auto e = CheckAssetLinks(c, limits)) return e;
  if (auto e = CheckLocation(c)) return e;
  if (auto e = CheckAccounts(c, limits)) return e;
  if (auto e = CheckBeneficiaries(c, limits)) return e;
  return policy.Violation(c.preferences);
}

}  // namespace forewarn
