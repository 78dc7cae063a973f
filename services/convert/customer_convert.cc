#include "services/convert/customer_convert.h"

namespace forewarn {

ChannelSet FromProto(const v1::ChannelSet& set, bool present) {
  if (!present) return ChannelSet{};
  return ChannelSet{set.sms(), set.email()};
}

Preferences FromProto(const v1::Preferences& p) {
  Preferences out;
  out.unplanned_outages = FromProto(p.unplanned_outages(), p.has_unplanned_outages());
  out.planned_maintenance = FromProto(p.planned_maintenance(), p.has_planned_maintenance());
  out.banking_changes = FromProto(p.banking_changes(), p.has_banking_changes());
  return out;
}

Customer FromProto(const v1::Customer& c) {
  Customer out;
  out.id = c.id();
  out.external_id = c.external_id();
  out.name = c.name();
  out.locale = c.language();
  out.time_zone = c.time_zone();
  out.phone = c.phone();
  out.email = c.email();
  out.services.reserve(c.services_size());
  for (const auto& s : c.services()) out.services.push_back(ServiceRegion{s.service(), s.region()});
  out.accounts.assign(c.accounts().begin(), c.accounts().end());
  out.beneficiaries.reserve(c.beneficiaries_size());
  for (const auto& b : c.beneficiaries()) out.beneficiaries.push_back(Beneficiary{b.iban(), b.nickname()});
  out.preferences = FromProto(c.preferences());  // unset: both channels everywhere
  return out;
}

namespace {

void SetChannels(const ChannelSet& set, v1::ChannelSet* out) {
  out->set_sms(set.sms);
  out->set_email(set.email);
}

}  // namespace

void ToProto(const Preferences& p, v1::Preferences* out) {
  SetChannels(p.unplanned_outages, out->mutable_unplanned_outages());
  SetChannels(p.planned_maintenance, out->mutable_planned_maintenance());
  SetChannels(p.banking_changes, out->mutable_banking_changes());
}

void ToProto(const Customer& c, v1::Customer* out) {
  out->set_id(c.id);
  out->set_external_id(c.external_id);
  out->set_name(c.name);
  out->set_language(c.locale);
  out->set_time_zone(c.time_zone);
  out->set_phone(c.phone);
  out->set_email(c.email);
  for (const auto& s : c.services) {
    auto* sr = out->add_services();
    sr->set_service(s.service);
    sr->set_region(s.region);
  }
  for (const auto& a : c.accounts) out->add_accounts(a);
  for (const auto& b : c.beneficiaries) {
    auto* pb = out->add_beneficiaries();
    pb->set_iban(b.iban);
    pb->set_nickname(b.nickname);
  }
  ToProto(c.preferences, out->mutable_preferences());
}

}  // namespace forewarn
