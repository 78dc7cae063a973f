// The PostgreSQL adapters behind a connection pooler: pgbouncer in
// transaction pooling mode (FOREWARN_TEST_PGBOUNCER_URI, started by
// scripts/test.sh), where no session state survives a transaction; the
// pooling-mode detection; and the relay's leadership lease.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <set>
#include <thread>

#include "absl/strings/str_cat.h"
#include "services/core/notice_policy.h"
#include "services/core/outbox_relay.h"
#include "services/core/scheduled_releases.h"
#include "services/pg/migrations.h"
#include "services/pg/pg_lease.h"
#include "services/pg/pg_pool.h"
#include "services/pg/pg_store.h"
#include "services/runtime/pg_flags.h"
#include "tests/integration/pg_fixture.h"
#include "tests/support/new_incidents.h"

namespace forewarn {
namespace {

const absl::Time kNow = absl::FromUnixSeconds(1'790'000'000);

// A monotonic clock the test moves by hand.
struct ManualMonotonic {
  std::atomic<int64_t> offset_ms{0};
  std::chrono::steady_clock::time_point origin = std::chrono::steady_clock::now();
  std::function<std::chrono::steady_clock::time_point()> Fn() {
    return [this] { return origin + std::chrono::milliseconds(offset_ms.load()); };
  }
  void Advance(absl::Duration d) { offset_ms += absl::ToInt64Milliseconds(d); }
};

// Publishes into memory; thread-safe.
class RecordingPublisher final : public EventPublisher {
 public:
  absl::Status Publish(const std::vector<IncidentEvent>& events) override {
    std::lock_guard lock(mu_);
    for (const auto& e : events) ids_.push_back(e.outbox_id);
    return absl::OkStatus();
  }
  std::vector<int64_t> ids() {
    std::lock_guard lock(mu_);
    return ids_;
  }

 private:
  std::mutex mu_;
  std::vector<int64_t> ids_;
};

void Seed(const testing::ScratchDatabase& db) {
  db.Exec(
      "INSERT INTO services VALUES ('electricity','Electricity','الكهرباء');"
      "INSERT INTO regions VALUES ('riyadh','Riyadh','الرياض');"
      "INSERT INTO customers (id, name, locale, time_zone, phone, email, channels_unplanned, "
      "  channels_maintenance, channels_banking) VALUES "
      " (1,'A','ar','Asia/Riyadh','+966500000001','a@example.com',3,3,3),"
      " (2,'B','en','Europe/London','+966500000002','b@example.com',2,2,2),"
      " (3,'C','en','Asia/Riyadh',NULL,'c@example.com',3,3,3);"
      "INSERT INTO customer_services VALUES ('electricity','riyadh',1),('electricity','riyadh',2),"
      " ('electricity','riyadh',3);");
}

NewIncident Outage(std::string key, absl::Duration starts_in = absl::ZeroDuration()) {
  NewIncident r = testing::OutageIncident(std::move(key), "electricity", "riyadh", {"عطل", "Substation fault"},
                                          kNow + starts_in + absl::Hours(3));
  r.starts_at = kNow + starts_in;
  return r;
}

// --- Which pooling mode -----------------------------------------------------

TEST(PgPoolingTest, AutoDetectsTransactionPoolingBehindPgbouncer) {
  if (testing::TestPgbouncerUri().empty()) GTEST_SKIP() << "FOREWARN_TEST_PGBOUNCER_URI not set";
  std::atomic<bool> stop{false};
  auto db = ResolvePgEndpoint(PgFlags{testing::TestPgbouncerUri(), "auto"}, stop);
  ASSERT_TRUE(db.ok()) << db.status();
  EXPECT_EQ(db->pooling, PgPooling::kTransaction);
  EXPECT_EQ(db->uri, testing::TestPgbouncerUri());
  auto probe = DetectPgPooling(testing::TestPgbouncerUri());
  ASSERT_TRUE(probe.ok()) << probe.status();
  EXPECT_NE(probe->evidence.find("server backend"), std::string::npos) << probe->evidence;
}

TEST(PgPoolingTest, AutoDetectsSessionOnADirectConnection) {
  if (testing::TestPgUri().empty()) GTEST_SKIP() << "FOREWARN_TEST_PG_URI not set";
  std::atomic<bool> stop{false};
  auto db = ResolvePgEndpoint(PgFlags{testing::TestPgUri(), "auto"}, stop);
  ASSERT_TRUE(db.ok()) << db.status();
  EXPECT_EQ(db->pooling, PgPooling::kSession);
}

TEST(PgPoolingTest, AnExplicitModeIsTakenWithoutConnecting) {
  std::atomic<bool> stop{false};
  const std::string nowhere = "postgresql://nobody@127.0.0.1:1/none";
  auto db = ResolvePgEndpoint(PgFlags{nowhere, "transaction"}, stop);
  ASSERT_TRUE(db.ok()) << db.status();
  EXPECT_EQ(db->pooling, PgPooling::kTransaction);
  EXPECT_EQ(ResolvePgEndpoint(PgFlags{nowhere, "session"}, stop)->pooling, PgPooling::kSession);
  auto bad = ParsePgPooling("statement");
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("--pg-pooling"), std::string::npos);
}

TEST(PgPoolingTest, AutoGivesUpOnAnUnreachableDatabaseWhenStopping) {
  std::atomic<bool> stop{true};
  auto db = ResolvePgEndpoint(PgFlags{"postgresql://nobody@127.0.0.1:1/none", "auto"}, stop);
  EXPECT_EQ(db.status().code(), absl::StatusCode::kUnavailable) << db.status();
}

// --- Everything through pgbouncer in transaction mode -------------------------

class PgBouncerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (testing::TestPgUri().empty() || testing::TestPgbouncerUri().empty()) {
      GTEST_SKIP() << "FOREWARN_TEST_PG_URI / FOREWARN_TEST_PGBOUNCER_URI not set";
    }
    db_ = std::make_unique<testing::ScratchDatabase>();
    pooled_ = PgEndpoint(db_->pooled_uri(), PgPooling::kTransaction);
    ASSERT_TRUE(ApplyMigrations(pooled_.uri).ok());
    Seed(*db_);
    store_ = std::make_unique<PgIncidentStore>(PgDatabase(pooled_, 4));
  }

