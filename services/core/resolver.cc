#include "services/core/resolver.h"

namespace forewarn {

absl::StatusOr<int64_t> Resolver::Handle(const IncidentEvent& event) {
  // Superseded before fan-out: the newer version's event tells everyone the
  // current facts, so this one is not sent at all.
  // Not so a change of the audience: no newer event tells the customers
  // who joined or left at this version.
  auto current = incidents_.CurrentVersions({event.incident_id});
  if (!current.ok()) return current.status();
  if (auto it = current->find(event.incident_id);
      it != current->end() && SupersededBy(it->second, event.version, event.occasion)) {
    return 0;
  }
  auto incident = incidents_.GetVersion(event.incident_id, event.version);
  if (!incident.ok()) return incident.status();
  AudienceQuery query{*incident, ScopeOfOccasion(event.occasion)};
  absl::StatusOr<Incident> previous = absl::NotFoundError("no previous version");
  if (query.scope != AudienceScope::kAll) {
    previous = incidents_.GetVersion(event.incident_id, event.version - 1);
    if (!previous.ok()) return previous.status();
    query.previous = &*previous;
  }
  int64_t count = 0;
  NoticeJob job;
  job.incident_id = event.incident_id;
  job.version = event.version;
  job.occasion = event.occasion;
  auto status = audience_.Stream(query, [&](const Recipient& r) {
    // An IBAN change event fans out to two audiences with different notices.
    job.kind = r.role == AudienceRole::kBeneficiary ? NoticeKind::kIbanChangeBeneficiary : event.notice_kind;
    job.recipient = r;
    ++count;
    return sink_.Enqueue(job);
  });
  if (!status.ok()) return status;
  if (auto s = sink_.Flush(); !s.ok()) return s;
  return count;
}

}  // namespace forewarn
