// Integration tests of uploaded audience lists (AudienceListService over
// PgAudienceLists, migration 0011) against the real server started by
// scripts/test.sh (FOREWARN_TEST_PG_URI; FOREWARN_TEST_PGBOUNCER_URI for the
// transaction-pooling case).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "services/core/audience_lists.h"
#include "services/pg/pg_audience_lists.h"
#include "services/pg/pg_customer_store.h"
#include "services/pg/pg_store.h"
#include "tests/integration/pg_fixture.h"

namespace forewarn {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;

// A valid Saudi IBAN (bank 80) for account number `n`: the ISO 7064
// mod 97-10 check digits computed here.
std::string MakeIban(int64_t n) {
  const std::string bban = absl::StrCat("80", std::string(18 - std::to_string(n).size(), '0'), n);
  const std::string digits = bban + "281000";  // "SA00": S = 28, A = 10
  int remainder = 0;
  for (char c : digits) remainder = (remainder * 10 + (c - '0')) % 97;
  const int check = 98 - remainder;
  return absl::StrCat("SA", check < 10 ? "0" : "", check, bban);
}

// Customers 1..n: external id "C-<id>".
std::string CustomersSql(int64_t n) {
  return absl::StrCat(
      "INSERT INTO customers (id, name, locale, time_zone, external_id) "
      "SELECT g, 'Customer ' || g, 'en', 'Asia/Riyadh', 'C-' || g FROM generate_series(1, ",
      n, ") g;");
}

// A reader over `chunks`, then the end; `error` instead of the end when set.
AudienceListService::ChunkReader Reader(std::vector<AudienceChunk> chunks,
                                        std::optional<absl::Status> error = std::nullopt) {
  auto i = std::make_shared<size_t>(0);
  return [chunks = std::move(chunks), i, error]() -> absl::StatusOr<std::optional<AudienceChunk>> {
    if (*i < chunks.size()) return chunks[(*i)++];
    if (error) return *error;
    return std::nullopt;
  };
}

AudienceChunk Ids(std::vector<int64_t> ids, std::string label = "") {
  AudienceChunk c;
  c.label = std::move(label);
  c.customer_ids = std::move(ids);
  return c;
}

class PgAudienceListsTest : public testing::PgTest {
 protected:
  void SetUp() override {
    SetUpDatabase(CustomersSql(10000) + absl::StrCat("INSERT INTO accounts VALUES ('", MakeIban(4), "', 4), ('",
                                                      MakeIban(5), "', 5);"));
    if (db_ == nullptr || HasFatalFailure()) return;
    store_ = std::make_unique<PgAudienceLists>(PgDatabase(db_->uri(), 2));
    service_ = std::make_unique<AudienceListService>(*store_);
  }

  std::set<int64_t> Members(const std::string& list) {
    std::set<int64_t> out;
    const std::string csv = db_->Exec(absl::StrCat(
        "SELECT coalesce(string_agg(customer_id::text, ',' ORDER BY customer_id), '') FROM audience_members "
        "WHERE audience_id = '", list, "'"));
    for (absl::string_view id : absl::StrSplit(csv, ',', absl::SkipEmpty())) out.insert(std::stoll(std::string(id)));
    return out;
  }
  std::string Count(const std::string& table) { return db_->Exec(absl::StrCat("SELECT count(*) FROM ", table)); }

  std::unique_ptr<PgAudienceLists> store_;
  std::unique_ptr<AudienceListService> service_;
};

TEST_F(PgAudienceListsTest, MatchesIdsExternalIdsAndIbans) {
  AudienceChunk c = Ids({1, 2, 999999}, "Feeder F-12");
  c.external_ids = {"C-3", "crm-unknown"};
  const std::string held = MakeIban(4), unheld = MakeIban(77);
  c.ibans = {absl::StrCat(held.substr(0, 4), " ", held.substr(4)), unheld, "SA03 1234"};
  auto r = service_->Upload("ops.alice", Reader({c}));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->entries, 8);
  EXPECT_EQ(r->customers, 4);
  EXPECT_EQ(r->unknown, 4);
  EXPECT_THAT(r->unknown_sample, ElementsAre("iban:********", "id:999999", "external:crm-unknown",
                                             absl::StrCat("iban:SA", unheld.substr(2, 2), " **** ", unheld.substr(20))));
  EXPECT_EQ(Members(r->id), (std::set<int64_t>{1, 2, 3, 4}));
  EXPECT_EQ(db_->Exec(absl::StrCat("SELECT concat_ws('|', label, created_by, entries, customers, unknown) FROM "
                                   "audiences WHERE id = '", r->id, "'")),
            "Feeder F-12|ops.alice|8|4|4");
}