  absl::StatusOr<Incident> Create(const NewIncident& r) {
    return store_->Create(r, kNow, [&](const Incident& i) { return PlanNotices(Change::kCreated, i, kNow, {}); });
  }
  int64_t Unpublished() { return std::stoll(db_->Exec("SELECT count(*) FROM outbox WHERE published_at IS NULL")); }

  std::unique_ptr<testing::ScratchDatabase> db_;
  PgEndpoint pooled_{""};
  std::unique_ptr<PgIncidentStore> store_;
};

TEST_F(PgBouncerTest, PoolRunsItsNamedStatementsUnnamedFromManyClients) {
  const pg::PgPool::Prepared statements{{"plus_one", "SELECT $1::int + 1"},
                                        {"customers", "SELECT id FROM customers WHERE id = ANY($1::bigint[])"}};
  // Three "services", each with its own pool, sharing pgbouncer's servers.
  std::vector<std::unique_ptr<pg::PgPool>> pools;
  for (int k = 0; k < 3; ++k) pools.push_back(std::make_unique<pg::PgPool>(pooled_, 2, statements));
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 6; ++t) {
    threads.emplace_back([&, t] {
      for (int n = 0; n < 100; ++n) {
        auto s = pools[t % 3]->Run([&](pqxx::connection& c) -> absl::Status {
          pqxx::work tx(c);
          if (pools[t % 3]->Exec1(tx, "plus_one", n)[0].as<int>() != n + 1) return absl::InternalError("sum");
          if (pools[t % 3]->Exec(tx, "customers", "{1,3,9}").size() != 2) return absl::InternalError("rows");
          tx.commit();
          return absl::OkStatus();
        });
        if (s.ok()) ++ok;
        else ADD_FAILURE() << s;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 600);
}

TEST_F(PgBouncerTest, SessionModeNamedStatementsBreakBehindPgbouncer) {
  // Why transaction mode exists: pools that prepare per connection collide
  // on pgbouncer's shared server connections (42P05 "already exists", or
  // 26000 "does not exist" on another server).
  const pg::PgPool::Prepared statements{{"plus_one", "SELECT $1::int + 1"}};
  pg::PgPool a(PgEndpoint(pooled_.uri, PgPooling::kSession), 1, statements);
  pg::PgPool b(PgEndpoint(pooled_.uri, PgPooling::kSession), 1, statements);
  int failures = 0;
  for (int n = 0; n < 10; ++n) {
    for (pg::PgPool* pool : {&a, &b}) {
      auto s = pool->Run([&](pqxx::connection& c) -> absl::Status {
        pqxx::work tx(c);
        pool->Exec1(tx, "plus_one", n);
        tx.commit();
        return absl::OkStatus();
      });
      failures += !s.ok();
    }
  }
  EXPECT_GT(failures, 0);
}

TEST_F(PgBouncerTest, MigrationsApplyOnceFromConcurrentStarters) {
  testing::ScratchDatabase fresh;
  std::vector<std::thread> starters;
  std::atomic<int> ok{0};
  for (int k = 0; k < 3; ++k) {
    starters.emplace_back([&] { ok += ApplyMigrations(fresh.pooled_uri()).ok(); });
  }
  for (auto& t : starters) t.join();
  EXPECT_EQ(ok.load(), 3);
  EXPECT_EQ(fresh.Exec("SELECT count(*) FROM schema_migrations"), std::to_string(pg::Migrations().size()));
}

TEST_F(PgBouncerTest, StoreKeepsItsContracts) {
  auto i = Create(Outage("key-1"));
  ASSERT_TRUE(i.ok()) << i.status();
  auto retry = Create(Outage("key-1"));
  ASSERT_TRUE(retry.ok()) << retry.status();
  EXPECT_EQ(retry->id, i->id);
  EXPECT_EQ(db_->Exec("SELECT count(*) FROM outbox"), "1");

  IncidentUpdate u;
  u.id = i->id;
  u.expected_restoration_at = kNow + absl::Hours(6);
  NoticePlan plan;
  plan.notices = {{NoticeKind::kOutageUpdated, "", std::nullopt}};
  ASSERT_EQ(store_->Update(u, kNow, plan)->version, 2);
  u.expected_version = 1;  // stale
  EXPECT_EQ(store_->Update(u, kNow, plan).status().code(), absl::StatusCode::kAborted);
  EXPECT_EQ(store_->History(i->id)->size(), 2u);
  EXPECT_EQ(store_->GetVersion(i->id, 1)->expected_restoration_at, kNow + absl::Hours(3));
  EXPECT_EQ(store_->List(ListFilter{})->incidents.size(), 1u);
  auto c = store_->CheckCompleteness(i->id, 10, kNow);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->audience, 4);  // 1 by SMS and email, 2 and 3 by email
  EXPECT_EQ(store_->UnpublishedOutboxCount().value_or(-1), 2);
}

TEST_F(PgBouncerTest, AudienceStreamsThroughItsCursorInOneTransaction) {
  auto i = Create(Outage("key-1"));
  ASSERT_TRUE(i.ok()) << i.status();
  PgAudienceSource audience(pooled_, /*fetch_size=*/1);  // a FETCH per row
  std::set<std::pair<int64_t, Channel>> got;
  auto s = audience.ForEachRecipient(*i, [&](const Recipient& r) {
    got.insert({r.customer_id, r.channel});
    return absl::OkStatus();
  });
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_EQ(got, (std::set<std::pair<int64_t, Channel>>{
                     {1, Channel::kSms}, {1, Channel::kEmail}, {2, Channel::kEmail}, {3, Channel::kEmail}}));
}

TEST_F(PgBouncerTest, TwoSchedulersReleaseEachNoticeOnce) {
  for (int k = 0; k < 10; ++k) {
    NewIncident m = Outage(absl::StrCat("m-", k), absl::Hours(72));
    m.kind = IncidentKind::kPlannedMaintenance;
    ASSERT_TRUE(Create(m).ok());
  }
  // two reminders, start and completion each
  EXPECT_EQ(testing::ReleaseDueFromTwo(pooled_, kNow + absl::Hours(100), 10, 3), 40);
  EXPECT_EQ(db_->Exec("SELECT count(*) FROM (SELECT incident_id, notice_kind, occasion FROM outbox "
                      "WHERE notice_kind <> 'maintenance_scheduled' GROUP BY 1, 2, 3 HAVING count(*) > 1) d"),
            "0");
}

// The ledger's hot statements run unnamed behind the pooler; its claims,
// fences, renewals and records hold across pooled server connections.
TEST_F(PgBouncerTest, LedgerClaimsFencesAndRecordsFromTwoWorkers) {
  auto i = Create(Outage("key-1"));
  ASSERT_TRUE(i.ok()) << i.status();
  // Two workers, each with its own pool, sharing pgbouncer's servers; a
  // lease short enough that every Fence renews it in the database.
  PgNoticeLedger first(pooled_, {"first", absl::Milliseconds(300)}), second(pooled_, {"second", absl::Seconds(60)});
  for (int round = 0; round < 5; ++round) {
    std::vector<NoticeLedger::ClaimRequest> keys;
    std::vector<NoticeLedger::Outcome> outcomes;
    for (int64_t customer = 1; customer <= 3; ++customer) {
      NoticeKey key{i->id, 1, NoticeKind::kOutageStarted, absl::StrCat("r", round), customer, Channel::kEmail};
      keys.push_back(key);
      outcomes.push_back({key, NoticeState::kSent, "", ""});
    }
    PgNoticeLedger& ledger = round % 2 ? second : first;
    PgNoticeLedger& other = round % 2 ? first : second;
    auto claimed = ledger.Claim(keys, kNow);
    ASSERT_TRUE(claimed.ok()) << claimed.status();
    for (const auto& c : *claimed) EXPECT_TRUE(c.send);
    auto busy = other.Claim(keys, kNow);
    ASSERT_TRUE(busy.ok()) << busy.status();
    for (const auto& c : *busy) EXPECT_TRUE(c.busy && !c.send);
    absl::SleepFor(absl::Milliseconds(120));  // past a third of the short lease
    for (const auto& k : keys) EXPECT_EQ(ledger.Fence(k.key).value_or(false), true);
    ASSERT_TRUE(ledger.Record(outcomes, kNow).ok());
    auto again = other.Claim(keys, kNow);
    ASSERT_TRUE(again.ok()) << again.status();
    for (const auto& c : *again) EXPECT_FALSE(c.send || c.busy);
  }
  EXPECT_EQ(db_->Exec("SELECT count(*) FROM notice_ledger WHERE state = 'sent'"), "15");
  EXPECT_EQ(db_->Exec("SELECT count(*) FROM notice_inflight"), "0");
}

// --- Relay leadership: a lease, whatever the pooler ---------------------------

TEST_F(PgBouncerTest, TwoRelaysHaveExactlyOneLeader) {
  PgOutboxOptions options;
  options.poll_interval = absl::Milliseconds(20);
  PgOutboxSource source_a(pooled_, options), source_b(pooled_, options);
  RecordingPublisher publisher_a, publisher_b;
  OutboxRelay::Options relay_options;
  relay_options.batch_size = 7;
  relay_options.idle_wait = absl::Milliseconds(50);
  OutboxRelay relay_a(source_a, publisher_a, relay_options), relay_b(source_b, publisher_b, relay_options);
  std::atomic<bool> stop{false};
  std::thread ta([&] { relay_a.Run(stop); }), tb([&] { relay_b.Run(stop); });
  for (int k = 0; k < 30; ++k) {
    ASSERT_TRUE(Create(Outage(absl::StrCat("key-", k))).ok());
    if (k % 10 == 0) absl::SleepFor(absl::Milliseconds(100));  // both relays poll meanwhile
  }
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  while (Unpublished() > 0 && absl::Now() < deadline) absl::SleepFor(absl::Milliseconds(50));
  absl::SleepFor(absl::Milliseconds(300));  // a second leader would have published by now
  stop = true;
  ta.join();
  tb.join();

  EXPECT_EQ(Unpublished(), 0);
  const auto a = publisher_a.ids(), b = publisher_b.ids();
  EXPECT_TRUE(a.empty() != b.empty()) << "relay a published " << a.size() << ", relay b " << b.size();
  const auto& leader = a.empty() ? b : a;
  EXPECT_EQ(leader.size(), 30u);
  EXPECT_TRUE(std::is_sorted(leader.begin(), leader.end()));  // commit order
  EXPECT_EQ(std::set<int64_t>(leader.begin(), leader.end()).size(), leader.size());
}

TEST_F(PgBouncerTest, AStalledLeaderIsReplacedAfterItsLeaseAndThenStandsDown) {
  ASSERT_TRUE(Create(Outage("key-1")).ok());
  PgOutboxOptions options;
  options.lease = absl::Seconds(1);
  PgOutboxSource a(pooled_, options), b(pooled_, options);
  auto first = a.FetchUnpublished(10);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->size(), 1u);
  EXPECT_TRUE(b.FetchUnpublished(10)->empty());  // a holds the lease
  absl::SleepFor(absl::Milliseconds(1200));        // a stalls past its lease
  auto taken = b.FetchUnpublished(10);
  ASSERT_TRUE(taken.ok()) << taken.status();
  EXPECT_EQ(taken->size(), 1u);
  auto resumed = a.FetchUnpublished(10);  // its renewal is refused
  ASSERT_TRUE(resumed.ok()) << resumed.status();
  EXPECT_TRUE(resumed->empty());
}

