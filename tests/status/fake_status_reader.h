#pragma once

// An in-memory StatusReader for the status page's unit tests, counting reads.

#include <atomic>
#include <map>
#include <string>
#include <vector>

#include "services/status_page/status_view.h"

namespace forewarn::testing {

class FakeStatusReader final : public StatusReader {
 public:
  absl::StatusOr<std::vector<StatusIncident>> Current(absl::Time closed_since) override {
    ++reads;
    if (!status.ok()) return status;
    std::vector<StatusIncident> out;
    for (const auto& [ref, t] : timelines) {
      const StatusIncident& i = t.incident;
      if (i.kind == IncidentKind::kIbanChange) continue;
      if (i.state == IncidentState::kOpen || i.updated_at >= closed_since) out.push_back(i);
    }
    return out;
  }
  absl::StatusOr<IncidentTimeline> Timeline(absl::string_view ref) override {
    ++reads;
    if (!status.ok()) return status;
    auto it = timelines.find(std::string(ref));
    if (it == timelines.end()) return absl::NotFoundError("no such ref");
    return it->second;
  }
  absl::StatusOr<StatusLink> Link(absl::string_view token) override {
    ++reads;
    auto it = links.find(std::string(token));
    if (it == links.end()) return absl::NotFoundError("no such token");
    return it->second;
  }

  std::map<std::string, IncidentTimeline> timelines;  // by ref
  std::map<std::string, StatusLink> links;            // by token
  absl::Status status;                                // not OK: every read fails so
  std::atomic<int> reads{0};
};

// An open outage of electricity in Riyadh (ref RIY-4K7Q, versions 1 and 2:
// the estimate moved) and planned water maintenance in Jeddah (JED-7M2P).
inline void AddSampleIncidents(FakeStatusReader& reader, absl::Time now) {
  IncidentTimeline outage;
  StatusIncident& o = outage.incident;
  o = {.id = "0190a1b2-0000-7000-8000-000000000001", .ref = "RIY-4K7Q", .version = 2,
       .kind = IncidentKind::kUnplannedOutage, .state = IncidentState::kOpen,
       .services = {{"الكهرباء", "Electricity"}}, .regions = {{"الرياض", "Riyadh"}},
       .places = {{"محطة الملز", "Malaz substation"}}, .reason = {"عطل في المحول", "Transformer fault <b>"},
       .starts_at = now - absl::Hours(1), .expected_restoration_at = now + absl::Hours(3),
       .resolved_at = std::nullopt, .updated_at = now - absl::Minutes(10)};
  outage.changes = {
      {.version = 1, .change = "created", .at = now - absl::Hours(1), .reason = o.reason, .starts_at = o.starts_at,
       .expected_restoration_at = now + absl::Hours(2)},
      {.version = 2, .change = "updated", .at = now - absl::Minutes(10), .reason = o.reason,
       .starts_at = o.starts_at, .expected_restoration_at = now + absl::Hours(3)}};
  reader.timelines["RIY-4K7Q"] = outage;
  IncidentTimeline maintenance;
  maintenance.incident = {.id = "0190a1b2-0000-7000-8000-000000000002", .ref = "JED-7M2P", .version = 1,
                          .kind = IncidentKind::kPlannedMaintenance, .state = IncidentState::kOpen,
                          .services = {{"المياه", "Water"}}, .regions = {{"جدة", "Jeddah"}},
                          .reason = {"صيانة الشبكة", "Network maintenance"}, .starts_at = now + absl::Hours(48),
                          .expected_restoration_at = now + absl::Hours(52), .updated_at = now - absl::Hours(2)};
  maintenance.changes = {{.version = 1, .change = "created", .at = now - absl::Hours(2),
                          .reason = maintenance.incident.reason, .starts_at = now + absl::Hours(48),
                          .expected_restoration_at = now + absl::Hours(52)}};
  reader.timelines["JED-7M2P"] = maintenance;
}

}  // namespace forewarn::testing
