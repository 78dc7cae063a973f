#include "services/cli/format.h"

#include <cctype>

#include "services/convert/proto_convert.h"

namespace forewarn::cli {
namespace {

std::string Lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

template <typename ProtoEnum, typename NameFn>
std::string DomainName(ProtoEnum value, NameFn proto_name) {
  if (auto domain = FromProto(value)) return ToString(*domain);
  return Lower(proto_name(value));
}

}  // namespace

std::string FormatTime(const google::protobuf::Timestamp& ts) {
  if (ts.seconds() == 0 && ts.nanos() == 0) return "";
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", FromProto(ts), absl::UTCTimeZone());
}

bool ParseTime(const std::string& text, google::protobuf::Timestamp* out, std::string* error) {
  absl::Time t;
  if (!absl::ParseTime(absl::RFC3339_full, text, &t, error)) return false;
  ToWholeSeconds(t, out);
  return true;
}

void ToWholeSeconds(absl::Time t, google::protobuf::Timestamp* out) {
  ToProto(absl::FromUnixSeconds(absl::ToUnixSeconds(t)), out);
}

std::string Name(v1::IncidentKind k) {
  return DomainName(k, [](v1::IncidentKind v) { return v1::IncidentKind_Name(v); });
}
std::string Name(v1::IncidentState s) {
  return DomainName(s, [](v1::IncidentState v) { return v1::IncidentState_Name(v); });
}
std::string Name(v1::Channel c) {
  return DomainName(c, [](v1::Channel v) { return v1::Channel_Name(v); });
}
std::string Name(v1::NoticeState s) { return Lower(v1::NoticeState_Name(s)); }

const char* Plural(int64_t n) { return n == 1 ? "" : "s"; }

double EstimatedSeconds(const v1::PreviewNoticesResponse& resp) {
  if (!resp.has_estimated_completion()) return -1;
  return resp.estimated_completion().seconds() + resp.estimated_completion().nanos() / 1e9;
}

bool AnyOverBudget(const v1::PreviewNoticesResponse& resp) {
  for (const auto& p : resp.previews()) {
    if (p.over_budget()) return true;
  }
  return false;
}

}  // namespace forewarn::cli
