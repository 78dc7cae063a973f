#pragma once

#include <memory>
#include <string>
#include <vector>

#include "services/directory/directory_ports.h"
#include "services/pg/pg_store.h"

namespace forewarn {

// The customer directory in PostgreSQL (schema: migrations/0010-0012), over the
// process's shared pool. An upsert batch is a handful of set-based
// statements whatever its size: the stored (id, content hash) of its
// external ids in one look-up, the new and changed customers written with
// one INSERT ... ON CONFLICT over arrays, their services, accounts and
// beneficiaries replaced with one DELETE and one INSERT each; identical
// customers (same content hash, customer_hash.h) are not written at all.
//
// A customer's own opt-outs (PreferenceSource::kCustomer: the unsubscribe
// link, STOP) are kept apart, in customers.opted_out, and outlive imports:
// the channels stored are the record's less the opted-out ones, and the
// content hash stays the hash of the record as imported (so the CRM's next
// routine import of the same record is unchanged, and a changed one is
// rewritten still without those channels). The directory's own change
// (kDirectory) enabling a channel lifts its opt-out.
//
// Rules only storage can check, each refusing one row: an account IBAN that
// another customer holds (stored, or claimed by an earlier row of the batch)
// unless that customer is rewritten in the same batch without it; an IBAN
// repeated within one customer's accounts or beneficiaries; an asset link
// naming no stored asset ("assets[i].asset"; the batch's codes looked up in
// one statement).
//
// Asset links (customer_assets) are replaced with the other lists; the
// location is customers.location, a PostGIS point (SRID 4326, x longitude,
// y latitude).
//
// Customers written by SQL before the directory (no external id) are kept:
// the directory cannot name them, and a full sync does not erase them.
class PgCustomerStore final : public CustomerStore {
 public:
  explicit PgCustomerStore(PgDatabase db);
  ~PgCustomerStore() override;

  absl::StatusOr<Catalog> LoadCatalog() override;
  absl::StatusOr<std::vector<UpsertRow>> Upsert(const std::vector<Customer>& customers, bool dry_run) override;
  absl::Status MarkSeen(const std::string& sync_id, const std::vector<std::string>& external_ids) override;
  absl::StatusOr<int64_t> EraseUnseen(const std::string& sync_id, bool dry_run) override;
  absl::Status ForgetSync(const std::string& sync_id) override;
  absl::StatusOr<Customer> Get(std::string_view external_id) override;
  absl::StatusOr<Erasure> Erase(std::string_view external_id) override;
  absl::StatusOr<CustomerPage> List(const CustomerFilter& filter) override;
  absl::StatusOr<std::vector<Customer>> ModifyPreferences(
      const CustomerSelector& who, PreferenceSource source,
      const std::function<absl::StatusOr<Preferences>(const Customer&)>& change) override;

 private:
  std::shared_ptr<pg::PgPool> pool_;
};

}  // namespace forewarn
