#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>

#include "services/core/audience_lists.h"
#include "services/pg/pg_store.h"

namespace forewarn {

// Uploaded audience lists in PostgreSQL (tables audiences and
// audience_members, migrations/0011). One upload is one transaction on one
// connection of the process's pool, held from the first chunk to the end of
// the stream: the list's row is inserted first (the members reference it),
// each chunk is one set-based statement that resolves its entries
// (customers.id, customers.external_id, accounts.iban -> its holder), adds
// the customers found with INSERT ... ON CONFLICT DO NOTHING (a customer
// named twice counts once) and returns how many were new, how many entries
// matched nobody and a sample of those; the totals are written on the row
// and the transaction commits when the stream has ended. Memory is one
// chunk, whatever the list's length. A failed or abandoned upload rolls back.
//
// Holding a pool connection for as long as a caller streams is bounded two
// ways: at most `max_concurrent` uploads at once (RESOURCE_EXHAUSTED beyond,
// so uploads cannot starve the incident RPCs sharing the pool), and a
// caller silent for `idle_timeout` between chunks has its transaction ended
// by the server (idle_in_transaction_session_timeout; the upload fails,
// nothing stored). Erasing a customer removes it from every list (ON DELETE
// CASCADE).
class PgAudienceLists final : public AudienceListStore {
 public:
  struct Options {
    int max_concurrent = 2;
    int idle_timeout_seconds = 60;
  };
  explicit PgAudienceLists(PgDatabase db) : PgAudienceLists(std::move(db), Options{}) {}
  PgAudienceLists(PgDatabase db, Options options);
  ~PgAudienceLists() override;

  absl::StatusOr<std::string> Store(
      const std::string& created_by,
      const std::function<absl::StatusOr<AudienceListSummary>(Upload&)>& fill) override;

 private:
  std::shared_ptr<pg::PgPool> pool_;
  Options options_;
  std::atomic<int> running_{0};
};

}  // namespace forewarn
