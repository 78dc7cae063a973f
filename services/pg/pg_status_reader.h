#pragma once

#include <memory>

#include "services/pg/pg_store.h"
#include "services/status_page/status_view.h"

namespace forewarn {

// forewarn-status's reads (StatusReader, services/status_page/status_view.h):
// incidents by ref (migration 15) with their versions and the display names
// of services, regions and targeted assets, and the notices' status links.
// Pure reads (a read-only role suffices), each in one read-only
// transaction, from a caught-up replica when the database has one
// (PgDatabase::SetReadReplica). Never selects IBANs.
class PgStatusReader final : public StatusReader {
 public:
  explicit PgStatusReader(PgDatabase db);
  ~PgStatusReader() override;

  absl::StatusOr<std::vector<StatusIncident>> Current(absl::Time closed_since) override;
  absl::StatusOr<IncidentTimeline> Timeline(absl::string_view ref) override;
  absl::StatusOr<StatusLink> Link(absl::string_view token) override;

 private:
  std::shared_ptr<pg::PgReads> reads_;
};

}  // namespace forewarn
