#pragma once

// Text forms shared by the CLI's commands and printers.

#include <string>

#include "absl/time/time.h"
#include "forewarn/v1/incident.pb.h"

namespace forewarn::cli {

// "2026-11-23T18:00:00Z" (UTC, whole seconds); "" for an unset (zero) timestamp.
std::string FormatTime(const google::protobuf::Timestamp& ts);

// RFC 3339 ("2026-11-23T18:00:00Z", "2026-11-23T21:00:00+03:00") to whole
// seconds; false with *error set when `text` is not one.
bool ParseTime(const std::string& text, google::protobuf::Timestamp* out, std::string* error);

// `t` in whole seconds (rounded down), as the CLI sends every time.
void ToWholeSeconds(absl::Time t, google::protobuf::Timestamp* out);

// The domain's names ("unplanned_outage", "open", "sms"); a value the domain
// does not know (unspecified, or from a newer server) prints as its
// lower-cased proto name.
std::string Name(v1::IncidentKind k);
std::string Name(v1::IncidentState s);
std::string Name(v1::Channel c);
// The lower-cased proto name ("dead_lettered"): the API's name, which differs
// from the ledger's ("dead").
std::string Name(v1::NoticeState s);

// "s" unless n == 1.
const char* Plural(int64_t n);

// Seconds until a preview's fan-out completes; -1 when no rate limit is configured.
double EstimatedSeconds(const v1::PreviewNoticesResponse& resp);
// Whether any previewed SMS exceeds its segment budget.
bool AnyOverBudget(const v1::PreviewNoticesResponse& resp);

}  // namespace forewarn::cli