TEST_F(PgAudienceListsTest, TenThousandEntriesWith37UnknownReportedWithASample) {
  // 9,963 known customers (1..5000 by id, 5001..9963 by external id) and 37
  // unknown entries (20 ids, 17 external ids), over ten chunks.
  std::vector<AudienceChunk> chunks(10);
  for (int64_t id = 1; id <= 9963; ++id) {
    auto& c = chunks[(id - 1) % 10];
    if (id <= 5000) {
      c.customer_ids.push_back(id);
    } else {
      c.external_ids.push_back(absl::StrCat("C-", id));
    }
  }
  std::set<std::string> unknown;
  for (int k = 0; k < 37; ++k) {
    auto& c = chunks[k % 10];
    if (k < 20) {
      c.customer_ids.push_back(20000 + k);
      unknown.insert(absl::StrCat("id:", 20000 + k));
    } else {
      c.external_ids.push_back(absl::StrCat("X-", k));
      unknown.insert(absl::StrCat("external:X-", k));
    }
  }
  chunks[0].label = "outage list";
  auto r = service_->Upload("submitter", Reader(chunks));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->entries, 10000);
  EXPECT_EQ(r->customers, 9963);
  EXPECT_EQ(r->unknown, 37);
  ASSERT_EQ(r->unknown_sample.size(), 20u);
  for (const auto& s : r->unknown_sample) EXPECT_TRUE(unknown.contains(s)) << s;
  EXPECT_EQ(Members(r->id).size(), 9963u);
  EXPECT_EQ(db_->Exec(absl::StrCat("SELECT max(customer_id) FROM audience_members WHERE audience_id = '", r->id, "'")),
            "9963");
}

TEST_F(PgAudienceListsTest, DuplicatesCountOnce) {
  AudienceChunk first = Ids({1, 1, 2});
  AudienceChunk second = Ids({2});
  second.external_ids = {"C-1", "C-5"};
  second.ibans = {MakeIban(5)};
  auto r = service_->Upload("a", Reader({first, second}));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->entries, 7);
  EXPECT_EQ(r->customers, 3);
  EXPECT_EQ(r->unknown, 0);
  EXPECT_TRUE(r->unknown_sample.empty());
  EXPECT_EQ(Members(r->id), (std::set<int64_t>{1, 2, 5}));
  // Another list of the same customers is a list of its own.
  auto again = service_->Upload("a", Reader({Ids({1, 2})}));
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_NE(again->id, r->id);
  EXPECT_EQ(again->customers, 2);
}

TEST_F(PgAudienceListsTest, AFailedStreamStoresNothing) {
  auto cancelled = service_->Upload("a", Reader({Ids({1, 2}), Ids({3})}, absl::CancelledError("caller cancelled")));
  EXPECT_EQ(cancelled.status().code(), absl::StatusCode::kCancelled);
  auto invalid = service_->Upload("a", Reader({Ids({1, 2}), Ids({3, -1})}));
  EXPECT_EQ(invalid.status().message(), "chunks[1].customer_ids[1]: must be positive");
  auto empty = service_->Upload("a", Reader({}));
  EXPECT_EQ(empty.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Count("audiences"), "0");
  EXPECT_EQ(Count("audience_members"), "0");
}

