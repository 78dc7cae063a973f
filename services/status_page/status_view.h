#pragma once

// The status page's view of incidents (forewarn-status): what customers may
// see of an incident, and the port it is read through. No personal data
// reaches this model: no IBANs, no customers, no audience lists.

#include <cstdint>
#include <optional>
#include <string>
#include "absl/strings/string_view.h"
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "services/core/model.h"

namespace forewarn {

// An incident as the status page shows it (its current version).
struct StatusIncident {
  std::string id;   // UUID: for the message check only, never rendered
  std::string ref;  // "RIY-4K7Q"
  int64_t version = 0;
  IncidentKind kind = IncidentKind::kUnplannedOutage;
  IncidentState state = IncidentState::kOpen;
  std::vector<LocalizedText> services = {};  // display names
  std::vector<LocalizedText> regions = {};
  std::vector<LocalizedText> places = {};    // targeted assets, then the area's name
  LocalizedText reason = {};
  absl::Time starts_at = {};
  absl::Time expected_restoration_at = {};
  std::optional<absl::Time> resolved_at = {};
  absl::Time updated_at = {};
};

// One committed version of an incident, for the timeline.
struct StatusChange {
  int64_t version = 0;
  std::string change = {};  // "created" | "updated" | "resolved" | "cancelled"
  absl::Time at = {};
  IncidentState state = IncidentState::kOpen;
  LocalizedText reason = {};
  absl::Time starts_at = {};
  absl::Time expected_restoration_at = {};
  std::optional<absl::Time> resolved_at = {};
  bool targets_changed = false;  // who is affected changed at this version
};

struct IncidentTimeline {
  StatusIncident incident;
  std::vector<StatusChange> changes;  // oldest first
};

// What a notice's personal link (/n/TOKEN) opens: no personal data.
struct StatusLink {
  std::string ref;
  std::string language;   // "ar" | "en"
  std::string time_zone;  // IANA
};

// The read side the status page needs (services/pg/pg_status_reader.h).
class StatusReader {
 public:
  virtual ~StatusReader() = default;
  // Open unplanned outages and planned maintenance, and those resolved or
  // cancelled at or after `closed_since`; never IBAN changes. Any order.
  virtual absl::StatusOr<std::vector<StatusIncident>> Current(absl::Time closed_since) = 0;
  // The incident of a normalised ref with every version; NOT_FOUND. IBAN
  // changes too (the message check needs them; pages refuse them).
  virtual absl::StatusOr<IncidentTimeline> Timeline(absl::string_view ref) = 0;
  // NOT_FOUND for a token that is not one of ours.
  virtual absl::StatusOr<StatusLink> Link(absl::string_view token) = 0;
};

}  // namespace forewarn
