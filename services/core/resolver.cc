#include "services/core/resolver.h"

namespace forewarn {

absl::StatusOr<int64_t> Resolver::Handle(const IncidentEvent& event) {
  auto incident = incidents_.GetVersion(event.incident_id, event.version);
  if (!incident.ok()) return incident.status();
  int64_t count = 0;
  NoticeJob job;
  job.incident_id = event.incident_id;
  job.version = event.version;
  job.kind = event.notice_kind;
  auto status = audience_.ForEachRecipient(*incident, [&](const Recipient& r) {
    job.recipient = r;
    ++count;
    return sink_.Enqueue(job);
  });
  if (!status.ok()) return status;
  if (auto s = sink_.Flush(); !s.ok()) return s;
  return count;
}

}  // namespace forewarn
