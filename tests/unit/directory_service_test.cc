// The customer directory's use cases over an in-memory store: validation
// with a field per rule, batch counts, full sync, the opt-out policy, STOP,
// a customer's own opt-out outliving imports.

#include "services/directory/directory_service.h"

#include <map>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "notifier/sms/phone.h"

namespace forewarn {
namespace {

using ::testing::ElementsAre;
using ::testing::Field;
using ::testing::HasSubstr;

// The store's contract in memory: by_external_ holds the effective
// customers, imported_ the records as imported (or as the directory last
// set them: what an import compares with), opted_out_ each customer's own
// opt-outs (bit 2 * category + channel).
class FakeCustomerStore final : public CustomerStore {
 public:
  static int Bits(const Preferences& p) {
    int bits = 0;
    for (NoticeCategory c : kAllNoticeCategories) {
      const int at = 2 * static_cast<int>(c);
      bits |= (p.For(c).sms ? 1 << at : 0) | (p.For(c).email ? 2 << at : 0);
    }
    return bits;
  }
  static Preferences Without(Preferences p, int opted_out) {
    for (NoticeCategory c : kAllNoticeCategories) {
      const int at = 2 * static_cast<int>(c);
      p.For(c).sms = p.For(c).sms && (opted_out & (1 << at)) == 0;
      p.For(c).email = p.For(c).email && (opted_out & (2 << at)) == 0;
    }
    return p;
  }

  absl::StatusOr<Catalog> LoadCatalog() override { return Catalog{{"electricity", "water"}, {"riyadh", "jeddah"}}; }
  absl::StatusOr<std::vector<UpsertRow>> Upsert(const std::vector<Customer>& customers, bool dry_run) override {
    if (races_to_lose_ > 0) {
      --races_to_lose_;
      return absl::AbortedError("duplicate key value violates unique constraint");
    }
    std::vector<UpsertRow> rows;
    for (Customer c : customers) {
      auto it = imported_.find(c.external_id);
      UpsertRow row;
      if (it == imported_.end()) {
        row.outcome = UpsertOutcome::kInserted;
        c.id = next_id_;
      } else {
        c.id = it->second.id;
        row.outcome = it->second == c ? UpsertOutcome::kUnchanged : UpsertOutcome::kUpdated;
      }
      if (!dry_run && row.outcome == UpsertOutcome::kInserted) ++next_id_;
      if (!dry_run && row.outcome != UpsertOutcome::kUnchanged) {
        imported_[c.external_id] = c;
        c.preferences = Without(c.preferences, opted_out_[c.external_id]);
        by_external_[c.external_id] = c;
      }
      rows.push_back(row);
    }
    return rows;
  }
  absl::Status MarkSeen(const std::string& sync_id, const std::vector<std::string>& ids) override {
    seen_[sync_id].insert(ids.begin(), ids.end());
    return absl::OkStatus();
  }
  absl::StatusOr<int64_t> EraseUnseen(const std::string& sync_id, bool dry_run) override {
    int64_t n = 0;
    for (auto it = by_external_.begin(); it != by_external_.end();) {
      if (seen_[sync_id].contains(it->first)) {
        ++it;
        continue;
      }
      ++n;
      if (!dry_run) Forget(it->first);
      it = dry_run ? std::next(it) : by_external_.erase(it);
    }
    seen_.erase(sync_id);
    return n;
  }
  absl::Status ForgetSync(const std::string& sync_id) override {
    seen_.erase(sync_id);
    ++forgotten_;
    return absl::OkStatus();
  }
  absl::StatusOr<Customer> Get(std::string_view external_id) override {
    auto it = by_external_.find(std::string(external_id));
    if (it == by_external_.end()) return absl::NotFoundError("customer: not found");
    return it->second;
  }
  absl::StatusOr<Erasure> Erase(std::string_view external_id) override {
    auto c = Get(external_id);
    if (!c.ok()) return c.status();
    by_external_.erase(std::string(external_id));
    Forget(std::string(external_id));
    return Erasure{c->id, 0, 0};
  }
  absl::StatusOr<CustomerPage> List(const CustomerFilter&) override { return CustomerPage{}; }
  absl::StatusOr<std::vector<Customer>> ModifyPreferences(
      const CustomerSelector& who, PreferenceSource source,
      const std::function<absl::StatusOr<Preferences>(const Customer&)>& change) override {
    sources_.push_back(source);
    std::vector<Customer*> matched;
    for (auto& [ext, c] : by_external_) {
      const bool match = who.by == CustomerSelector::By::kExternalId ? ext == who.text
                         : who.by == CustomerSelector::By::kId       ? c.id == who.id
                                                                     : c.phone == who.text;
      if (match) matched.push_back(&c);
    }
    if (matched.empty()) return absl::NotFoundError("customer: not found");
    std::vector<Preferences> next;
    for (Customer* c : matched) {
      auto p = change(*c);
      if (!p.ok()) return p.status();
      next.push_back(*p);
    }
    std::vector<Customer> out;
    for (size_t i = 0; i < matched.size(); ++i) {
      Customer& c = *matched[i];
      int& opted_out = opted_out_[c.external_id];
      const int before = Bits(c.preferences), after = Bits(next[i]);
      c.preferences = next[i];
      if (source == PreferenceSource::kCustomer) {
        opted_out = (opted_out | (before & ~after)) & ~(after & ~before);
      } else {
        opted_out &= ~after;
        imported_[c.external_id] = c;
      }
      out.push_back(c);
    }
    return out;
  }

