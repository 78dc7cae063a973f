#include "services/pg/pg_customer_store.h"

#include <algorithm>
#include <optional>
#include <string_view>
#include <unordered_map>
#include <unordered_set>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "services/pg/customer_hash.h"
#include "services/pg/customer_sql.h"
#include "services/pg/pg_pool.h"

namespace forewarn {
namespace {

using pg::ArrayLiteral;

// One upsert batch as it is classified and written: per customer, its
// content hash, its stored id (0: new) and its outcome.
struct Batch {
  explicit Batch(const std::vector<Customer>& c) : customers(c), stored_id(c.size(), 0), rows(c.size()) {
    hashes.reserve(c.size());
    for (const auto& customer : c) hashes.push_back(pg::CustomerContentHash(customer));
  }
  // Whether customer `i` is to be written (new or changed, not refused).
  bool Writes(size_t i) const { return !rows[i].error && rows[i].outcome != UpsertOutcome::kUnchanged; }
  bool AnyWrites() const {
    for (size_t i = 0; i < rows.size(); ++i) {
      if (Writes(i)) return true;
    }
    return false;
  }

  const std::vector<Customer>& customers;
  std::vector<std::string> hashes;
  std::vector<int64_t> stored_id;
  std::vector<UpsertRow> rows;
};

// New, changed or unchanged, from the stored id and content hash of each
// external id.
void Classify(pqxx::transaction_base& tx, const pg::PgPool& pool, Batch& b) {
  ArrayLiteral ids, hashes;
  for (size_t i = 0; i < b.customers.size(); ++i) {
    ids.Add(b.customers[i].external_id);
    hashes.Add(absl::BytesToHexString(b.hashes[i]));
    b.rows[i].outcome = UpsertOutcome::kInserted;
  }
  for (const auto& r : pool.Exec(tx, "dir_look_up", ids.Take(), hashes.Take())) {
    const auto i = r[0].as<size_t>() - 1;
    b.stored_id[i] = r[1].as<int64_t>();
    b.rows[i].outcome = r[2].as<bool>() ? UpsertOutcome::kUnchanged : UpsertOutcome::kUpdated;
  }
}

// Refuses a customer whose external id an earlier row of the batch has, or
// that lists an IBAN twice among its accounts or among its beneficiaries
// (each list's key): one statement could not write them.
void RefuseRepeatedKeys(Batch& b) {
  std::unordered_set<std::string_view> ids;
  for (size_t i = 0; i < b.customers.size(); ++i) {
    const Customer& c = b.customers[i];
    if (!ids.insert(c.external_id).second) b.rows[i].error = FieldError{"external_id", "repeated in the batch"};
    std::unordered_set<std::string_view> seen;
    for (size_t k = 0; k < c.accounts.size() && !b.rows[i].error; ++k) {
      if (!seen.insert(c.accounts[k]).second) {
        b.rows[i].error = FieldError{absl::StrCat("accounts[", k, "]"), "repeated IBAN"};
      }
    }
    seen.clear();
    for (size_t k = 0; k < c.beneficiaries.size() && !b.rows[i].error; ++k) {
      if (!seen.insert(c.beneficiaries[k].iban).second) {
        b.rows[i].error = FieldError{absl::StrCat("beneficiaries[", k, "].iban"), "repeated IBAN"};
      }
    }
  }
}

// Refuses a customer to be written that links an asset no stored asset has
// ("assets[i].asset"): the codes of the batch looked up at once.
void RefuseUnknownAssets(pqxx::transaction_base& tx, const pg::PgPool& pool, Batch& b) {
  ArrayLiteral codes;
  std::unordered_set<std::string_view> named;
  for (size_t i = 0; i < b.customers.size(); ++i) {
    if (!b.Writes(i)) continue;
    for (const auto& l : b.customers[i].assets) {
      if (named.insert(l.asset).second) codes.Add(l.asset);
    }
  }
  if (named.empty()) return;
  std::unordered_set<std::string> unknown;
  for (const auto& r : pool.Exec(tx, "dir_unknown_assets", codes.Take())) unknown.insert(r[0].as<std::string>());
  if (unknown.empty()) return;
  for (size_t i = 0; i < b.customers.size(); ++i) {
    const auto& links = b.customers[i].assets;
    for (size_t k = 0; k < links.size() && b.Writes(i); ++k) {
      if (!unknown.contains(links[k].asset)) continue;
      b.rows[i].error = FieldError{absl::StrCat("assets[", k, "].asset"), absl::StrCat("no asset '", links[k].asset, "'")};
    }
  }
}

// The stored holder of each IBAN the customers to be written list.
std::unordered_map<std::string, int64_t> AccountHolders(pqxx::transaction_base& tx, const pg::PgPool& pool,
                                                        const Batch& b) {
  ArrayLiteral ibans;
  size_t count = 0;
  for (size_t i = 0; i < b.customers.size(); ++i) {
    if (!b.Writes(i)) continue;
    for (const auto& iban : b.customers[i].accounts) ibans.Add(iban);
    count += b.customers[i].accounts.size();
  }
  std::unordered_map<std::string, int64_t> holders;
  if (count == 0) return holders;
  for (const auto& r : pool.Exec(tx, "dir_account_holders", ibans.Take())) {
    holders.emplace(r[0].as<std::string>(), r[1].as<int64_t>());
  }
  return holders;
}

// The account rule: an IBAN is free for customer `i` unless another customer
// holds it (stored, or an earlier row of the batch claimed it). A stored
// holder rewritten in this batch without the IBAN lets it go. Refusing a row
// can only take claims back, so passes repeat until none refuses more.
void RefuseTakenAccounts(const std::unordered_map<std::string, int64_t>& holders, Batch& b) {
  std::unordered_map<int64_t, size_t> rewritten;  // stored id -> its row
  for (size_t i = 0; i < b.customers.size(); ++i) {
    if (b.Writes(i) && b.stored_id[i] != 0) rewritten.emplace(b.stored_id[i], i);
  }
  auto released = [&](int64_t holder, const std::string& iban) {
    const auto w = rewritten.find(holder);
    if (w == rewritten.end() || !b.Writes(w->second)) return false;
    const auto& kept = b.customers[w->second].accounts;
    return std::find(kept.begin(), kept.end(), iban) == kept.end();
  };
  for (bool refused = true; refused;) {
    refused = false;
    std::unordered_map<std::string_view, size_t> claimed;
    for (size_t i = 0; i < b.customers.size(); ++i) {
      if (!b.Writes(i)) continue;
      const auto& accounts = b.customers[i].accounts;
      for (size_t k = 0; k < accounts.size(); ++k) {
        const auto h = holders.find(accounts[k]);
        const bool taken = (h != holders.end() && h->second != b.stored_id[i] && !released(h->second, accounts[k])) ||
                           claimed.contains(accounts[k]);
        if (!taken) continue;
        b.rows[i].error = FieldError{absl::StrCat("accounts[", k, "]"), "IBAN belongs to another customer"};
        refused = true;
        break;
      }
      if (b.Writes(i)) {
        for (const auto& iban : accounts) claimed.emplace(iban, i);
      }
    }
  }
}

// Inserts the new customers and updates the changed ones; records the ids
// of the new ones.
void WriteCustomers(pqxx::transaction_base& tx, const pg::PgPool& pool, Batch& b) {
  ArrayLiteral ext, name, locale, zone, phone, email, unplanned, maintenance, banking, hash, lat, lon;
  std::unordered_map<std::string_view, size_t> row_of;
  bool all_new = true;
  for (size_t i = 0; i < b.customers.size(); ++i) {
    if (!b.Writes(i)) continue;
    const Customer& c = b.customers[i];
    row_of.emplace(c.external_id, i);
    all_new = all_new && b.rows[i].outcome == UpsertOutcome::kInserted;
    ext.Add(c.external_id);
    name.Add(c.name);
    locale.Add(c.locale);
    zone.Add(c.time_zone);
    phone.Add(c.phone);
    email.Add(c.email);
    unplanned.Add(pg::ChannelBits(c.preferences.unplanned_outages));
    maintenance.Add(pg::ChannelBits(c.preferences.planned_maintenance));
    banking.Add(pg::ChannelBits(c.preferences.banking_changes));
    hash.Add(absl::BytesToHexString(b.hashes[i]));
    if (c.location) {
      lat.AddDouble(c.location->latitude);
      lon.AddDouble(c.location->longitude);
    } else {
      lat.AddNull();
      lon.AddNull();
    }
  }
  if (row_of.empty()) return;
  for (const auto& r : pool.Exec(tx, all_new ? "dir_insert_new" : "dir_upsert", ext.Take(), name.Take(), locale.Take(), zone.Take(), phone.Take(),
                                 email.Take(), unplanned.Take(), maintenance.Take(), banking.Take(), hash.Take(),
                                 lat.Take(), lon.Take())) {
    b.stored_id[row_of.at(r[0].as<std::string>())] = r[1].as<int64_t>();
  }
}

// Replaces the services, asset links, accounts and beneficiaries of the
// customers written (the changed ones' lists are deleted first).
void WriteLists(pqxx::transaction_base& tx, const pg::PgPool& pool, const Batch& b) {
  ArrayLiteral changed, svc, region, svc_of, iban, iban_of, ben_of, ben_iban, nickname, asset, asset_svc, asset_of;
  bool any_changed = false;
  for (size_t i = 0; i < b.customers.size(); ++i) {
    if (!b.Writes(i)) continue;
    const Customer& c = b.customers[i];
    const int64_t id = b.stored_id[i];
    if (b.rows[i].outcome == UpsertOutcome::kUpdated) {
      changed.Add(id);
      any_changed = true;
    }
    for (const auto& s : c.services) {
      svc.Add(s.service);
      region.Add(s.region);
      svc_of.Add(id);
    }
    for (const auto& a : c.accounts) {
      iban.Add(a);
      iban_of.Add(id);
    }
    for (const auto& ben : c.beneficiaries) {
      ben_of.Add(id);
      ben_iban.Add(ben.iban);
      nickname.Add(ben.nickname);
    }
    for (const auto& l : c.assets) {
      asset.Add(l.asset);
      asset_svc.Add(l.service);
      asset_of.Add(id);
    }
  }
  if (any_changed) pool.Exec(tx, "dir_delete_lists", changed.Take());
  pool.Exec(tx, "dir_insert_lists", svc.Take(), region.Take(), svc_of.Take(), iban.Take(), iban_of.Take(),
            ben_of.Take(), ben_iban.Take(), nickname.Take(), asset.Take(), asset_svc.Take(), asset_of.Take());
}

// The customers with these ids (as LoadPage reads them), lists included.
void LoadLists(pqxx::transaction_base& tx, const pg::PgPool& pool, std::vector<Customer>& customers) {
  if (customers.empty()) return;
  ArrayLiteral ids;
  std::unordered_map<int64_t, Customer*> by_id;
  for (auto& c : customers) {
    ids.Add(c.id);
    by_id.emplace(c.id, &c);
  }
  const std::string id_array = ids.Take();
  for (const auto& r : pool.Exec(tx, "dir_services_of", id_array)) {
    by_id.at(r[0].as<int64_t>())->services.push_back({r[1].as<std::string>(), r[2].as<std::string>()});
  }
  for (const auto& r : pool.Exec(tx, "dir_accounts_of", id_array)) {
    by_id.at(r[0].as<int64_t>())->accounts.push_back(r[1].as<std::string>());
  }
  for (const auto& r : pool.Exec(tx, "dir_beneficiaries_of", id_array)) {
    by_id.at(r[0].as<int64_t>())->beneficiaries.push_back({r[1].as<std::string>(), r[2].as<std::string>()});
  }
  for (const auto& r : pool.Exec(tx, "dir_assets_of", id_array)) {
    by_id.at(r[0].as<int64_t>())->assets.push_back({r[1].as<std::string>(), r[2].as<std::string>()});
  }
}

std::vector<Customer> RowsToCustomers(const pqxx::result& rows) {
  std::vector<Customer> out;
  out.reserve(rows.size());
  for (const auto& r : rows) out.push_back(pg::RowToCustomer(r));
  return out;
}

// Erases the customers `ids` (a bigint[] literal) in `tx`: their held
// notices, their open ledger entries closed, provider ids and error texts
// cleared, their dead letters, then the customers (lists cascade).
Erasure EraseIds(pqxx::transaction_base& tx, const pg::PgPool& pool, const std::string& ids) {
  Erasure out;
  out.held_notices_removed = static_cast<int64_t>(pool.Exec(tx, "dir_erase_held", ids).affected_rows());
  out.notices_closed = static_cast<int64_t>(pool.Exec(tx, "dir_close_open", ids).affected_rows());
  pool.Exec(tx, "dir_redact_ledger", ids);
  pool.Exec(tx, "dir_erase_dead", ids);
  pool.Exec(tx, "dir_erase_customers", ids);
  return out;
}

// The customers the selector names, locked, lists included.
std::vector<Customer> LockSelected(pqxx::transaction_base& tx, const pg::PgPool& pool, const CustomerSelector& who) {
  pqxx::result rows;
  switch (who.by) {
    case CustomerSelector::By::kExternalId: rows = pool.Exec(tx, "dir_lock_by_external_id", who.text); break;
    case CustomerSelector::By::kId: rows = pool.Exec(tx, "dir_lock_by_id", who.id); break;
    case CustomerSelector::By::kPhone: rows = pool.Exec(tx, "dir_lock_by_phone", who.text); break;
  }
  auto customers = RowsToCustomers(rows);
  LoadLists(tx, pool, customers);
  return customers;
}

// Stores the preferences `c` now has (`before`: its channels as they were,
// pg::PreferenceBits). The customer's own change records the channels it
// turned off as opted out and forgets those it turned on, keeping the
// imported record's hash; the directory's replaces the record's preferences
// (a new hash) and lifts the opt-outs of the channels it enables.
void WritePreferences(pqxx::transaction_base& tx, const pg::PgPool& pool, PreferenceSource source, int before,
                      const Customer& c) {
  const Preferences& p = c.preferences;
  const int after = pg::PreferenceBits(p);
  const int unplanned = pg::ChannelBits(p.unplanned_outages), maintenance = pg::ChannelBits(p.planned_maintenance),
            banking = pg::ChannelBits(p.banking_changes);
  if (source == PreferenceSource::kCustomer) {
    pool.Exec(tx, "dir_opt_out", c.id, unplanned, maintenance, banking, before & ~after, after & ~before);
  } else {
    pool.Exec(tx, "dir_set_preferences", c.id, unplanned, maintenance, banking, after,
              absl::BytesToHexString(pg::CustomerContentHash(c)));
  }
}

std::string SelectorText(const CustomerSelector& who) {
  switch (who.by) {
    case CustomerSelector::By::kExternalId: return absl::StrCat("external id '", who.text, "'");
    case CustomerSelector::By::kId: return absl::StrCat("id ", who.id);
    case CustomerSelector::By::kPhone: return "that phone number";  // personal data stays out of errors
  }
  return "selector";
}

}  // namespace

PgCustomerStore::PgCustomerStore(PgDatabase db) : pool_(db.pool()) { pool_->AddPrepared(pg::CustomerStatements()); }
PgCustomerStore::~PgCustomerStore() = default;

absl::StatusOr<Catalog> PgCustomerStore::LoadCatalog() {
  Catalog out;
  auto status = pool_->Run([&](pqxx::connection& c) -> absl::Status {
    pqxx::read_transaction tx(c);
    for (const auto& r : tx.exec("SELECT code FROM services")) out.services.insert(r[0].as<std::string>());
    for (const auto& r : tx.exec("SELECT code FROM regions")) out.regions.insert(r[0].as<std::string>());
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  return out;
}

absl::StatusOr<std::vector<UpsertRow>> PgCustomerStore::Upsert(const std::vector<Customer>& customers, bool dry_run) {
  Batch b(customers);  // hashed before a connection is taken
  if (customers.empty()) return b.rows;
  auto status = pool_->Run([&](pqxx::connection& c) -> absl::Status {
    try {
      pqxx::work tx(c);
      Classify(tx, *pool_, b);
      RefuseRepeatedKeys(b);
      RefuseUnknownAssets(tx, *pool_, b);
      RefuseTakenAccounts(AccountHolders(tx, *pool_, b), b);
      if (dry_run || !b.AnyWrites()) return absl::OkStatus();  // rolled back: nothing to write
      WriteCustomers(tx, *pool_, b);
      WriteLists(tx, *pool_, b);
      tx.commit();
    } catch (const pqxx::unique_violation&) {
      // A concurrent writer took a key this batch checked (a new external id,
      // an account IBAN): the caller retries. The server's message names the
      // key: not passed on.
      return absl::AbortedError("upsert customers: a concurrent import took a key of this batch; retry");
    }
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  return b.rows;
}

absl::Status PgCustomerStore::MarkSeen(const std::string& sync_id, const std::vector<std::string>& external_ids) {
  if (external_ids.empty()) return absl::OkStatus();
  ArrayLiteral ids;
  for (const auto& id : external_ids) ids.Add(id);
  return pool_->Run([&](pqxx::connection& c) -> absl::Status {
    pqxx::work tx(c);
    pool_->Exec(tx, "dir_mark_seen", sync_id, ids.Take());
    tx.commit();
    return absl::OkStatus();
  });
}

absl::StatusOr<int64_t> PgCustomerStore::EraseUnseen(const std::string& sync_id, bool dry_run) {
  int64_t count = 0;
  auto status = pool_->Run([&](pqxx::connection& c) -> absl::Status {
    pqxx::work tx(c);
    if (dry_run) {
      count = pool_->Exec1(tx, "dir_count_unseen", sync_id)[0].as<int64_t>();
    } else {
      ArrayLiteral ids;
      for (const auto& r : pool_->Exec(tx, "dir_lock_unseen", sync_id)) {
        ids.Add(r[0].as<int64_t>());
        ++count;
      }
      if (count > 0) EraseIds(tx, *pool_, ids.Take());
    }
    pool_->Exec(tx, "dir_forget_sync", sync_id);
    tx.commit();
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  return count;
}

absl::Status PgCustomerStore::ForgetSync(const std::string& sync_id) {
  return pool_->Run([&](pqxx::connection& c) -> absl::Status {
    pqxx::work tx(c);
    pool_->Exec(tx, "dir_forget_sync", sync_id);
    tx.commit();
    return absl::OkStatus();
  });
}

absl::StatusOr<Customer> PgCustomerStore::Get(std::string_view external_id) {
  std::vector<Customer> found;
  auto status = pool_->Run([&](pqxx::connection& c) -> absl::Status {
    pqxx::read_transaction tx(c);  // one snapshot for the row and its lists
    found = RowsToCustomers(pool_->Exec(tx, "dir_get", std::string(external_id)));
    LoadLists(tx, *pool_, found);
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  if (found.empty()) return absl::NotFoundError(absl::StrCat("customer '", std::string(external_id), "' not found"));
  return std::move(found.front());
}

absl::StatusOr<Erasure> PgCustomerStore::Erase(std::string_view external_id) {
  std::optional<Erasure> out;
  auto status = pool_->Run([&](pqxx::connection& c) -> absl::Status {
    pqxx::work tx(c);
    auto row = pool_->Exec(tx, "dir_lock_by_external_id", std::string(external_id));
    if (row.empty()) return absl::OkStatus();
    const int64_t id = row[0][0].as<int64_t>();
    out = EraseIds(tx, *pool_, pg::IntArray(std::vector<int64_t>{id}));
    out->id = id;
    tx.commit();
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  if (!out) return absl::NotFoundError(absl::StrCat("customer '", std::string(external_id), "' not found"));
  return *out;
}

absl::StatusOr<CustomerPage> PgCustomerStore::List(const CustomerFilter& filter) {
  const int page_size = std::clamp(filter.page_size, 1, 5000);
  CustomerPage page;
  auto status = pool_->Run([&](pqxx::connection& c) -> absl::Status {
    pqxx::read_transaction tx(c);
    page.customers = RowsToCustomers(
        pool_->Exec(tx, "dir_list", filter.after_id, filter.service, filter.region, int64_t{page_size} + 1));
    if (page.customers.size() > static_cast<size_t>(page_size)) {
      page.customers.resize(page_size);
      page.last_id = page.customers.back().id;
    }
    LoadLists(tx, *pool_, page.customers);
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  return page;
}

absl::StatusOr<std::vector<Customer>> PgCustomerStore::ModifyPreferences(
    const CustomerSelector& who, PreferenceSource source,
    const std::function<absl::StatusOr<Preferences>(const Customer&)>& change) {
  std::vector<Customer> customers;
  auto status = pool_->Run([&](pqxx::connection& c) -> absl::Status {
    pqxx::work tx(c);
    customers = LockSelected(tx, *pool_, who);
    std::vector<int> before;
    for (auto& customer : customers) {
      auto prefs = change(customer);
      if (!prefs.ok()) return prefs.status();  // rolled back: nothing written
      before.push_back(pg::PreferenceBits(customer.preferences));
      customer.preferences = *prefs;
    }
    for (size_t i = 0; i < customers.size(); ++i) WritePreferences(tx, *pool_, source, before[i], customers[i]);
    tx.commit();
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  if (customers.empty()) return absl::NotFoundError(absl::StrCat("no customer with ", SelectorText(who)));
  return customers;
}

}  // namespace forewarn
