#pragma once

// NewIncident requests for tests (header only: the model's plain structs).

#include <string>
#include <utility>

#include "absl/time/time.h"
#include "services/core/model.h"

namespace forewarn::testing {

// An unplanned outage of `service` in `region` for `reason` ({ar, en}),
// expected to be restored at `restore`; starts_at unset (now).
inline NewIncident OutageIncident(std::string key, std::string service, std::string region, LocalizedText reason,
                                  absl::Time restore) {
  NewIncident r;
  r.idempotency_key = std::move(key);
  r.services = {std::move(service)};
  r.regions = {std::move(region)};
  r.reason = std::move(reason);
  r.expected_restoration_at = restore;
  return r;
}

// An IBAN change from `old_iban` to `new_iban` for `reason`; the effective
// date (starts_at) is the caller's.
inline NewIncident IbanChangeIncident(std::string key, LocalizedText reason, std::string old_iban,
                                      std::string new_iban) {
  NewIncident r;
  r.kind = IncidentKind::kIbanChange;
  r.idempotency_key = std::move(key);
  r.reason = std::move(reason);
  r.old_iban = std::move(old_iban);
  r.new_iban = std::move(new_iban);
  return r;
}

}  // namespace forewarn::testing
