#pragma once

// Conversions between the public API's protobuf messages (forewarn.v1) and
// the domain (services/core), used by the gRPC edge and the CLI alike.

#include <optional>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "forewarn/v1/incident.pb.h"
#include "services/core/model.h"
#include "services/core/ports.h"

namespace forewarn {

// ToProto is exact for every finite time (no overflow past 2262): seconds
// round toward negative infinity, nanos lie in [0, 1e9).
absl::Time FromProto(const google::protobuf::Timestamp& ts);
void ToProto(absl::Time t, google::protobuf::Timestamp* out);
// FromProto, or INVALID_ARGUMENT "FIELD: timestamp out of range" outside the
// RFC 3339 range that google.protobuf.Timestamp specifies.
absl::StatusOr<absl::Time> CheckedTime(const char* field, const google::protobuf::Timestamp& ts);

LocalizedText FromProto(const v1::LocalizedText& t);

v1::Channel ToProto(Channel c);
v1::NoticeState ToProto(NoticeState s);
v1::IncidentKind ToProto(IncidentKind k);
v1::IncidentState ToProto(IncidentState s);
// std::nullopt for the UNSPECIFIED value and for values this build does not
// know (a newer peer).
std::optional<Channel> FromProto(v1::Channel c);
std::optional<IncidentKind> FromProto(v1::IncidentKind k);
std::optional<IncidentState> FromProto(v1::IncidentState s);

void ToProto(const Incident& in, v1::Incident* out);
// An unset shape stays unset (ValidateArea names it).
Area FromProto(const v1::Area& in);
void ToProto(const Area& in, v1::Area* out);
Targets FromProto(const v1::Targets& in);
void ToProto(const Targets& in, v1::Targets* out);
void ToProto(const AudienceSize& in, v1::AudienceSize* out);

}  // namespace forewarn