  void Forget(const std::string& external_id) {
    imported_.erase(external_id);
    opted_out_.erase(external_id);
  }

  std::map<std::string, Customer> by_external_;
  std::map<std::string, Customer> imported_;
  std::map<std::string, int> opted_out_;
  std::vector<PreferenceSource> sources_;
  std::map<std::string, std::set<std::string>> seen_;
  int forgotten_ = 0;
  int races_to_lose_ = 0;
  int64_t next_id_ = 1;
};

Customer Valid(std::string external_id) {
  Customer c;
  c.external_id = std::move(external_id);
  c.name = "نورة العتيبي";
  c.locale = "ar";
  c.time_zone = "Asia/Riyadh";
  c.phone = "050 123 4567";
  c.email = "noura@example.com";
  c.services = {{"water", "riyadh"}, {"electricity", "riyadh"}};
  c.accounts = {"SA03 8000 0000 6080 1016 7519"};
  return c;
}

class DirectoryServiceTest : public ::testing::Test {
 protected:
  FakeCustomerStore store_;
  CustomerDirectoryService service_{store_, ContactRules{[](std::string_view p) { return NormalizeE164(p); },
                                                          [](std::string_view e) { return IsPlausibleEmail(e); }}};

  BatchOutcome Import(std::vector<Customer> batch, ImportOptions options = {}) {
    auto session = service_.StartImport(options);
    EXPECT_TRUE(session.ok());
    auto out = (*session)->Batch(std::move(batch));
    EXPECT_TRUE(out.ok()) << out.status();
    EXPECT_TRUE((*session)->Finish().ok());
    return *out;
  }

