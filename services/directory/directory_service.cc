#include "services/directory/directory_service.h"

#include <algorithm>
#include <future>
#include <string_view>
#include <unordered_map>
#include <utility>

#include "absl/random/random.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "spdlog/spdlog.h"

namespace forewarn {
namespace {

std::string NewSyncId() {
  absl::BitGen gen;
  return absl::StrFormat("%016x%016x", absl::Uniform<uint64_t>(gen), absl::Uniform<uint64_t>(gen));
}

absl::Status RequireExternalId(std::string_view external_id) {
  if (external_id.empty()) return absl::InvalidArgumentError("external_id: is required");
  return absl::OkStatus();
}

// Runs fn(lo, hi) over [0, n) in up to kParts parts at once, each of at least
// kSplitAt items (a thread per part beyond the first).
template <typename Fn>
void InParts(size_t n, Fn&& fn) {
  const size_t parts = std::clamp<size_t>(n / ImportSession::kSplitAt, 1, ImportSession::kParts);
  std::vector<std::future<void>> others;
  for (size_t p = 1; p < parts; ++p) {
    others.push_back(std::async(std::launch::async, [&fn, n, p, parts] { fn(n * p / parts, n * (p + 1) / parts); }));
  }
  fn(size_t{0}, n / parts);
  for (auto& f : others) f.get();
}

}  // namespace

ImportSession::ImportSession(CustomerStore& store, Catalog catalog, const ContactRules& contacts,
                             const OptOutPolicy& policy, ImportOptions options, std::string sync_id)
    : store_(store),
      catalog_(std::move(catalog)),
      contacts_(contacts),
      policy_(policy),
      options_(options),
      sync_id_(std::move(sync_id)) {
  absl::MutexLock lock(&mu_);
  totals_.dry_run = options.dry_run;
}

ImportSession::~ImportSession() {
  if (!options_.delete_missing || finished_) return;
  if (absl::Status s = store_.ForgetSync(sync_id_); !s.ok()) {
    spdlog::warn("event=sync_forget_failed sync={} status=\"{}\"", sync_id_, s.ToString());
  }
}

std::vector<std::optional<FieldError>> ImportSession::Validate(std::vector<Customer>& customers) const {
  std::vector<std::optional<FieldError>> errors(customers.size());
  InParts(customers.size(), [&](size_t lo, size_t hi) {
    for (size_t i = lo; i < hi; ++i) {
      errors[i] = ValidateCustomer(customers[i], contacts_, catalog_.services, catalog_.regions, policy_);
    }
  });
  std::unordered_map<std::string_view, size_t> first_at;
  for (size_t i = 0; i < customers.size(); ++i) {
    if (errors[i]) continue;
    auto [it, fresh] = first_at.emplace(customers[i].external_id, i);
    if (!fresh) {
      errors[i] = FieldError{"external_id", absl::StrCat("duplicate in this batch (first at index ", it->second, ")")};
    }
  }
  return errors;
}

absl::StatusOr<BatchOutcome> ImportSession::Batch(std::vector<Customer> customers) {
  if (finished_) return absl::FailedPreconditionError("import: already finished");
  if (customers.size() > kMaxBatch) {
    return absl::InvalidArgumentError(
        absl::StrCat("customers: at most ", kMaxBatch, " per batch (got ", customers.size(), ")"));
  }
  std::vector<std::optional<FieldError>> errors = Validate(customers);
  BatchOutcome out;
  std::vector<Customer> valid;
  std::vector<int64_t> valid_index;
  std::vector<std::string> seen;
  valid.reserve(customers.size());
  for (int64_t i = 0; i < static_cast<int64_t>(customers.size()); ++i) {
    Customer& c = customers[i];
    if (!c.external_id.empty()) seen.push_back(c.external_id);
    if (errors[i]) {
      out.rejected.push_back({i, c.external_id, *std::move(errors[i])});
      continue;
    }
    valid_index.push_back(i);
    valid.push_back(std::move(c));
  }
  if (options_.delete_missing) {
    if (absl::Status s = store_.MarkSeen(sync_id_, seen); !s.ok()) return s;
  }
  auto rows = Store(valid);
  if (!rows.ok()) return rows.status();
  for (size_t k = 0; k < rows->size() && k < valid.size(); ++k) {
    const UpsertRow& row = (*rows)[k];
    if (row.error) {
      out.rejected.push_back({valid_index[k], valid[k].external_id, *row.error});
      continue;
    }
    (row.outcome == UpsertOutcome::kInserted  ? out.inserted
     : row.outcome == UpsertOutcome::kUpdated ? out.updated
                                              : out.unchanged)++;
  }
  std::sort(out.rejected.begin(), out.rejected.end(),
            [](const RowRejection& a, const RowRejection& b) { return a.index < b.index; });
  Tally(out, !seen.empty());
  return out;
}

void ImportSession::Tally(const BatchOutcome& out, bool named_any) {
  absl::MutexLock lock(&mu_);
  named_any_ = named_any_ || named_any;
  totals_.inserted += out.inserted;
  totals_.updated += out.updated;
  totals_.unchanged += out.unchanged;
  totals_.rejected += static_cast<int64_t>(out.rejected.size());
}

absl::StatusOr<std::vector<UpsertRow>> ImportSession::Store(const std::vector<Customer>& valid) {
  std::vector<UpsertRow> rows(valid.size());
  absl::Status failed;
  absl::Mutex failed_mu;
  InParts(valid.size(), [&](size_t lo, size_t hi) {
    const std::vector<Customer> part(valid.begin() + lo, valid.begin() + hi);
    absl::StatusOr<std::vector<UpsertRow>> written = StoreWithRetries(part);
    if (!written.ok()) {
      absl::MutexLock lock(&failed_mu);
      failed.Update(written.status());
      return;
    }
    std::move(written->begin(), written->end(), rows.begin() + lo);
  });
  if (!failed.ok()) return failed;
  return rows;
}

absl::StatusOr<std::vector<UpsertRow>> ImportSession::StoreWithRetries(const std::vector<Customer>& part) {
  absl::StatusOr<std::vector<UpsertRow>> rows;
  for (int attempt = 1; attempt <= kMaxAttempts; ++attempt) {
    rows = store_.Upsert(part, options_.dry_run);
    if (rows.ok() || rows.status().code() != absl::StatusCode::kAborted) break;
    spdlog::info("event=customer_batch_retried attempt={} status=\"{}\"", attempt, rows.status().ToString());
  }
  if (rows.ok() && rows->size() != part.size()) return absl::InternalError("store: one row per customer expected");
  return rows;
}

absl::StatusOr<ImportTotals> ImportSession::Finish() {
  if (finished_) return absl::FailedPreconditionError("import: already finished");
  if (options_.delete_missing) {
    if (absl::MutexLock lock(&mu_); !named_any_) {
      return absl::FailedPreconditionError(
          "delete_missing: the import named no customer; refusing to erase every customer");
    }
    auto deleted = store_.EraseUnseen(sync_id_, options_.dry_run);
    if (!deleted.ok()) return deleted.status();
    absl::MutexLock lock(&mu_);
    totals_.deleted = *deleted;
  }
  finished_ = true;
  absl::MutexLock lock(&mu_);
  return totals_;
}

absl::StatusOr<std::unique_ptr<ImportSession>> CustomerDirectoryService::StartImport(ImportOptions options) {
  auto catalog = store_.LoadCatalog();
  if (!catalog.ok()) return catalog.status();
  return std::make_unique<ImportSession>(store_, *std::move(catalog), contacts_, policy_, options, NewSyncId());
}

absl::StatusOr<Customer> CustomerDirectoryService::Get(std::string_view external_id) {
  if (absl::Status s = RequireExternalId(external_id); !s.ok()) return s;
  return store_.Get(external_id);
}

absl::StatusOr<Erasure> CustomerDirectoryService::Erase(std::string_view external_id) {
  if (absl::Status s = RequireExternalId(external_id); !s.ok()) return s;
  return store_.Erase(external_id);
}

absl::StatusOr<CustomerPage> CustomerDirectoryService::List(const CustomerFilter& filter) {
  CustomerFilter f = filter;
  if (f.page_size == 0) f.page_size = 100;
  if (f.page_size < 0 || f.page_size > 5000) {
    return absl::InvalidArgumentError("page_size: must be between 1 and 5000 (0: 100)");
  }
  return store_.List(f);
}

absl::StatusOr<Customer> CustomerDirectoryService::SetPreferences(std::string_view external_id,
                                                                  const Preferences& prefs) {
  if (absl::Status s = RequireExternalId(external_id); !s.ok()) return s;
  if (absl::Status s = policy_.Check(prefs); !s.ok()) return s;
  auto changed = store_.ModifyPreferences({CustomerSelector::By::kExternalId, std::string(external_id), 0},
                                          PreferenceSource::kDirectory, [&prefs](const Customer&) { return prefs; });
  if (!changed.ok()) return changed.status();
  return changed->front();
}

absl::StatusOr<Customer> CustomerDirectoryService::SetChannel(int64_t customer_id, NoticeCategory category,
                                                              Channel channel, bool on) {
  auto changed = store_.ModifyPreferences(
      {CustomerSelector::By::kId, "", customer_id}, PreferenceSource::kCustomer,
      [&](const Customer& c) -> absl::StatusOr<Preferences> {
        Preferences prefs = c.preferences;
        (channel == Channel::kSms ? prefs.For(category).sms : prefs.For(category).email) = on;
        if (absl::Status s = policy_.Check(prefs); !s.ok()) return s;
        return prefs;
      });
  if (!changed.ok()) return changed.status();
  return changed->front();
}

absl::StatusOr<std::vector<Customer>> CustomerDirectoryService::SetSmsByPhone(std::string_view phone, bool on) {
  auto e164 = contacts_.normalize_phone(phone);
  if (!e164.ok()) return e164.status();
  return store_.ModifyPreferences({CustomerSelector::By::kPhone, *e164, 0}, PreferenceSource::kCustomer,
                                  [this, on](const Customer& c) -> absl::StatusOr<Preferences> {
                                    Preferences prefs = c.preferences;
                                    for (NoticeCategory cat : kAllNoticeCategories) {
                                      ChannelSet& set = prefs.For(cat);
                                      const bool email_remains = set.email && !c.email.empty();
                                      if (on) {
                                        set.sms = true;
                                      } else if (policy_.may_opt_out.contains(cat) || email_remains) {
                                        set.sms = false;
                                      }
                                    }
                                    return prefs;
                                  });
}

}  // namespace forewarn
