#pragma once

#include <string_view>

#include "absl/status/statusor.h"
#include "services/core/clock.h"
#include "services/core/ledger_retention.h"
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

  // Every mutation records `actor` (the authenticated caller's name) and a
  // short summary of what changed with the new version (the audit trail).

  // Any kind: an unplanned outage, planned maintenance or an IBAN change.
  absl::StatusOr<Incident> Create(const NewIncident& req, const std::string& actor = kSystemActor);
  // New reason / expected restoration; for maintenance also a new start
  // (a reschedule). FAILED_PRECONDITION when not open; ABORTED when
  // expected_version is stale.
  absl::StatusOr<Incident> Update(const IncidentUpdate& req, const std::string& actor = kSystemActor);
  // Service restored / maintenance completed.
  absl::StatusOr<Incident> Resolve(const std::string& id, int64_t expected_version,
                                   const std::string& actor = kSystemActor);
  // Maintenance or IBAN change called off.
  absl::StatusOr<Incident> Cancel(const std::string& id, int64_t expected_version,
                                  const std::string& actor = kSystemActor);
  absl::StatusOr<Incident> Get(const std::string& id);
  // The incident id of what a caller typed in `field` where an incident is
  // named: an id (a UUID) as it is, a reference (RIY-4K7Q; case and the
  // look-alikes O, I, L forgiven) looked up, "" as it is (the field's own
  // check says whether it may be empty). INVALID_ARGUMENT naming `field` for
  // anything else; NOT_FOUND naming the reference for an unknown one.
  absl::StatusOr<std::string> ResolveId(std::string_view field, std::string_view typed);
  absl::StatusOr<IncidentPage> List(const ListFilter& filter);
  absl::StatusOr<DeliveryReport> Report(const std::string& id, int max_failures);
  // Who changed what, version by version.
  absl::StatusOr<std::vector<IncidentChangeRecord>> History(const std::string& id);
  // "Nobody left uninformed": the current version's audience against the
  // ledger; with `redrive`, re-queues the fan-out for those never reached.
  absl::StatusOr<Completeness> Reconcile(const std::string& id, bool redrive, int max_listed = 100);
  // Report and Reconcile answer FAILED_PRECONDITION for an incident whose
  // ledger retention dropped (RequireLedger); unset: not checked.
  void set_ledger_retention(LedgerRetentionLog* log) { retention_ = log; }

  static constexpr char kSystemActor[] = "system";

 private:
  IncidentStore& store_;
  absl::StatusOr<Incident> GetOpen(const std::string& id);

  const Clock& clock_;
  NoticePolicy policy_;
  ValidationLimits limits_;
  LedgerRetentionLog* retention_ = nullptr;
};

// "expected_restoration_at: 2026-11-23T18:00:00Z -> 2026-11-23T20:00:00Z;
// reason.en: \"old\" -> \"new\"": what an update changes, for the audit trail.
std::string DescribeUpdate(const Incident& before, const Incident& after);
// "created unplanned_outage: services electricity; regions riyadh; ...".
std::string DescribeCreate(const Incident& created);

}  // namespace forewarn
