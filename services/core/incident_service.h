#pragma once

#include "absl/status/statusor.h"
#include "services/core/clock.h"
#include "services/core/model.h"
#include "services/core/ports.h"
#include "services/core/validation.h"

namespace forewarn {

// The use cases behind the public API, independent of transport.
// Validates input (INVALID_ARGUMENT naming the field), then delegates to the
// store, which commits the change and its outbox event atomically.
class IncidentService {
 public:
  IncidentService(IncidentStore& store, const Clock& clock, NoticePolicy policy = {}, ValidationLimits limits = {})
      : store_(store), clock_(clock), policy_(std::move(policy)), limits_(limits) {}

  // Any kind: an unplanned outage, planned maintenance or an IBAN change.
  absl::StatusOr<Incident> Create(const NewIncident& req);
  // New reason / expected restoration; for maintenance also a new start
  // (a reschedule). FAILED_PRECONDITION when not open; ABORTED when
  // expected_version is stale.
  absl::StatusOr<Incident> Update(const IncidentUpdate& req);
  // Service restored / maintenance completed.
  absl::StatusOr<Incident> Resolve(const std::string& id, int64_t expected_version);
  // Maintenance or IBAN change called off.
  absl::StatusOr<Incident> Cancel(const std::string& id, int64_t expected_version);
  absl::StatusOr<Incident> Get(const std::string& id);
  absl::StatusOr<IncidentPage> List(const ListFilter& filter);
  absl::StatusOr<DeliveryReport> Report(const std::string& id, int max_failures);

 private:
  IncidentStore& store_;
  absl::StatusOr<Incident> GetOpen(const std::string& id);

  const Clock& clock_;
  NoticePolicy policy_;
  ValidationLimits limits_;
};

}  // namespace forewarn
