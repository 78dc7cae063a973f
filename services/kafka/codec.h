#pragma once

// Wire format of Forewarn's internal Kafka payloads
// (proto/forewarn/internal/v1/events.proto). Enums travel as their text names.

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "services/core/model.h"

namespace forewarn {

std::string EncodeEvent(const IncidentEvent& event);
// INVALID_ARGUMENT when the payload is not a valid IncidentEvent (garbage,
// unknown notice kind, empty incident id). Never crashes on any input.
absl::StatusOr<IncidentEvent> DecodeEvent(std::string_view payload);

std::string EncodeJob(const NoticeJob& job);
// The same into `out` (replacing its contents, keeping its capacity).
void EncodeJobInto(const NoticeJob& job, std::string& out);
// INVALID_ARGUMENT when the payload is not a valid NoticeJob (garbage,
// unknown notice kind or channel, empty incident id).
absl::StatusOr<NoticeJob> DecodeJob(std::string_view payload);

}  // namespace forewarn
