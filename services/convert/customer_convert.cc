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
  out.assets.reserve(c.assets_size());
  for (const auto& l : c.assets()) out.assets.push_back(AssetLink{l.service(), l.asset()});
  if (c.has_location()) out.location = GeoPoint{c.location().latitude(), c.location().longitude()};
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
  for (const auto& l : c.assets) {
    auto* pl = out->add_assets();
    pl->set_service(l.service);
    pl->set_asset(l.asset);
  }
  if (c.location) {
    out->mutable_location()->set_latitude(c.location->latitude);
    out->mutable_location()->set_longitude(c.location->longitude);
  }
}

Asset FromProto(const v1::Asset& a) {
  return Asset{a.code(), a.kind(), a.parent_code(), LocalizedText{a.name().ar(), a.name().en()}};
}

void ToProto(const Asset& a, v1::Asset* out) {
  out->set_code(a.code);
  out->set_kind(a.kind);
  out->set_parent_code(a.parent_code);
  out->mutable_name()->set_ar(a.name.ar);
  out->mutable_name()->set_en(a.name.en);
}

}  // namespace forewarn