TEST_F(PgBouncerTest, AStoppedLeaderHandsOverAtOnce) {
  ASSERT_TRUE(Create(Outage("key-1")).ok());
  PgOutboxSource b(pooled_);
  {
    PgOutboxSource a(pooled_);
    EXPECT_EQ(a.FetchUnpublished(10)->size(), 1u);
    EXPECT_TRUE(b.FetchUnpublished(10)->empty());
  }  // a stops cleanly: the lease is released, not left to expire (10 s)
  EXPECT_EQ(b.FetchUnpublished(10)->size(), 1u);
}

class PgLeaseTest : public testing::PgTest {
 protected:
  void SetUp() override {
    SetUpDatabase();
    if (db_ != nullptr && !HasFatalFailure()) conn_ = std::make_unique<pqxx::connection>(db_->uri());
  }
  std::string Expiry() { return db_->Exec("SELECT expires_at::text FROM leases WHERE name = 'test'"); }

  std::unique_ptr<pqxx::connection> conn_;
  ManualMonotonic clock_;
};

TEST_F(PgLeaseTest, RenewsOnlyOnceAThirdOfTheLeaseHasPassed) {
  pg::PgLease lease({"test", "me", absl::Seconds(9), clock_.Fn()});
  ASSERT_TRUE(lease.Hold(*conn_));
  const std::string first = Expiry();
  EXPECT_EQ(lease.UntilRenewal(), absl::Seconds(3));
  clock_.Advance(absl::Milliseconds(2900));
  ASSERT_TRUE(lease.Hold(*conn_));
  EXPECT_EQ(Expiry(), first);  // answered locally
  clock_.Advance(absl::Milliseconds(200));
  ASSERT_TRUE(lease.Hold(*conn_));
  EXPECT_NE(Expiry(), first);  // renewed
  EXPECT_EQ(db_->Exec("SELECT holder FROM leases"), "me");
}

