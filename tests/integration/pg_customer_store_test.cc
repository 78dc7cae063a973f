// Integration tests of the customer directory's PostgreSQL adapter
// (PgCustomerStore, migration 0010) against the real server started by
// scripts/test.sh (FOREWARN_TEST_PG_URI).
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <set>

#include "absl/strings/str_cat.h"
#include "pqxx/pqxx"

#include "services/core/notice_policy.h"
#include "services/directory/directory_service.h"
#include "services/pg/migrations.h"
#include "services/pg/pg_customer_store.h"
#include "services/pg/pg_store.h"
#include "tests/integration/pg_fixture.h"
#include "tests/support/new_incidents.h"

namespace forewarn {
namespace {

const absl::Time kNow = absl::FromUnixSeconds(1'790'000'000);
constexpr char kIbanA[] = "SA0380000000608010167519";
constexpr char kIbanB[] = "SA4420000001234567891234";
constexpr char kIbanC[] = "SA1980000000000000000001";

// Customer `n`: crm-n, electricity in riyadh, a phone and an address.
Customer MakeCustomer(int n) {
  Customer c;
  c.external_id = absl::StrCat("crm-", n);
  c.name = absl::StrCat("Customer ", n);
  c.locale = n % 2 ? "en" : "ar";
  c.time_zone = "Asia/Riyadh";
  c.phone = absl::StrCat("+9665", 10000000 + n);
  c.email = absl::StrCat("c", n, "@example.com");
  c.services = {{"electricity", "riyadh"}};
  return c;
}

std::vector<UpsertOutcome> Outcomes(const absl::StatusOr<std::vector<UpsertRow>>& rows) {
  std::vector<UpsertOutcome> out;
  if (!rows.ok()) return out;
  for (const auto& r : *rows) out.push_back(r.outcome);
  return out;
}

constexpr auto kInserted = UpsertOutcome::kInserted;
constexpr auto kUpdated = UpsertOutcome::kUpdated;
constexpr auto kUnchanged = UpsertOutcome::kUnchanged;

class PgCustomerStoreTest : public testing::PgTest {
 protected:
  void SetUp() override {
    SetUpDatabase(
        "INSERT INTO services VALUES ('electricity','Electricity','الكهرباء'),('water','Water','المياه');"
        "INSERT INTO regions VALUES ('riyadh','Riyadh','الرياض'),('jeddah','Jeddah','جدة');");
    if (db_ != nullptr) store_ = std::make_unique<PgCustomerStore>(PgDatabase(db_->uri(), 2));
  }
  std::string Count(const std::string& table, const std::string& where = "true") {
    return db_->Exec(absl::StrCat("SELECT count(*) FROM ", table, " WHERE ", where));
  }
  // Upserts `customers` (written), failing the test on an error.
  std::vector<UpsertRow> Upsert(const std::vector<Customer>& customers) {
    auto rows = store_->Upsert(customers, /*dry_run=*/false);
    EXPECT_TRUE(rows.ok()) << rows.status();
    return rows.ok() ? *rows : std::vector<UpsertRow>{};
  }
  int64_t IdOf(const std::string& external_id) {
    auto c = store_->Get(external_id);
    return c.ok() ? c->id : 0;
  }

  std::unique_ptr<PgCustomerStore> store_;
};

TEST_F(PgCustomerStoreTest, LoadsTheCatalog) {
  auto catalog = store_->LoadCatalog();
  ASSERT_TRUE(catalog.ok()) << catalog.status();
  EXPECT_EQ(catalog->services, (std::set<std::string>{"electricity", "water"}));
  EXPECT_EQ(catalog->regions, (std::set<std::string>{"jeddah", "riyadh"}));
}

TEST_F(PgCustomerStoreTest, UpsertInsertsUpdatesAndLeavesIdenticalCustomersUntouched) {
  std::vector<Customer> batch = {MakeCustomer(1), MakeCustomer(2), MakeCustomer(3)};
  batch[1].phone.clear();  // no SMS
  batch[2].email.clear();
  EXPECT_EQ(Outcomes(store_->Upsert(batch, false)), (std::vector{kInserted, kInserted, kInserted}));
  auto got = store_->Get("crm-2");
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_GT(got->id, 0);
  Customer want = batch[1];
  want.id = got->id;
  EXPECT_EQ(*got, want);
  EXPECT_EQ(db_->Exec("SELECT count(*) FROM customers WHERE phone IS NULL"), "1");  // '' is stored as none
  const std::string stamp = db_->Exec("SELECT updated_at::text FROM customers WHERE external_id = 'crm-1'");

  EXPECT_EQ(Outcomes(store_->Upsert(batch, false)), (std::vector{kUnchanged, kUnchanged, kUnchanged}));
  EXPECT_EQ(db_->Exec("SELECT updated_at::text FROM customers WHERE external_id = 'crm-1'"), stamp);  // no write
  batch[0].name = "Renamed";
  batch[2].preferences.planned_maintenance = {false, false};
  EXPECT_EQ(Outcomes(store_->Upsert(batch, false)), (std::vector{kUpdated, kUnchanged, kUpdated}));
  EXPECT_EQ(store_->Get("crm-1")->name, "Renamed");
  EXPECT_EQ(store_->Get("crm-3")->preferences.planned_maintenance, (ChannelSet{false, false}));
  EXPECT_EQ(db_->Exec("SELECT channels_maintenance FROM customers WHERE external_id = 'crm-3'"), "0");
  EXPECT_EQ(store_->Get("crm-1")->id, IdOf("crm-1"));  // an update keeps the id
  EXPECT_EQ(store_->Get("nobody").status().code(), absl::StatusCode::kNotFound);
}

TEST_F(PgCustomerStoreTest, UpdateReplacesServicesAccountsAndBeneficiaries) {
  Customer c = MakeCustomer(1);
  c.services = {{"electricity", "riyadh"}, {"water", "jeddah"}};
  c.accounts = {kIbanA, kIbanB};
  c.beneficiaries = {{kIbanC, "rent"}};
  Upsert({c});
  EXPECT_EQ(store_->Get("crm-1")->services, c.services);
  c.services = {{"water", "riyadh"}};
  c.accounts = {kIbanB};
  c.beneficiaries = {{kIbanA, "mother"}, {kIbanC, "landlord"}};
  EXPECT_EQ(Outcomes(store_->Upsert({c}, false)), (std::vector{kUpdated}));
  auto got = store_->Get("crm-1");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->services, c.services);
  EXPECT_EQ(got->accounts, c.accounts);
  EXPECT_EQ(got->beneficiaries, c.beneficiaries);
  EXPECT_EQ(Count("customer_services"), "1");
  EXPECT_EQ(Count("accounts"), "1");
  EXPECT_EQ(Count("beneficiaries"), "2");
  // Lists in another order store alike: unchanged.
  std::swap(c.beneficiaries[0], c.beneficiaries[1]);
  EXPECT_EQ(Outcomes(store_->Upsert({c}, false)), (std::vector{kUnchanged}));
}

TEST_F(PgCustomerStoreTest, AnAccountHeldByAnotherCustomerRefusesOnlyThatRow) {
  Customer holder = MakeCustomer(1);
  holder.accounts = {kIbanA};
  Upsert({holder});
  Customer thief = MakeCustomer(2);
  thief.accounts = {kIbanB, kIbanA};
  Customer first = MakeCustomer(3), second = MakeCustomer(4);
  first.accounts = {kIbanC};
  second.accounts = {kIbanC};  // twice in the batch: the first claim wins
  auto rows = store_->Upsert({thief, MakeCustomer(5), first, second}, false);
  ASSERT_TRUE(rows.ok()) << rows.status();
  ASSERT_EQ(rows->size(), 4u);
  ASSERT_TRUE((*rows)[0].error.has_value());
  EXPECT_EQ(*(*rows)[0].error, (FieldError{"accounts[1]", "IBAN belongs to another customer"}));
  EXPECT_FALSE((*rows)[1].error.has_value());
  EXPECT_FALSE((*rows)[2].error.has_value());
  ASSERT_TRUE((*rows)[3].error.has_value());
  EXPECT_EQ((*rows)[3].error->field, "accounts[0]");
  // Nothing of a refused row is written; the others are.
  EXPECT_EQ(store_->Get("crm-2").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(store_->Get("crm-4").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(Count("accounts", absl::StrCat("iban = '", kIbanB, "'")), "0");
  EXPECT_EQ(Count("customers"), "3");
  EXPECT_EQ(db_->Exec(absl::StrCat("SELECT c.external_id FROM accounts a JOIN customers c ON c.id = a.customer_id "
                                   "WHERE a.iban = '", kIbanC, "'")),
            "crm-3");
}

TEST_F(PgCustomerStoreTest, AnAccountMovesBetweenCustomersRewrittenInOneBatch) {
  Customer from = MakeCustomer(1), to = MakeCustomer(2);
  from.accounts = {kIbanA};
  Upsert({from});
  from.accounts.clear();
  to.accounts = {kIbanA};
  auto rows = store_->Upsert({to, from}, false);  // claimed before it is let go, in batch order
  ASSERT_TRUE(rows.ok()) << rows.status();
  EXPECT_FALSE((*rows)[0].error.has_value());
  EXPECT_EQ(Outcomes(rows), (std::vector{kInserted, kUpdated}));
  EXPECT_EQ(store_->Get("crm-2")->accounts, std::vector<std::string>{kIbanA});
  EXPECT_TRUE(store_->Get("crm-1")->accounts.empty());
}

TEST_F(PgCustomerStoreTest, DryRunClassifiesAndWritesNothing) {
  Upsert({MakeCustomer(1)});
  Customer changed = MakeCustomer(1);
  changed.name = "Changed";
  Customer taken = MakeCustomer(3);
  Upsert({[] { Customer c = MakeCustomer(9); c.accounts = {kIbanA}; return c; }()});
  taken.accounts = {kIbanA};
  auto rows = store_->Upsert({changed, MakeCustomer(2), taken}, /*dry_run=*/true);
  ASSERT_TRUE(rows.ok()) << rows.status();
  EXPECT_EQ((*rows)[0].outcome, kUpdated);
  EXPECT_EQ((*rows)[1].outcome, kInserted);
  EXPECT_TRUE((*rows)[2].error.has_value());
  EXPECT_EQ(store_->Get("crm-1")->name, "Customer 1");
  EXPECT_EQ(Count("customers"), "2");
  EXPECT_EQ(Count("customer_services"), "2");
}

TEST_F(PgCustomerStoreTest, ListPagesByIdAndFiltersByServiceAndRegion) {
  std::vector<Customer> batch;
  for (int n = 1; n <= 5; ++n) batch.push_back(MakeCustomer(n));
  batch[1].services = {{"water", "riyadh"}};
  batch[3].services = {{"electricity", "jeddah"}, {"water", "jeddah"}};
  Upsert(batch);
  std::vector<std::string> seen;
  CustomerFilter f;
  f.page_size = 2;
  for (int pages = 1;; ++pages) {
    auto page = store_->List(f);
    ASSERT_TRUE(page.ok()) << page.status();
    for (const auto& c : page->customers) seen.push_back(c.external_id);
    if (page->last_id == 0) {
      EXPECT_EQ(pages, 3);
      break;
    }
    f.after_id = page->last_id;
  }
  EXPECT_EQ(seen, (std::vector<std::string>{"crm-1", "crm-2", "crm-3", "crm-4", "crm-5"}));
  auto ids = [&](const std::string& service, const std::string& region) {
    CustomerFilter filter;
    filter.service = service;
    filter.region = region;
    std::vector<std::string> out;
    auto page = store_->List(filter);
    EXPECT_TRUE(page.ok()) << page.status();
    if (page.ok()) {
      for (const auto& c : page->customers) out.push_back(c.external_id);
    }
    return out;
  };
  EXPECT_EQ(ids("water", ""), (std::vector<std::string>{"crm-2", "crm-4"}));
  EXPECT_EQ(ids("", "jeddah"), (std::vector<std::string>{"crm-4"}));
  EXPECT_EQ(ids("electricity", "riyadh"), (std::vector<std::string>{"crm-1", "crm-3", "crm-5"}));
  f = CustomerFilter();
  f.service = "water";
  f.region = "jeddah";
  auto listed = store_->List(f);
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->customers.size(), 1u);
  EXPECT_EQ(listed->customers[0].services.size(), 2u);  // with its lists
}

TEST_F(PgCustomerStoreTest, ModifyPreferencesChangesEverySelectedCustomerOrNone) {
  std::vector<Customer> batch = {MakeCustomer(1), MakeCustomer(2), MakeCustomer(3)};
  batch[2].phone = batch[1].phone;  // a shared number
  Upsert(batch);
  auto sms_off = [](const Customer& c) -> absl::StatusOr<Preferences> {
    Preferences p = c.preferences;
    p.planned_maintenance.sms = false;
    return p;
  };
  constexpr auto kDirectory = PreferenceSource::kDirectory;
  auto changed = store_->ModifyPreferences({CustomerSelector::By::kPhone, batch[1].phone}, kDirectory, sms_off);
  ASSERT_TRUE(changed.ok()) << changed.status();
  ASSERT_EQ(changed->size(), 2u);
  EXPECT_EQ((*changed)[0].external_id, "crm-2");
  EXPECT_EQ((*changed)[1].preferences.planned_maintenance, (ChannelSet{false, true}));
  EXPECT_EQ(Count("customers", "channels_maintenance = 2"), "2");
  // The directory's change replaces the record: an import of the old one is a change.
  EXPECT_EQ(Outcomes(store_->Upsert({batch[1]}, false)), (std::vector{kUpdated}));

  EXPECT_TRUE(store_->ModifyPreferences({CustomerSelector::By::kId, "", IdOf("crm-1")}, kDirectory, sms_off).ok());
  EXPECT_EQ(store_->Get("crm-1")->preferences.planned_maintenance, (ChannelSet{false, true}));
  auto refuse = [](const Customer&) -> absl::StatusOr<Preferences> {
    return absl::FailedPreconditionError("preferences.unplanned_outages: cannot be turned off");
  };
  const std::string before = db_->Exec("SELECT string_agg(channels_unplanned::text, ',' ORDER BY id) FROM customers");
  auto refused = store_->ModifyPreferences({CustomerSelector::By::kExternalId, "crm-3"}, kDirectory, refuse);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(db_->Exec("SELECT string_agg(channels_unplanned::text, ',' ORDER BY id) FROM customers"), before);
  auto none = store_->ModifyPreferences({CustomerSelector::By::kPhone, "+966500000000"}, kDirectory, sms_off);
  EXPECT_EQ(none.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(none.status().message().find("+9665"), std::string::npos);  // no number in the error
}

// A change of one channel of planned maintenance.
std::function<absl::StatusOr<Preferences>(const Customer&)> MaintenanceEmail(bool on) {
  return [on](const Customer& c) -> absl::StatusOr<Preferences> {
    Preferences p = c.preferences;
    p.planned_maintenance.email = on;
    return p;
  };
}

// The customer's unsubscribe (link, STOP) is theirs: the CRM's routine
// re-import of the record it always had neither counts as a change nor
// turns the channel back on, and a changed record is rewritten without it.
// The customer's START turns it back on.
TEST_F(PgCustomerStoreTest, ACustomersOwnOptOutSurvivesReImports) {
  Customer c = MakeCustomer(1);
  Upsert({c, MakeCustomer(2)});
  const int64_t id = IdOf("crm-1");
  const std::string stamp = db_->Exec("SELECT content_hash::text FROM customers WHERE external_id = 'crm-1'");
  auto off = store_->ModifyPreferences({CustomerSelector::By::kId, "", id}, PreferenceSource::kCustomer,
                                       MaintenanceEmail(false));
  ASSERT_TRUE(off.ok()) << off.status();
  EXPECT_EQ(db_->Exec("SELECT opted_out || ':' || channels_maintenance FROM customers WHERE external_id = 'crm-1'"),
            "8:1");  // bit 2 * 1 (maintenance) + 1 (email); SMS only
  EXPECT_EQ(db_->Exec("SELECT content_hash::text FROM customers WHERE external_id = 'crm-1'"), stamp);
  const ChannelSet sms_only{true, false}, both{true, true};

  EXPECT_EQ(Outcomes(store_->Upsert({c}, false)), (std::vector{kUnchanged}));
  EXPECT_EQ(store_->Get("crm-1")->preferences.planned_maintenance, sms_only);
  c.name = "Renamed";
  EXPECT_EQ(Outcomes(store_->Upsert({c}, false)), (std::vector{kUpdated}));
  auto got = store_->Get("crm-1");
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->name, "Renamed");
  EXPECT_EQ(got->preferences.planned_maintenance, sms_only);
  EXPECT_EQ(got->preferences.unplanned_outages, both);
  EXPECT_EQ(got->preferences.banking_changes, both);
  EXPECT_EQ(Outcomes(store_->Upsert({c}, false)), (std::vector{kUnchanged}));  // the hash is the record's
  EXPECT_EQ(store_->Get("crm-2")->preferences.planned_maintenance, both);      // only theirs

  auto on = store_->ModifyPreferences({CustomerSelector::By::kExternalId, "crm-1"}, PreferenceSource::kCustomer,
                                      MaintenanceEmail(true));
  ASSERT_TRUE(on.ok()) << on.status();
  EXPECT_EQ(on->front().preferences.planned_maintenance, both);
  EXPECT_EQ(db_->Exec("SELECT opted_out FROM customers WHERE external_id = 'crm-1'"), "0");
  c.name = "Renamed again";
  EXPECT_EQ(Outcomes(store_->Upsert({c}, false)), (std::vector{kUpdated}));
  EXPECT_EQ(store_->Get("crm-1")->preferences.planned_maintenance, both);
}

// The directory's change (an operator's or the CRM's SetPreferences) that
// enables an opted-out channel lifts that opt-out, and only that one.
TEST_F(PgCustomerStoreTest, TheDirectoryReEnablesOnlyTheChannelsItTurnsOn) {
  const Customer c = MakeCustomer(1);
  Upsert({c});
  const CustomerSelector who{CustomerSelector::By::kExternalId, "crm-1"};
  ASSERT_TRUE(store_->ModifyPreferences(who, PreferenceSource::kCustomer, MaintenanceEmail(false)).ok());
  auto banking_sms_off = [](const Customer& customer) -> absl::StatusOr<Preferences> {
    Preferences p = customer.preferences;
    p.banking_changes.sms = false;
    return p;
  };
  ASSERT_TRUE(store_->ModifyPreferences(who, PreferenceSource::kCustomer, banking_sms_off).ok());
  EXPECT_EQ(db_->Exec("SELECT opted_out FROM customers WHERE external_id = 'crm-1'"), "24");  // bits 3 and 4

  auto set = store_->ModifyPreferences(who, PreferenceSource::kDirectory, MaintenanceEmail(true));
  ASSERT_TRUE(set.ok()) << set.status();
  EXPECT_EQ(set->front().preferences.planned_maintenance, (ChannelSet{true, true}));
  EXPECT_EQ(db_->Exec("SELECT opted_out || ':' || channels_maintenance FROM customers WHERE external_id = 'crm-1'"),
            "16:3");
  // The CRM's record (every channel on) differs from the one the directory
  // set: rewritten, banking SMS still off by the customer's choice.
  EXPECT_EQ(Outcomes(store_->Upsert({c}, false)), (std::vector{kUpdated}));
  auto got = store_->Get("crm-1");
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->preferences.planned_maintenance, (ChannelSet{true, true}));
  EXPECT_EQ(got->preferences.banking_changes, (ChannelSet{false, true}));
}

// An incident row the ledger rows of a test can belong to.
std::string InsertIncident(const testing::ScratchDatabase& db, const std::string& key) {
  return db.Exec(absl::StrCat(
      "INSERT INTO incidents (version, kind, state, services, regions, reason_ar, reason_en, starts_at, "
      "expected_restoration_at, idempotency_key, request_hash, created_at, updated_at) VALUES (1, "
      "'unplanned_outage', 'open', '{electricity}', '{riyadh}', 'ع', 'r', now(), now(), '",
      key, "', 'h', now(), now()) RETURNING id"));
}

TEST_F(PgCustomerStoreTest, EraseRemovesTheCustomersPersonalDataFromEveryTable) {
  Customer c = MakeCustomer(1);
  c.accounts = {kIbanA};
  c.beneficiaries = {{kIbanB, "rent"}};
  Upsert({c, MakeCustomer(2)});
  const int64_t id = IdOf("crm-1"), other = IdOf("crm-2");
  const std::string inc = InsertIncident(*db_, "k1");
  std::string ledger = "INSERT INTO notice_ledger (incident_id, incident_version, notice_kind, occasion, customer_id, "
                       "channel, state, provider_id, error, claimed_at, updated_at, incident_epoch) VALUES ";
  auto row = [&](int64_t customer, const char* kind, const char* channel, const char* state, const char* provider,
                 const char* error) {
    return absl::StrCat("('", inc, "', 1, '", kind, "', '', ", customer, ", '", channel, "', '", state, "', ",
                        provider, ", ", error, ", now(), now(), forewarn_incident_epoch('", inc, "'))");
  };
  db_->Exec(absl::StrCat(
      ledger, row(id, "outage_started", "sms", "sent", "'prov-1'", "NULL"), ",",
      row(id, "outage_started", "email", "failed", "NULL", "'550 c1@example.com: mailbox unknown'"), ",",
      row(id, "outage_updated", "sms", "held", "NULL", "NULL"), ",",
      row(id, "outage_updated", "email", "retrying", "NULL", "'421 try later for c1@example.com'"), ",",
      row(id, "outage_restored", "sms", "dead", "'prov-2'", "'gateway rejected +966510000001'"), ",",
      row(other, "outage_started", "sms", "sent", "'prov-9'", "NULL"), ";",
      "INSERT INTO held_notices (incident_id, version, notice_kind, occasion, customer_id, channel, address, locale, "
      "time_zone, name, role, release_at) VALUES ('", inc, "', 1, 'outage_updated', '', ", id,
      ", 'sms', '+966510000001', 'en', 'Asia/Riyadh', 'Customer 1', 'affected', now()), ('", inc,
      "', 1, 'outage_updated', '', ", other, ", 'sms', '+966510000002', 'ar', 'Asia/Riyadh', 'Customer 2', "
      "'affected', now());"
      "INSERT INTO dead_notices VALUES ('", inc, "', 1, 'outage_restored', '', ", id, ", 'sms', now(), "
      "forewarn_incident_epoch('", inc, "'));"));

  auto erased = store_->Erase("crm-1");
  ASSERT_TRUE(erased.ok()) << erased.status();
  EXPECT_EQ(erased->id, id);
  EXPECT_EQ(erased->held_notices_removed, 1);
  EXPECT_EQ(erased->notices_closed, 3);  // held, retrying, dead
  const std::string mine = absl::StrCat("customer_id = ", id);
  EXPECT_EQ(Count("customers", absl::StrCat("id = ", id)), "0");
  EXPECT_EQ(Count("customer_services", mine), "0");
  EXPECT_EQ(Count("accounts", mine), "0");
  EXPECT_EQ(Count("beneficiaries", mine), "0");
  EXPECT_EQ(Count("held_notices", mine), "0");
  EXPECT_EQ(Count("dead_notices", mine), "0");
  // The ledger keeps only the id: no open entry, no provider id, no text
  // that could hold an address.
  EXPECT_EQ(Count("notice_ledger", mine), "5");
  EXPECT_EQ(Count("notice_ledger", mine + " AND state IN ('held', 'retrying', 'dead', 'claimed')"), "0");
  EXPECT_EQ(Count("notice_ledger", mine + " AND state = 'failed'"), "4");
  EXPECT_EQ(Count("notice_ledger", mine + " AND provider_id IS NOT NULL"), "0");
  EXPECT_EQ(Count("notice_ledger", mine + " AND error IS NOT NULL AND error <> 'customer erased'"), "0");
  // Nobody else's data is touched.
  EXPECT_EQ(Count("held_notices", absl::StrCat("customer_id = ", other)), "1");
  EXPECT_EQ(Count("notice_ledger", absl::StrCat("customer_id = ", other, " AND provider_id = 'prov-9'")), "1");
  EXPECT_TRUE(store_->Get("crm-2").ok());
  EXPECT_EQ(store_->Erase("crm-1").status().code(), absl::StatusCode::kNotFound);
}

TEST_F(PgCustomerStoreTest, FullSyncErasesOnlyTheCustomersItDidNotSee) {
  Upsert({MakeCustomer(1), MakeCustomer(2), MakeCustomer(3)});
  // A customer written by SQL before the directory has no external id: kept.
  db_->Exec("INSERT INTO customers (name, locale, time_zone) VALUES ('Legacy', 'ar', 'Asia/Riyadh')");
  ASSERT_TRUE(store_->MarkSeen("sync-1", {"crm-1"}).ok());
  ASSERT_TRUE(store_->MarkSeen("sync-1", {"crm-3", "crm-9"}).ok());
  ASSERT_TRUE(store_->MarkSeen("sync-2", {"crm-2"}).ok());  // another sync's ids do not count
  auto would = store_->EraseUnseen("sync-1", /*dry_run=*/true);
  ASSERT_TRUE(would.ok()) << would.status();
  EXPECT_EQ(*would, 1);
  EXPECT_EQ(Count("customers"), "4");
  EXPECT_EQ(Count("customer_sync_seen", "sync_id = 'sync-1'"), "0");  // forgotten

  ASSERT_TRUE(store_->MarkSeen("sync-3", {"crm-1", "crm-3"}).ok());
  auto erased = store_->EraseUnseen("sync-3", false);
  ASSERT_TRUE(erased.ok()) << erased.status();
  EXPECT_EQ(*erased, 1);
  EXPECT_EQ(store_->Get("crm-2").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(Count("customers"), "3");
  EXPECT_EQ(Count("customer_sync_seen", "sync_id = 'sync-3'"), "0");
  ASSERT_TRUE(store_->ForgetSync("sync-2").ok());
  EXPECT_EQ(Count("customer_sync_seen"), "0");
}

// The directory's use case over this store: an import session's batches
// and full sync, then the same import again (all unchanged).
TEST_F(PgCustomerStoreTest, ImportSessionsRunOverPostgres) {
  ContactRules contacts{[](std::string_view phone) -> absl::StatusOr<std::string> { return std::string(phone); },
                        [](std::string_view email) { return email.find('@') != std::string_view::npos; }};
  CustomerDirectoryService directory(*store_, contacts);
  Upsert({MakeCustomer(99)});  // not in the file: erased by the full sync
  for (int round = 0; round < 2; ++round) {
    auto session = directory.StartImport({.dry_run = false, .delete_missing = true});
    ASSERT_TRUE(session.ok()) << session.status();
    for (int first = 1; first <= 20; first += 10) {
      std::vector<Customer> batch;
      for (int n = first; n < first + 10; ++n) batch.push_back(MakeCustomer(n));
      batch[3].services = {{"gas", "riyadh"}};  // unknown service: rejected, still seen
      auto outcome = (*session)->Batch(batch);
      ASSERT_TRUE(outcome.ok()) << outcome.status();
      EXPECT_EQ(outcome->rejected.size(), 1u);
    }
    auto totals = (*session)->Finish();
    ASSERT_TRUE(totals.ok()) << totals.status();
    EXPECT_EQ(totals->inserted, round == 0 ? 18 : 0);
    EXPECT_EQ(totals->unchanged, round == 0 ? 0 : 18);
    EXPECT_EQ(totals->rejected, 2);
    EXPECT_EQ(totals->deleted, round == 0 ? 1 : 0);
  }
  EXPECT_EQ(Count("customers"), "18");
  EXPECT_EQ(Count("customer_sync_seen"), "0");
}

// Behind a transaction pooler nothing is prepared: the same statements go
// unnamed, each batch in one transaction.
TEST_F(PgCustomerStoreTest, WorksBehindATransactionPooler) {
  if (db_->pooled_uri().empty()) GTEST_SKIP() << "FOREWARN_TEST_PGBOUNCER_URI not set";
  PgCustomerStore pooled(PgDatabase(PgEndpoint(db_->pooled_uri(), PgPooling::kTransaction), 2));
  Customer c = MakeCustomer(1);
  c.accounts = {kIbanA};
  for (int round = 0; round < 3; ++round) {
    auto rows = pooled.Upsert({c, MakeCustomer(2)}, false);
    ASSERT_TRUE(rows.ok()) << rows.status();
    EXPECT_EQ((*rows)[0].outcome, round == 0 ? kInserted : kUnchanged);
  }
  EXPECT_EQ(pooled.Get("crm-1")->accounts, std::vector<std::string>{kIbanA});
  ASSERT_TRUE(pooled.MarkSeen("s", {"crm-1"}).ok());
  EXPECT_EQ(*pooled.EraseUnseen("s", false), 1);
  EXPECT_TRUE(pooled.Erase("crm-1").ok());
  EXPECT_EQ(Count("customers"), "0");
}

// Migration 10 on a database populated under version 9: every customer keeps
// the channels it chose, now in each category, and new ids follow the old.
TEST(PgCustomerMigrationTest, ChannelsPerCategoryKeepTheOldChoices) {
  if (testing::TestPgUri().empty()) GTEST_SKIP() << "FOREWARN_TEST_PG_URI not set";
  testing::ScratchDatabase db;
  db.Exec("CREATE TABLE schema_migrations (version integer PRIMARY KEY, name text NOT NULL, "
          "applied_at timestamptz NOT NULL DEFAULT now())");
  for (const auto& m : pg::Migrations()) {
    if (m.version >= 10) break;
    db.Exec(m.sql);
    db.Exec(absl::StrCat("INSERT INTO schema_migrations (version, name) VALUES (", m.version, ", '", m.name, "')"));
  }
  db.Exec("INSERT INTO customers (id, name, locale, time_zone, phone, email, notify_sms, notify_email) VALUES "
          "(1,'A','ar','Asia/Riyadh','+966500000001','a@example.com',true,true),"
          "(2,'B','en','Asia/Riyadh','+966500000002','b@example.com',false,true),"
          "(3,'C','en','Asia/Riyadh','+966500000003','c@example.com',true,false),"
          "(7,'D','en','Asia/Riyadh',NULL,NULL,false,false)");
  ASSERT_TRUE(ApplyMigrations(db.uri()).ok());
  db.Exec("INSERT INTO services VALUES ('electricity','Electricity','الكهرباء');"
          "INSERT INTO regions VALUES ('riyadh','Riyadh','الرياض');");
  EXPECT_EQ(db.Exec("SELECT string_agg(id || ':' || channels_unplanned || channels_maintenance || channels_banking, "
                    "',' ORDER BY id) FROM customers"),
            "1:333,2:222,3:111,7:000");
  EXPECT_EQ(db.Exec("SELECT count(*) FROM information_schema.columns WHERE table_name = 'customers' "
                    "AND column_name IN ('notify_sms', 'notify_email')"),
            "0");
  PgCustomerStore store(db.uri());
  auto rows = store.Upsert({MakeCustomer(1)}, false);
  ASSERT_TRUE(rows.ok()) << rows.status();
  EXPECT_EQ(store.Get("crm-1")->id, 8);
  EXPECT_EQ(db.Exec("SELECT external_id IS NULL FROM customers WHERE id = 1"), "t");
}

// The audience rule reads the channels of the incident's notice category,
// in the resolver's stream and in the completeness check alike.
TEST_F(PgCustomerStoreTest, AudienceHonoursTheChannelsOfEachCategory) {
  Customer quiet = MakeCustomer(1);  // no maintenance notices; outages by SMS only
  quiet.preferences.planned_maintenance = {false, false};
  quiet.preferences.unplanned_outages = {true, false};
  quiet.accounts = {kIbanA};
  quiet.preferences.banking_changes = {false, true};
  Customer no_phone = MakeCustomer(2);  // SMS wanted for maintenance, no number: email instead
  no_phone.phone.clear();
  no_phone.preferences.planned_maintenance = {true, false};
  no_phone.beneficiaries = {{kIbanA, "rent"}};
  Upsert({quiet, no_phone});
  const int64_t q = IdOf("crm-1"), p = IdOf("crm-2");
  PgIncidentStore incidents(db_->uri());
  NewIncident outage = testing::OutageIncident("o", "electricity", "riyadh", {"ع", "r"}, kNow + absl::Hours(3));
  NewIncident maintenance = outage;
  maintenance.idempotency_key = "m";
  maintenance.kind = IncidentKind::kPlannedMaintenance;
  maintenance.starts_at = kNow + absl::Hours(1);
  NewIncident iban = testing::IbanChangeIncident("i", {"ع", "r"}, kIbanA, kIbanB);
  iban.starts_at = kNow;
  using Want = std::set<std::pair<int64_t, Channel>>;
  const std::vector<std::pair<NewIncident, Want>> cases = {
      {outage, {{q, Channel::kSms}, {p, Channel::kEmail}}},
      {maintenance, {{p, Channel::kEmail}}},
      {iban, {{q, Channel::kEmail}, {p, Channel::kEmail}}}};
  for (const auto& [request, want] : cases) {
    auto i = incidents.Create(request, kNow, [](const Incident&) { return NoticePlan{}; });
    ASSERT_TRUE(i.ok()) << i.status();
    Want streamed;
    PgAudienceSource audience(db_->uri());
    ASSERT_TRUE(audience.ForEachRecipient(*i, [&](const Recipient& r) {
      streamed.insert({r.customer_id, r.channel});
      return absl::OkStatus();
    }).ok());
    EXPECT_EQ(streamed, want) << ToString(request.kind);
    const char* notice = request.kind == IncidentKind::kIbanChange ? "iban_change_holder" : "outage_started";
    db_->Exec(absl::StrCat("INSERT INTO outbox (incident_id, version, notice_kind, created_at) VALUES ('", i->id,
                           "', 1, '", notice, "', now())"));
    auto c = incidents.CheckCompleteness(i->id, 100, kNow);
    ASSERT_TRUE(c.ok()) << c.status();
    EXPECT_EQ(c->audience, static_cast<int64_t>(want.size())) << ToString(request.kind);
  }
}

// End to end through the directory's use cases: the unsubscribe link
// (SetChannel) and a re-import of a changed record; the maintenance
// audience leaves the opted-out channel out.
TEST_F(PgCustomerStoreTest, MaintenanceAudienceLeavesOutAnOptOutAfterAReImport) {
  ContactRules contacts{[](std::string_view phone) -> absl::StatusOr<std::string> { return std::string(phone); },
                        [](std::string_view email) { return email.find('@') != std::string_view::npos; }};
  CustomerDirectoryService directory(*store_, contacts);
  Customer c = MakeCustomer(1);
  Upsert({c, MakeCustomer(2)});
  const int64_t q = IdOf("crm-1"), p = IdOf("crm-2");
  ASSERT_TRUE(directory.SetChannel(q, NoticeCategory::kPlannedMaintenance, Channel::kEmail, false).ok());
  c.name = "Renamed";
  auto session = directory.StartImport({});
  ASSERT_TRUE(session.ok()) << session.status();
  auto batch = (*session)->Batch({c, MakeCustomer(2)});
  ASSERT_TRUE(batch.ok()) << batch.status();
  EXPECT_EQ(batch->updated, 1);
  EXPECT_EQ(batch->unchanged, 1);

  PgIncidentStore incidents(db_->uri());
  NewIncident maintenance = testing::OutageIncident("m", "electricity", "riyadh", {"ع", "r"}, kNow + absl::Hours(3));
  maintenance.kind = IncidentKind::kPlannedMaintenance;
  maintenance.starts_at = kNow + absl::Hours(1);
  auto i = incidents.Create(maintenance, kNow, [](const Incident&) { return NoticePlan{}; });
  ASSERT_TRUE(i.ok()) << i.status();
  std::set<std::pair<int64_t, Channel>> streamed;
  PgAudienceSource audience(db_->uri());
  ASSERT_TRUE(audience.ForEachRecipient(*i, [&](const Recipient& r) {
    streamed.insert({r.customer_id, r.channel});
    return absl::OkStatus();
  }).ok());
  EXPECT_EQ(streamed, (std::set<std::pair<int64_t, Channel>>{{q, Channel::kSms}, {p, Channel::kSms},
                                                             {p, Channel::kEmail}}));
}

// Not a timed assertion: prints the rate of a bulk import through the store
// (FOREWARN_DIRECTORY_BENCH_ROWS customers, default 20000, in batches of
// 5000), then of the same import again (all unchanged).
TEST_F(PgCustomerStoreTest, ImportRateIsPrinted) {
  const char* env = std::getenv("FOREWARN_DIRECTORY_BENCH_ROWS");
  const int total = env != nullptr ? std::atoi(env) : 20000;
  constexpr int kBatch = 5000;
  for (const auto expected : {kInserted, kUnchanged}) {
    const auto start = std::chrono::steady_clock::now();
    double slowest_ms = 0;
    for (int first = 1; first <= total; first += kBatch) {
      std::vector<Customer> batch;
      for (int n = first; n < first + kBatch && n <= total; ++n) {
        batch.push_back(MakeCustomer(n));
        if (n % 4 == 0) batch.back().services.push_back({"water", "riyadh"});
      }
      const auto t0 = std::chrono::steady_clock::now();
      auto rows = store_->Upsert(batch, false);
      const std::chrono::duration<double, std::milli> took = std::chrono::steady_clock::now() - t0;
      slowest_ms = std::max(slowest_ms, took.count());
      ASSERT_TRUE(rows.ok()) << rows.status();
      ASSERT_EQ(rows->back().outcome, expected);
    }
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::printf("directory upsert (%s): %d customers in %.2f s = %.0f/s, %.2f us per customer, "
                "slowest batch %.0f ms\n",
                expected == kInserted ? "new" : "unchanged", total, s, total / s, s * 1e6 / total, slowest_ms);
  }
  EXPECT_EQ(Count("customers"), std::to_string(total));
}

}  // namespace
}  // namespace forewarn
