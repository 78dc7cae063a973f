#pragma once

// The ports of the customer directory: what it needs from storage.
// services/pg implements them.

#include <cstdint>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "services/directory/customer.h"

namespace forewarn {

// The codes a customer record may name.
struct Catalog {
  std::set<std::string> services;
  std::set<std::string> regions;
};

enum class UpsertOutcome { kInserted, kUpdated, kUnchanged };

// One stored row of an upsert: either its outcome or why it was refused
// (a rule only storage can check, e.g. an account IBAN that belongs to
// another customer).
struct UpsertRow {
  UpsertOutcome outcome = UpsertOutcome::kUnchanged;
  std::optional<FieldError> error;
};

struct CustomerFilter {
  std::string service;  // empty: any
  std::string region;   // empty: any
  int page_size = 100;
  int64_t after_id = 0;  // keyset paging: ids above this one
};

struct CustomerPage {
  std::vector<Customer> customers;  // by id
  int64_t last_id = 0;              // 0 when this is the last page
};

// Which customers a preference change is for.
struct CustomerSelector {
  enum class By { kExternalId, kId, kPhone };
  By by = By::kExternalId;
  std::string text;  // external id or E.164 phone
  int64_t id = 0;
};

// Who changes a customer's preferences. A customer's own opt-out outlives
// imports: the CRM keeps sending the preferences it always had, and a
// re-import must not turn back on a channel the customer turned off.
enum class PreferenceSource {
  // The customer (the one-click unsubscribe link, STOP/START by SMS): a
  // channel the change turns off is remembered as the customer's opt-out,
  // one it turns on is no longer; the imported record is not touched, so
  // importing it again is no change.
  kCustomer,
  // The CRM or an operator over the API, on the customer's behalf: the
  // preferences replace the imported ones, and a channel they enable clears
  // the customer's opt-out of it (an explicit re-enable).
  kDirectory,
};

// What an erasure removed.
struct Erasure {
  int64_t id = 0;
  int64_t held_notices_removed = 0;
  int64_t notices_closed = 0;
};

class CustomerStore {
 public:
  virtual ~CustomerStore() = default;
  virtual absl::StatusOr<Catalog> LoadCatalog() = 0;
  // Writes validated customers (external ids unique within the call), each
  // in full, in one transaction: a new one is inserted, a stored one whose
  // content differs from the record last imported (or set by kDirectory) is
  // updated (its services, accounts and beneficiaries replaced), an
  // identical one is left untouched (no write). The channels the customer
  // opted out of (PreferenceSource::kCustomer) stay off whatever the record
  // says. With
  // `dry_run` it only classifies. Returns one row per customer, in order; a
  // refused row writes nothing of its customer. UNAVAILABLE/ABORTED when
  // the transaction failed as a whole (nothing written).
  virtual absl::StatusOr<std::vector<UpsertRow>> Upsert(const std::vector<Customer>& customers, bool dry_run) = 0;
  // Full sync: remembers `external_ids` as present in sync `sync_id`.
  virtual absl::Status MarkSeen(const std::string& sync_id, const std::vector<std::string>& external_ids) = 0;
  // Erases (as Erase) every customer not seen in the sync and forgets the
  // sync; with `dry_run` only counts them. Returns how many.
  virtual absl::StatusOr<int64_t> EraseUnseen(const std::string& sync_id, bool dry_run) = 0;
  // Forgets a sync that did not finish (nothing erased).
  virtual absl::Status ForgetSync(const std::string& sync_id) = 0;
  // NOT_FOUND. Get and List give the effective preferences (opt-outs
  // applied).
  virtual absl::StatusOr<Customer> Get(std::string_view external_id) = 0;
  // Erasure, in one transaction: the customer's row, services, accounts,
  // beneficiaries and held notices are deleted; its open ledger entries
  // (held, retrying, dead) are closed as failed ("customer erased") so no
  // replay or release sends them, and their error texts cleared. The ledger
  // keeps only the id. NOT_FOUND.
  virtual absl::StatusOr<Erasure> Erase(std::string_view external_id) = 0;
  virtual absl::StatusOr<CustomerPage> List(const CustomerFilter& filter) = 0;
  // Changes the preferences of every customer the selector matches, in one
  // transaction (rows locked), with `change`, given each customer as stored
  // (its effective preferences; it may refuse: its error is returned and
  // nothing is written), as made by `source`. Returns the customers as
  // changed. NOT_FOUND when none matches.
  virtual absl::StatusOr<std::vector<Customer>> ModifyPreferences(
      const CustomerSelector& who, PreferenceSource source,
      const std::function<absl::StatusOr<Preferences>(const Customer&)>& change) = 0;
};

}  // namespace forewarn