  FieldError RejectionOf(Customer c) {
    BatchOutcome out = Import({std::move(c)});
    EXPECT_EQ(out.rejected.size(), 1u);
    return out.rejected.empty() ? FieldError{} : out.rejected[0].error;
  }
};

TEST_F(DirectoryServiceTest, NormalisesAndCountsInsertedThenUnchangedThenUpdated) {
  BatchOutcome first = Import({Valid("crm-1"), Valid("crm-2")});
  EXPECT_EQ(first.inserted, 2);
  const Customer stored = store_.by_external_.at("crm-1");
  EXPECT_EQ(stored.phone, "+966501234567");
  EXPECT_THAT(stored.accounts, ElementsAre("SA0380000000608010167519"));
  EXPECT_EQ(stored.services.front().service, "electricity");  // sorted

  BatchOutcome again = Import({Valid("crm-1"), Valid("crm-2")});
  EXPECT_EQ(again.unchanged, 2);
  EXPECT_EQ(again.inserted + again.updated, 0);

  Customer moved = Valid("crm-2");
  moved.time_zone = "Asia/Dubai";
  BatchOutcome third = Import({Valid("crm-1"), moved});
  EXPECT_EQ(third.unchanged, 1);
  EXPECT_EQ(third.updated, 1);
}

TEST_F(DirectoryServiceTest, EachRuleRejectsItsRowNamingTheField) {
  Customer c = Valid("x");
  c.services[1].region = "atlantis";
  EXPECT_EQ(RejectionOf(c).field, "services[1].region");
  c = Valid("x");
  c.phone = "+966 12";
  EXPECT_EQ(RejectionOf(c).field, "phone");
  c = Valid("x");
  c.time_zone = "Mars/Olympus";
  EXPECT_EQ(RejectionOf(c).field, "time_zone");
  c = Valid("x");
  c.name = std::string(201, 'a');
  EXPECT_THAT(RejectionOf(c), Field(&FieldError::reason, HasSubstr("200 characters")));
  c = Valid("x");
  c.locale = "fr";
  EXPECT_EQ(RejectionOf(c).field, "language");
  c = Valid("x");
  c.accounts.push_back("SA00 1234");
  EXPECT_EQ(RejectionOf(c).field, "accounts[1]");
  c = Valid("x");
  c.email = "not an email";
  EXPECT_EQ(RejectionOf(c).field, "email");
  c = Valid(std::string(129, 'k'));
  EXPECT_EQ(RejectionOf(c).field, "external_id");
  c = Valid("x");
  c.preferences.unplanned_outages = {false, false};
  EXPECT_THAT(RejectionOf(c), Field(&FieldError::field, "preferences.unplanned_outages"));
  EXPECT_TRUE(store_.by_external_.empty());
}

TEST_F(DirectoryServiceTest, ABadRowDoesNotStopTheOthersAndDuplicatesAreRejected) {
  Customer bad = Valid("crm-2");
  bad.phone = "12";
  BatchOutcome out = Import({Valid("crm-1"), bad, Valid("crm-3"), Valid("crm-1")});
  EXPECT_EQ(out.inserted, 2);
  ASSERT_EQ(out.rejected.size(), 2u);
  EXPECT_EQ(out.rejected[0].index, 1);
  EXPECT_EQ(out.rejected[1].index, 3);
  EXPECT_EQ(out.rejected[1].error.field, "external_id");
  EXPECT_THAT(out.rejected[1].error.reason, HasSubstr("duplicate in this batch (first at index 0)"));
}

TEST_F(DirectoryServiceTest, ABatchOverTheLimitIsRefusedWhole) {
  auto session = service_.StartImport({});
  ASSERT_TRUE(session.ok());
  auto out = (*session)->Batch(std::vector<Customer>(ImportSession::kMaxBatch + 1, Valid("x")));
  EXPECT_EQ(out.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(DirectoryServiceTest, FullSyncErasesOnlyWhatTheStreamDidNotNameAndOnlyWhenFinished) {
  Import({Valid("keep"), Valid("rejected-now"), Valid("gone")});
  Customer bad = Valid("rejected-now");
  bad.time_zone = "nowhere";
  {
    auto session = service_.StartImport({.delete_missing = true});
    ASSERT_TRUE(session.ok());
    ASSERT_TRUE((*session)->Batch({Valid("keep"), bad}).ok());
  }  // not finished: nothing erased, the sync forgotten
  EXPECT_EQ(store_.by_external_.size(), 3u);
  EXPECT_EQ(store_.forgotten_, 1);

  auto dry = service_.StartImport({.dry_run = true, .delete_missing = true});
  ASSERT_TRUE((*dry)->Batch({Valid("keep"), bad}).ok());
  EXPECT_EQ((*dry)->Finish()->deleted, 1);
  EXPECT_EQ(store_.by_external_.size(), 3u);

  auto session = service_.StartImport({.delete_missing = true});
  ASSERT_TRUE((*session)->Batch({Valid("keep"), bad}).ok());
  auto totals = (*session)->Finish();
  ASSERT_TRUE(totals.ok());
  EXPECT_EQ(totals->deleted, 1);
  EXPECT_EQ(totals->rejected, 1);
  EXPECT_TRUE(store_.by_external_.contains("rejected-now"));
  EXPECT_FALSE(store_.by_external_.contains("gone"));
}

TEST_F(DirectoryServiceTest, AFullSyncOfNothingErasesNothing) {
  Import({Valid("keep")});
  auto session = service_.StartImport({.delete_missing = true});
  ASSERT_TRUE(session.ok());
  ASSERT_TRUE((*session)->Batch({}).ok());
  EXPECT_EQ((*session)->Finish().status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(store_.by_external_.contains("keep"));
}

TEST_F(DirectoryServiceTest, ABatchThatLostARaceIsWrittenAgain) {
  store_.races_to_lose_ = 2;
  EXPECT_EQ(Import({Valid("crm-1")}).inserted, 1);
  store_.races_to_lose_ = ImportSession::kMaxAttempts;
  auto session = service_.StartImport({});
  EXPECT_EQ((*session)->Batch({Valid("crm-2")}).status().code(), absl::StatusCode::kAborted);
}

TEST_F(DirectoryServiceTest, PolicyLetsMaintenanceBeSilencedButNotOutages) {
  Import({Valid("crm-1")});
  Preferences prefs;
  prefs.planned_maintenance = {false, false};
  EXPECT_TRUE(service_.SetPreferences("crm-1", prefs).ok());
  prefs.unplanned_outages = {false, false};
  auto refused = service_.SetPreferences("crm-1", prefs);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(refused.status().message(), HasSubstr("preferences.unplanned_outages: these notices cannot be turned off"));
  EXPECT_EQ(store_.by_external_.at("crm-1").preferences.unplanned_outages, (ChannelSet{true, true}));
}

TEST_F(DirectoryServiceTest, UnsubscribingTheLastChannelOfAnOutageIsRefused) {
  Import({Valid("crm-1")});
  const int64_t id = store_.by_external_.at("crm-1").id;
  EXPECT_TRUE(service_.SetChannel(id, NoticeCategory::kUnplannedOutages, Channel::kEmail, false).ok());
  EXPECT_EQ(service_.SetChannel(id, NoticeCategory::kUnplannedOutages, Channel::kSms, false).status().code(),
            absl::StatusCode::kFailedPrecondition);
  auto off = service_.SetChannel(id, NoticeCategory::kPlannedMaintenance, Channel::kEmail, false);
  ASSERT_TRUE(off.ok());
  EXPECT_EQ(off->preferences.planned_maintenance, (ChannelSet{true, false}));
}

TEST_F(DirectoryServiceTest, StopTurnsSmsOffWhereAllowedAndStartTurnsItBackOn) {
  Customer no_email = Valid("crm-2");
  no_email.email.clear();
  no_email.phone = "+966 50 999 0000";
  Import({Valid("crm-1"), no_email});
  auto stopped = service_.SetSmsByPhone("0501234567", false);
  ASSERT_TRUE(stopped.ok()) << stopped.status();
  ASSERT_EQ(stopped->size(), 1u);
  for (NoticeCategory c : kAllNoticeCategories) EXPECT_FALSE(stopped->front().preferences.For(c).sms);

  auto only_sms = service_.SetSmsByPhone("+966509990000", false);
  ASSERT_TRUE(only_sms.ok());
  const Preferences& p = only_sms->front().preferences;
  EXPECT_FALSE(p.planned_maintenance.sms);
  EXPECT_TRUE(p.unplanned_outages.sms);  // no email: an outage must still reach them
  EXPECT_TRUE(p.banking_changes.sms);

  auto started = service_.SetSmsByPhone("0501234567", true);
  ASSERT_TRUE(started.ok());
  for (NoticeCategory c : kAllNoticeCategories) EXPECT_TRUE(started->front().preferences.For(c).sms);
  EXPECT_EQ(service_.SetSmsByPhone("+966555555555", false).status().code(), absl::StatusCode::kNotFound);
}

TEST_F(DirectoryServiceTest, AnUnsubscribeSurvivesReImportsUntilTheCustomerTurnsItBackOn) {
  Import({Valid("crm-1")});
  const int64_t id = store_.by_external_.at("crm-1").id;
  ASSERT_TRUE(service_.SetChannel(id, NoticeCategory::kPlannedMaintenance, Channel::kEmail, false).ok());
  EXPECT_EQ(store_.sources_.back(), PreferenceSource::kCustomer);
  const ChannelSet sms_only{true, false};
  EXPECT_EQ(Import({Valid("crm-1")}).unchanged, 1);  // the CRM's routine re-import
  EXPECT_EQ(store_.by_external_.at("crm-1").preferences.planned_maintenance, sms_only);
  Customer renamed = Valid("crm-1");
  renamed.name = "Noura Alotaibi";
  EXPECT_EQ(Import({renamed}).updated, 1);
  EXPECT_EQ(store_.by_external_.at("crm-1").name, "Noura Alotaibi");
  EXPECT_EQ(store_.by_external_.at("crm-1").preferences.planned_maintenance, sms_only);

  auto on = service_.SetChannel(id, NoticeCategory::kPlannedMaintenance, Channel::kEmail, true);
  ASSERT_TRUE(on.ok()) << on.status();
  EXPECT_EQ(on->preferences.planned_maintenance, (ChannelSet{true, true}));
  renamed.name = "Noura A.";
  EXPECT_EQ(Import({renamed}).updated, 1);
  EXPECT_EQ(store_.by_external_.at("crm-1").preferences.planned_maintenance, (ChannelSet{true, true}));
}

TEST_F(DirectoryServiceTest, StopSurvivesReImportsAndStartLiftsIt) {
  Import({Valid("crm-1")});
  ASSERT_TRUE(service_.SetSmsByPhone("0501234567", false).ok());
  EXPECT_EQ(store_.sources_.back(), PreferenceSource::kCustomer);
  Customer moved = Valid("crm-1");
  moved.time_zone = "Asia/Dubai";
  EXPECT_EQ(Import({moved}).updated, 1);
  for (NoticeCategory c : kAllNoticeCategories) EXPECT_FALSE(store_.by_external_.at("crm-1").preferences.For(c).sms);
  ASSERT_TRUE(service_.SetSmsByPhone("0501234567", true).ok());
  EXPECT_EQ(Import({Valid("crm-1")}).updated, 1);
  for (NoticeCategory c : kAllNoticeCategories) EXPECT_TRUE(store_.by_external_.at("crm-1").preferences.For(c).sms);
}

TEST_F(DirectoryServiceTest, SetPreferencesReEnablesOnlyTheChannelsItTurnsOn) {
  Import({Valid("crm-1")});
  const int64_t id = store_.by_external_.at("crm-1").id;
  ASSERT_TRUE(service_.SetChannel(id, NoticeCategory::kPlannedMaintenance, Channel::kEmail, false).ok());
  ASSERT_TRUE(service_.SetChannel(id, NoticeCategory::kBankingChanges, Channel::kSms, false).ok());
  // An operator re-enables maintenance email; banking keeps the customer's choice.
  Preferences prefs = store_.by_external_.at("crm-1").preferences;
  prefs.planned_maintenance.email = true;
  auto set = service_.SetPreferences("crm-1", prefs);
  ASSERT_TRUE(set.ok()) << set.status();
  EXPECT_EQ(store_.sources_.back(), PreferenceSource::kDirectory);
  Customer renamed = Valid("crm-1");
  renamed.name = "Noura Alotaibi";
  EXPECT_EQ(Import({renamed}).updated, 1);
  const Preferences& now = store_.by_external_.at("crm-1").preferences;
  EXPECT_EQ(now.planned_maintenance, (ChannelSet{true, true}));
  EXPECT_EQ(now.banking_changes, (ChannelSet{false, true}));
}

}  // namespace
}  // namespace forewarn
