#pragma once

// The customer directory's use cases, independent of transport: bulk import
// (batches of a stream), get, erase, list, preferences; and the two ways a
// customer changes preferences without a login (the one-click unsubscribe
// link of an email, STOP/START by SMS).

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "services/directory/customer.h"
#include "services/directory/directory_ports.h"

namespace forewarn {

struct ImportOptions {
  bool dry_run = false;
  bool delete_missing = false;
};

struct RowRejection {
  int64_t index = 0;  // in its batch
  std::string external_id;
  FieldError error;
};

struct BatchOutcome {
  int64_t inserted = 0;
  int64_t updated = 0;
  int64_t unchanged = 0;
  std::vector<RowRejection> rejected;
};

struct ImportTotals {
  int64_t inserted = 0;
  int64_t updated = 0;
  int64_t unchanged = 0;
  int64_t rejected = 0;
  int64_t deleted = 0;
  bool dry_run = false;
};

// One import stream: batches in order, then Finish. A batch is validated and
// stored in up to kParts parts of at least kSplitAt customers at once (a
// thread and a transaction each: PostgreSQL and the validation use every
// core, and one part's commit overlaps another's work).
class ImportSession {
 public:
  ImportSession(CustomerStore& store, Catalog catalog, const ContactRules& contacts, const OptOutPolicy& policy,
                ImportOptions options, std::string sync_id);
  ~ImportSession();  // a sync that did not Finish is forgotten (nothing erased)
  ImportSession(const ImportSession&) = delete;
  ImportSession& operator=(const ImportSession&) = delete;

  // Validates every customer (a rejected one is reported, the others go on),
  // then stores the valid ones (each customer in full: its row and lists in
  // one transaction). INVALID_ARGUMENT for a batch over the limit; a storage
  // failure is returned as is (some parts of the batch may have been written:
  // running the import again is idempotent). A transaction that lost a race with a concurrent batch
  // or import (ABORTED: the same new external id or account inserted by
  // both, a deadlock) is classified and written again, up to kMaxAttempts.
  absl::StatusOr<BatchOutcome> Batch(std::vector<Customer> customers);
  // Ends the stream: erases the missing customers of a full sync.
  // FAILED_PRECONDITION for a full sync of a stream that named no customer
  // (an empty file would otherwise erase the whole directory).
  absl::StatusOr<ImportTotals> Finish();

  static constexpr size_t kMaxBatch = 5000;
  static constexpr int kMaxAttempts = 5;
  static constexpr size_t kSplitAt = 200;
  static constexpr size_t kParts = 4;

 private:
  CustomerStore& store_;
  Catalog catalog_;
  const ContactRules& contacts_;
  const OptOutPolicy& policy_;
  ImportOptions options_;
  std::string sync_id_;
  // The rule a customer breaks, per customer (duplicates of an earlier
  // external id too); normalises the valid ones in place.
  std::vector<std::optional<FieldError>> Validate(std::vector<Customer>& customers) const;
  absl::StatusOr<std::vector<UpsertRow>> Store(const std::vector<Customer>& valid);
  absl::StatusOr<std::vector<UpsertRow>> StoreWithRetries(const std::vector<Customer>& part);
  void Tally(const BatchOutcome& out, bool named_any);

  absl::Mutex mu_;
  ImportTotals totals_ ABSL_GUARDED_BY(mu_);
  bool named_any_ ABSL_GUARDED_BY(mu_) = false;
  bool finished_ = false;
};

class CustomerDirectoryService {
 public:
  CustomerDirectoryService(CustomerStore& store, ContactRules contacts, OptOutPolicy policy = {})
      : store_(store), contacts_(std::move(contacts)), policy_(std::move(policy)) {}

  absl::StatusOr<std::unique_ptr<ImportSession>> StartImport(ImportOptions options);
  absl::StatusOr<Customer> Get(std::string_view external_id);
  absl::StatusOr<Erasure> Erase(std::string_view external_id);
  absl::StatusOr<CustomerPage> List(const CustomerFilter& filter);
  // Replaces the preferences on the customer's behalf (the CRM, an
  // operator: PreferenceSource::kDirectory; a channel turned on clears the
  // customer's own opt-out of it); FAILED_PRECONDITION when the policy
  // forbids silencing a category.
  absl::StatusOr<Customer> SetPreferences(std::string_view external_id, const Preferences& prefs);
  // Turns `channel` off (or on) for `category` of one customer, e.g. from
  // the one-click unsubscribe link: the customer's own choice
  // (PreferenceSource::kCustomer), which later imports do not undo.
  // FAILED_PRECONDITION when the policy forbids it.
  absl::StatusOr<Customer> SetChannel(int64_t customer_id, NoticeCategory category, Channel channel, bool on);
  // STOP: SMS off, for every customer with this number (E.164 after
  // normalisation), in every category the policy lets customers silence and
  // in the others where email remains (an address, and email on). START:
  // SMS on for every category. The customer's own choice
  // (PreferenceSource::kCustomer), which later imports do not undo. Returns
  // the customers changed (NOT_FOUND: none has the number).
  absl::StatusOr<std::vector<Customer>> SetSmsByPhone(std::string_view phone, bool on);

  const OptOutPolicy& policy() const { return policy_; }

 private:
  CustomerStore& store_;
  ContactRules contacts_;
  OptOutPolicy policy_;
};

}  // namespace forewarn
