#include "services/convert/proto_convert.h"

#include "absl/strings/str_cat.h"

namespace forewarn {

absl::Time FromProto(const google::protobuf::Timestamp& ts) {
  return absl::FromUnixSeconds(ts.seconds()) + absl::Nanoseconds(ts.nanos());
}

void ToProto(absl::Time t, google::protobuf::Timestamp* out) {
  if (t == absl::InfiniteFuture() || t == absl::InfinitePast()) {
    // The encoding these always had: the saturated nanosecond count.
    const int64_t ns = absl::ToUnixNanos(t);
    out->set_seconds(ns / 1000000000);
    out->set_nanos(static_cast<int32_t>(ns % 1000000000));
    return;
  }
  const int64_t seconds = absl::ToUnixSeconds(t);
  out->set_seconds(seconds);
  out->set_nanos(static_cast<int32_t>(absl::ToInt64Nanoseconds(t - absl::FromUnixSeconds(seconds))));
}

absl::StatusOr<absl::Time> CheckedTime(const char* field, const google::protobuf::Timestamp& ts) {
  // RFC 3339 range, as google.protobuf.Timestamp specifies.
  if (ts.seconds() < -62135596800 || ts.seconds() > 253402300799 || ts.nanos() < 0 || ts.nanos() > 999999999) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": timestamp out of range"));
  }
  return FromProto(ts);
}

LocalizedText FromProto(const v1::LocalizedText& t) { return LocalizedText{t.ar(), t.en()}; }

v1::Channel ToProto(Channel c) { return c == Channel::kSms ? v1::SMS : v1::EMAIL; }

v1::NoticeState ToProto(NoticeState s) {
  switch (s) {
    case NoticeState::kClaimed: return v1::CLAIMED;
    case NoticeState::kSent: return v1::SENT;
    case NoticeState::kFailed: return v1::FAILED;
    case NoticeState::kHeld: return v1::HELD;
    case NoticeState::kSuperseded: return v1::SUPERSEDED;
    case NoticeState::kRetrying: return v1::RETRYING;
    case NoticeState::kDead: return v1::DEAD_LETTERED;
    case NoticeState::kDelivered: return v1::DELIVERED;
    case NoticeState::kUndelivered: return v1::UNDELIVERED;
    case NoticeState::kExpired: return v1::EXPIRED;
  }
  return v1::NOTICE_STATE_UNSPECIFIED;
}

v1::IncidentKind ToProto(IncidentKind k) {
  switch (k) {
    case IncidentKind::kUnplannedOutage: return v1::UNPLANNED_OUTAGE;
    case IncidentKind::kPlannedMaintenance: return v1::PLANNED_MAINTENANCE;
    case IncidentKind::kIbanChange: return v1::IBAN_CHANGE;
  }
  return v1::INCIDENT_KIND_UNSPECIFIED;
}

v1::IncidentState ToProto(IncidentState s) {
  switch (s) {
    case IncidentState::kOpen: return v1::OPEN;
    case IncidentState::kResolved: return v1::RESOLVED;
    case IncidentState::kCancelled: return v1::CANCELLED;
  }
  return v1::INCIDENT_STATE_UNSPECIFIED;
}

std::optional<Channel> FromProto(v1::Channel c) {
  switch (c) {
    case v1::SMS: return Channel::kSms;
    case v1::EMAIL: return Channel::kEmail;
    default: return std::nullopt;
  }
}

std::optional<IncidentKind> FromProto(v1::IncidentKind k) {
  switch (k) {
    case v1::UNPLANNED_OUTAGE: return IncidentKind::kUnplannedOutage;
    case v1::PLANNED_MAINTENANCE: return IncidentKind::kPlannedMaintenance;
    case v1::IBAN_CHANGE: return IncidentKind::kIbanChange;
    default: return std::nullopt;
  }
}

std::optional<IncidentState> FromProto(v1::IncidentState s) {
  switch (s) {
    case v1::OPEN: return IncidentState::kOpen;
    case v1::RESOLVED: return IncidentState::kResolved;
    case v1::CANCELLED: return IncidentState::kCancelled;
    default: return std::nullopt;
  }
}

void ToProto(const Incident& in, v1::Incident* out) {
  out->set_id(in.id);
  out->set_ref(in.ref);
  out->set_version(in.version);
  out->set_kind(ToProto(in.kind));
  out->set_state(ToProto(in.state));
  for (const auto& s : in.services) out->add_services(s);
  for (const auto& r : in.regions) out->add_regions(r);
  out->mutable_reason()->set_ar(in.reason.ar);
  out->mutable_reason()->set_en(in.reason.en);
  ToProto(in.starts_at, out->mutable_starts_at());
  ToProto(in.expected_restoration_at, out->mutable_expected_restoration_at());
  if (in.resolved_at) ToProto(*in.resolved_at, out->mutable_resolved_at());
  out->set_idempotency_key(in.idempotency_key);
  ToProto(in.created_at, out->mutable_created_at());
  ToProto(in.updated_at, out->mutable_updated_at());
  out->set_old_iban(in.old_iban);
  out->set_new_iban(in.new_iban);
  for (const auto& a : in.asset_codes) out->add_asset_codes(a);
  out->set_audience_id(in.audience_id);
  if (in.area) ToProto(*in.area, out->mutable_area());
}

Area FromProto(const v1::Area& in) {
  Area out;
  if (in.shape_case() == v1::Area::kGeojson) out.geojson = in.geojson();
  if (in.shape_case() == v1::Area::kCircle) {
    out.circle = Circle{in.circle().latitude(), in.circle().longitude(), in.circle().radius_meters()};
  }
  out.name = FromProto(in.name());
  return out;
}

void ToProto(const Area& in, v1::Area* out) {
  if (in.circle) {
    out->mutable_circle()->set_latitude(in.circle->latitude);
    out->mutable_circle()->set_longitude(in.circle->longitude);
    out->mutable_circle()->set_radius_meters(in.circle->radius_meters);
  } else {
    out->set_geojson(in.geojson);
  }
  out->mutable_name()->set_ar(in.name.ar);
  out->mutable_name()->set_en(in.name.en);
}

Targets FromProto(const v1::Targets& in) {
  Targets out;
  out.regions.assign(in.regions().begin(), in.regions().end());
  out.asset_codes.assign(in.asset_codes().begin(), in.asset_codes().end());
  out.audience_id = in.audience_id();
  if (in.has_area()) out.area = FromProto(in.area());
  return out;
}

void ToProto(const Targets& in, v1::Targets* out) {
  for (const auto& r : in.regions) out->add_regions(r);
  for (const auto& a : in.asset_codes) out->add_asset_codes(a);
  out->set_audience_id(in.audience_id);
  if (in.area) ToProto(*in.area, out->mutable_area());
}

void ToProto(const AudienceSize& in, v1::AudienceSize* out) {
  for (const auto& s : in.selectors) {
    auto* sel = out->add_selectors();
    sel->set_selector(s.name);
    sel->set_customers(s.customers);
  }
  out->set_customers(in.customers);
  out->set_sms_recipients(in.sms_recipients);
  out->set_email_recipients(in.email_recipients);
}

}  // namespace forewarn
