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
  IncidentService(IncidentStore& store, const Clock& clock, ValidationLimits limits = {})
      : store_(store), clock_(clock), limits_(limits) {}

  absl::StatusOr<Incident> Create(const NewIncident& req);
  // FAILED_PRECONDITION when resolved; ABORTED when expected_version is stale.
  absl::StatusOr<Incident> Update(const IncidentUpdate& req);
  absl::StatusOr<Incident> Resolve(const std::string& id, int64_t expected_version);
  absl::StatusOr<Incident> Get(const std::string& id);
  absl::StatusOr<IncidentPage> List(const ListFilter& filter);
  absl::StatusOr<DeliveryReport> Report(const std::string& id, int max_failures);

 private:
  IncidentStore& store_;
  const Clock& clock_;
  ValidationLimits limits_;
};

}  // namespace forewarn
