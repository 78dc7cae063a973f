#pragma once

#include "absl/strings/string_view.h"

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "services/core/model.h"

namespace forewarn {

// Limits on caller-supplied input. Field names in error messages match the
// public API (proto field paths), e.g. "reason.en: must not be empty".
// A request that breaks several rules gets one INVALID_ARGUMENT naming every
// field at fault, "; "-separated, in the order the rules run (the first one
// leads the message): "reason.ar: must not be empty; reason.en: must not be
// empty".
struct ValidationLimits {
  size_t max_text_chars = 1000;        // per reason text, in code points
  size_t max_idempotency_key = 128;    // bytes, printable ASCII
  size_t max_codes = 64;               // services / regions per incident
  size_t max_asset_codes = 1000;       // asset codes per incident
  absl::Duration max_duration = absl::Hours(24 * 366);
  // How long before "now" an unplanned outage may be reported to have
  // started (the intake's --max-backdate). Planned maintenance and IBAN
  // changes cannot be back-dated at all.
  absl::Duration max_backdate = absl::Hours(24 * 7);
};

bool IsValidUtf8(absl::string_view s);
// Code points in valid UTF-8.
size_t Utf8Length(absl::string_view s);
bool IsUuid(absl::string_view s);

absl::Status ValidateText(absl::string_view field, absl::string_view text, const ValidationLimits& limits);
// Returns the request normalized (IBANs compacted); the rules depend on the
// kind (outage, maintenance, IBAN change). `now` is the service clock's time
// (Clock::Now), never read here.
absl::StatusOr<NewIncident> ValidateNewIncident(const NewIncident& req, absl::Time now,
                                                const ValidationLimits& limits);
// `current` is the incident being updated. FAILED_PRECONDITION (an IBAN
// change, or the start of maintenance that has begun) only when the request
// itself is valid.
// `normalized`, when given, receives the request normalized (a targets'
// area in canonical form) when it is valid.
absl::Status ValidateUpdate(const IncidentUpdate& req, const Incident& current, absl::Time now,
                            const ValidationLimits& limits, IncidentUpdate* normalized = nullptr);
// Services and targets of an audience preview (PreviewAudience), checked as
// CreateIncident checks them; returns the targets normalized.
absl::StatusOr<Targets> ValidateSelection(const std::vector<std::string>& services, const Targets& targets,
                                          const ValidationLimits& limits);
absl::Status ValidateIncidentId(absl::string_view field, absl::string_view id);

}  // namespace forewarn