TEST_F(PgAudienceListsTest, ACallerSilentPastTheIdleTimeoutStoresNothing) {
  PgAudienceLists store(PgDatabase(db_->uri(), 1), PgAudienceLists::Options{1, /*idle_timeout_seconds=*/1});
  AudienceListService service(store);
  int calls = 0;
  auto slow = [&]() -> absl::StatusOr<std::optional<AudienceChunk>> {
    if (++calls == 2) std::this_thread::sleep_for(std::chrono::milliseconds(2500));
    if (calls <= 2) return Ids({static_cast<int64_t>(calls)});
    return std::nullopt;
  };
  auto r = service.Upload("a", slow);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable) << r.status();
  EXPECT_EQ(Count("audiences"), "0");
  // The pool replaced the connection the server closed.
  auto next = service.Upload("a", Reader({Ids({1})}));
  EXPECT_TRUE(next.ok()) << next.status();
}

TEST_F(PgAudienceListsTest, UploadsBeyondTheLimitAreRefusedWhileOthersRun) {
  PgAudienceLists store(PgDatabase(db_->uri(), 2), PgAudienceLists::Options{1, 60});
  AudienceListService service(store);
  absl::Status second;
  bool asked = false;
  auto reader = [&]() -> absl::StatusOr<std::optional<AudienceChunk>> {
    if (asked) return std::nullopt;
    asked = true;
    second = service.Upload("b", Reader({Ids({2})})).status();
    return Ids({1});
  };
  auto first = service.Upload("a", reader);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(second.code(), absl::StatusCode::kResourceExhausted) << second;
  EXPECT_TRUE(service.Upload("b", Reader({Ids({2})})).ok());  // once the first is done
}

TEST_F(PgAudienceListsTest, ErasingACustomerRemovesItFromLists) {
  auto r = service_->Upload("a", Reader({Ids({1, 2, 3})}));
  ASSERT_TRUE(r.ok()) << r.status();
  PgCustomerStore customers(PgDatabase(db_->uri(), 1));
  ASSERT_TRUE(customers.Erase("C-2").ok());
  EXPECT_EQ(Members(r->id), (std::set<int64_t>{1, 3}));
}

TEST_F(PgAudienceListsTest, ThroughATransactionPooler) {
  const std::string pooled = db_->pooled_uri();
  if (pooled.empty()) GTEST_SKIP() << "FOREWARN_TEST_PGBOUNCER_URI not set";
  PgAudienceLists store(PgDatabase(PgEndpoint(pooled, PgPooling::kTransaction), 2));
  AudienceListService service(store);
  AudienceChunk c = Ids({1, 2, 424242});
  c.ibans = {MakeIban(5)};
  auto r = service.Upload("a", Reader({c, Ids({3})}));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->customers, 4);
  EXPECT_EQ(r->unknown, 1);
  EXPECT_THAT(r->unknown_sample, Contains("id:424242"));
  EXPECT_EQ(Members(r->id), (std::set<int64_t>{1, 2, 3, 5}));
}

// A million ids in chunks of 10,000 (the CLI's), against a million
// customers: the time is logged, not asserted.
TEST_F(PgAudienceListsTest, AMillionIds) {
  db_->Exec(absl::StrCat("INSERT INTO customers (id, name, locale, time_zone) SELECT g, 'n', 'en', 'Asia/Riyadh' "
                         "FROM generate_series(10001, 1000000) g; ANALYZE customers;"));
  int64_t next_id = 1;
  auto reader = [&]() -> absl::StatusOr<std::optional<AudienceChunk>> {
    if (next_id > 1000000) return std::nullopt;
    AudienceChunk c;
    for (int k = 0; k < 10000; ++k) c.customer_ids.push_back(next_id++);
    return c;
  };
  const auto started = std::chrono::steady_clock::now();
  auto r = service_->Upload("bench", reader);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->customers, 1000000);
  EXPECT_EQ(r->unknown, 0);
  std::printf("[ measure  ] UploadAudience 1,000,000 ids in chunks of 10,000: %.1f s (%.0f entries/s)\n", seconds,
              1e6 / seconds);
}

}  // namespace
}  // namespace forewarn
