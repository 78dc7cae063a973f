#include "services/core/incident_service.h"

#include "absl/strings/str_cat.h"

namespace forewarn {

absl::StatusOr<Incident> IncidentService::Create(const NewIncident& req) {
  const absl::Time now = clock_.Now();
  if (auto s = ValidateNewIncident(req, now, limits_); !s.ok()) return s;
  NewIncident normalized = req;
  if (!normalized.starts_at) normalized.starts_at = now;
  return store_.Create(normalized, now);
}

absl::StatusOr<Incident> IncidentService::Update(const IncidentUpdate& req) {
  if (auto s = ValidateIncidentId("id", req.id); !s.ok()) return s;
  auto current = store_.Get(req.id);
  if (!current.ok()) return current.status();
  if (current->state == IncidentState::kResolved) {
    return absl::FailedPreconditionError(absl::StrCat("incident ", req.id, " is resolved"));
  }
  if (auto s = ValidateUpdate(req, *current, limits_); !s.ok()) return s;
  IncidentUpdate checked = req;
  // Pin the version we validated against so a concurrent change is detected.
  if (checked.expected_version == 0) checked.expected_version = current->version;
  return store_.Update(checked, clock_.Now());
}

absl::StatusOr<Incident> IncidentService::Resolve(const std::string& id, int64_t expected_version) {
  if (auto s = ValidateIncidentId("id", id); !s.ok()) return s;
  if (expected_version < 0) return absl::InvalidArgumentError("expected_version: must not be negative");
  return store_.Resolve(id, expected_version, clock_.Now());
}

absl::StatusOr<Incident> IncidentService::Get(const std::string& id) {
  if (auto s = ValidateIncidentId("id", id); !s.ok()) return s;
  return store_.Get(id);
}

absl::StatusOr<IncidentPage> IncidentService::List(const ListFilter& filter) {
  if (filter.page_size < 0 || filter.page_size > 500) {
    return absl::InvalidArgumentError("page_size: must be between 0 and 500");
  }
  ListFilter f = filter;
  if (f.page_size == 0) f.page_size = 50;
  return store_.List(f);
}

absl::StatusOr<DeliveryReport> IncidentService::Report(const std::string& id, int max_failures) {
  if (auto s = ValidateIncidentId("incident_id", id); !s.ok()) return s;
  if (max_failures < 0 || max_failures > 10000) {
    return absl::InvalidArgumentError("max_failures: must be between 0 and 10000");
  }
  return store_.Report(id, max_failures == 0 ? 100 : max_failures);
}

}  // namespace forewarn