TEST_F(PgLeaseTest, AnAnswerArrivingAfterTheLeaseLengthIsNotActedOn) {
  // Every reading of this clock is 11 s after the previous one: the grant
  // comes back after the 10 s the request was good for.
  auto now = std::make_shared<std::atomic<int64_t>>(0);
  pg::PgLease slow({"test", "slow", absl::Seconds(10), [now] {
                      return std::chrono::steady_clock::time_point(std::chrono::seconds(*now += 11));
                    }});
  EXPECT_FALSE(slow.Hold(*conn_));
  EXPECT_EQ(slow.UntilRenewal(), absl::ZeroDuration());
}

TEST_F(PgLeaseTest, AnotherHolderWaitsForExpiryOrRelease) {
  pg::PgLease a({"test", "a", absl::Seconds(10), clock_.Fn()});
  pg::PgLease b({"test", "b", absl::Milliseconds(600), {}});
  pqxx::connection other(db_->uri());
  ASSERT_TRUE(a.Hold(*conn_));
  EXPECT_FALSE(b.Hold(other));
  a.Release(*conn_);
  EXPECT_TRUE(b.Hold(other));  // at once, not after 10 s
  EXPECT_FALSE(a.Hold(*conn_));
  absl::SleepFor(absl::Milliseconds(700));  // b's lease lapses without renewal
  EXPECT_TRUE(a.Hold(*conn_));
  EXPECT_FALSE(b.Hold(other));  // b's renewal is refused
}

TEST_F(PgLeaseTest, ALeaderWhoseRenewalFailsStopsRelaying) {
  // Session mode, direct: the relay's connection is cut when its renewal is due.
  Seed(*db_);
  auto i = PgIncidentStore(PgDatabase(db_->uri(), 1)).Create(
      Outage("key-1"), kNow, [](const Incident& inc) { return PlanNotices(Change::kCreated, inc, kNow, {}); });
  ASSERT_TRUE(i.ok()) << i.status();
  PgOutboxOptions options;
  options.monotonic = clock_.Fn();
  PgOutboxSource relay(db_->uri(), options);
  EXPECT_EQ(relay.FetchUnpublished(10)->size(), 1u);
  db_->Exec("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()");
  clock_.Advance(absl::Seconds(4));  // renewal due
  auto cut = relay.FetchUnpublished(10);
  EXPECT_FALSE(cut.ok());  // nothing relayed on a failed renewal
  EXPECT_EQ(cut.status().code(), absl::StatusCode::kUnavailable) << cut.status();
  auto back = relay.FetchUnpublished(10);  // reconnects, renews its own lease
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->size(), 1u);
}

}  // namespace
}  // namespace forewarn
