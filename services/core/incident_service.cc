#include "services/core/incident_service.h"

#include "absl/strings/str_cat.h"

namespace forewarn {

absl::StatusOr<Incident> IncidentService::Create(const NewIncident& req) {
  const absl::Time now = clock_.Now();
  auto normalized = ValidateNewIncident(req, now, limits_);
  if (!normalized.ok()) return normalized.status();
  // The store keeps the request as sent (for idempotency) and fills the
  // defaults; the plan is made from the incident as stored.
  return store_.Create(*normalized, now, [&](const Incident& created) {
    return PlanNotices(Change::kCreated, created, now, policy_);
  });
}

absl::StatusOr<Incident> IncidentService::GetOpen(const std::string& id) {
  if (auto s = ValidateIncidentId("id", id); !s.ok()) return s;
  auto current = store_.Get(id);
  if (!current.ok()) return current.status();
  if (current->state != IncidentState::kOpen) {
    return absl::FailedPreconditionError(absl::StrCat("incident ", id, " is ", ToString(current->state)));
  }
  return current;
}

absl::StatusOr<Incident> IncidentService::Update(const IncidentUpdate& req) {
  auto current = GetOpen(req.id);
  if (!current.ok()) return current.status();
  const absl::Time now = clock_.Now();
  if (auto s = ValidateUpdate(req, *current, now, limits_); !s.ok()) return s;
  IncidentUpdate checked = req;
  // Pin the version we validated against so a concurrent change is detected.
  if (checked.expected_version == 0) checked.expected_version = current->version;
  Incident after = *current;
  if (req.reason) after.reason = *req.reason;
  if (req.starts_at) after.starts_at = *req.starts_at;
  if (req.expected_restoration_at) after.expected_restoration_at = *req.expected_restoration_at;
  return store_.Update(checked, now, PlanNotices(Change::kUpdated, after, now, policy_));
}

absl::StatusOr<Incident> IncidentService::Resolve(const std::string& id, int64_t expected_version) {
  if (expected_version < 0) return absl::InvalidArgumentError("expected_version: must not be negative");
  auto current = GetOpen(id);
  if (!current.ok()) return current.status();
  if (current->kind == IncidentKind::kIbanChange) {
    return absl::FailedPreconditionError("an IBAN change takes effect on its date; it can only be cancelled");
  }
  const absl::Time now = clock_.Now();
  return store_.Resolve(id, expected_version, now, PlanNotices(Change::kResolved, *current, now, policy_));
}

absl::StatusOr<Incident> IncidentService::Cancel(const std::string& id, int64_t expected_version) {
  if (expected_version < 0) return absl::InvalidArgumentError("expected_version: must not be negative");
  auto current = GetOpen(id);
  if (!current.ok()) return current.status();
  if (current->kind == IncidentKind::kUnplannedOutage) {
    return absl::FailedPreconditionError("an unplanned outage cannot be cancelled; resolve it when service is back");
  }
  const absl::Time now = clock_.Now();
  return store_.Cancel(id, expected_version, now, PlanNotices(Change::kCancelled, *current, now, policy_));
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
