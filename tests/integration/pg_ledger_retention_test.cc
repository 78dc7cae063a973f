// Ledger retention against the real PostgreSQL (migration 14,
// services/pg/pg_ledger_partitions.h): the migration of a populated version-13
// database, months dropped while a fan-out writes, one partition probed per
// key.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "pqxx/pqxx"
#include "services/core/incident_service.h"
#include "services/core/ledger_retention.h"
#include "services/core/notice_proof.h"
#include "services/pg/pg_ledger_partitions.h"
#include "services/pg/pg_proof_source.h"
#include "services/pg/pg_store.h"
#include "tests/integration/pg_fixture.h"
#include "tests/support/new_incidents.h"

namespace forewarn {
namespace {

constexpr char kSeed[] =
    "INSERT INTO services VALUES ('electricity','Electricity','الكهرباء');"
    "INSERT INTO regions VALUES ('riyadh','Riyadh','الرياض');"
    "INSERT INTO customers (id, name, locale, time_zone, phone, email) "
    "SELECT g, 'C' || g, 'en', 'Asia/Riyadh', '+9665' || lpad(g::text, 8, '0'), NULL FROM generate_series(1, 50) g;"
    "INSERT INTO customer_services SELECT 'electricity', 'riyadh', g FROM generate_series(1, 50) g;";

NoticeKey Key(const std::string& incident, int64_t customer, Channel channel = Channel::kSms) {
  return {incident, 1, NoticeKind::kOutageStarted, "", customer, channel};
}

// Claims and records `keys` as sent through `ledger`; how many it was told
// to send.
int ClaimAndRecord(PgNoticeLedger& ledger, const std::vector<NoticeKey>& keys, absl::Time now,
                   NoticeState state = NoticeState::kSent) {
  std::vector<NoticeLedger::ClaimRequest> requests(keys.begin(), keys.end());
  auto claimed = ledger.Claim(requests, now);
  EXPECT_TRUE(claimed.ok()) << claimed.status();
  if (!claimed.ok()) return 0;
  std::vector<NoticeLedger::Outcome> outcomes;
  for (size_t i = 0; i < keys.size(); ++i) {
    if ((*claimed)[i].send) outcomes.push_back({keys[i], state, "", state == NoticeState::kDead ? "gone" : "", 1});
  }
  if (!outcomes.empty()) {
    EXPECT_TRUE(ledger.Record(outcomes, now).ok());
  }
  return static_cast<int>(outcomes.size());
}

class PgLedgerRetentionTest : public testing::PgTest {
 protected:
  // An incident row created at `at` with a v7 id of that time; closed a day
  // later unless `open`.
  std::string OldIncident(absl::Time at, bool open, const std::string& key) {
    const std::string ts = absl::StrCat("to_timestamp(", absl::ToUnixSeconds(at), ")");
    return db_->Exec(absl::StrCat(
        "INSERT INTO incidents (id, version, kind, state, services, regions, reason_ar, reason_en, starts_at, "
        "expected_restoration_at, resolved_at, idempotency_key, request_hash, created_at, updated_at) VALUES "
        "(forewarn_uuidv7(", ts, "), 1, 'unplanned_outage', '", open ? "open" : "resolved",
        "', '{electricity}', '{riyadh}', 'r', 'r', ", ts, ", ", ts, ", ", open ? "NULL" : ts, ", '", key,
        "', 'h', ", ts, ", ", ts, " + interval '1 day') RETURNING id::text"));
  }
  std::string PartitionOf(const std::string& incident) {
    return db_->Exec(absl::StrCat("SELECT DISTINCT tableoid::regclass::text FROM notice_ledger WHERE incident_id = '",
                                  incident, "'"));
  }
  bool TableExists(const std::string& name) {
    return db_->Exec(absl::StrCat("SELECT to_regclass('", name, "') IS NOT NULL")) == "t";
  }
  absl::StatusOr<Incident> CreateIncident(const std::string& key, absl::Time now) {
    return store_->Create(
        testing::OutageIncident(key, "electricity", "riyadh", {"عطل", "outage"}, now + absl::Hours(2)), now,
        [&](const Incident& i) { return PlanNotices(Change::kCreated, i, now, {}); });
  }
};

// Partition names as the adapter makes them.
std::string MonthName(const char* table, absl::Time t) {
  return absl::StrCat(table, absl::FormatTime("_y%Ym%m", MonthStart(t), absl::UTCTimeZone()));
}

TEST_F(PgLedgerRetentionTest, NewIncidentsGetV7IdsAndTheirRowsTheirMonthsPartition) {
  SetUpStore(kSeed);
  const absl::Time now = absl::Now();
  auto incident = CreateIncident("k-new", now);
  ASSERT_TRUE(incident.ok()) << incident.status();
  ASSERT_EQ(incident->id.size(), 36u);
  EXPECT_EQ(incident->id[14], '7') << incident->id;
  // The id's time is the database's clock at the insert.
  const int64_t ms = std::stoll(db_->Exec(absl::StrCat("SELECT forewarn_incident_epoch('", incident->id, "')")));
  EXPECT_LT(std::abs(ms - absl::ToUnixMillis(now)), 60'000);
  PgNoticeLedger ledger(db_->uri());
  EXPECT_EQ(ClaimAndRecord(ledger, {Key(incident->id, 1), Key(incident->id, 2, Channel::kEmail)}, now), 2);
  EXPECT_EQ(PartitionOf(incident->id), MonthName("notice_ledger", absl::FromUnixMillis(ms)));
  // The service's epoch (C++) is the SQL function's, for every row.
  EXPECT_EQ(db_->Exec("SELECT count(*) FROM notice_ledger WHERE incident_epoch <> forewarn_incident_epoch(incident_id)"),
            "0");
  // forewarn_uuidv7 of a given time, and legacy (v4) ids.
  EXPECT_EQ(db_->Exec("SELECT forewarn_incident_epoch(forewarn_uuidv7('2025-09-01 12:00:00.123+00'))"),
            "1756728000123");
  EXPECT_EQ(db_->Exec("SELECT forewarn_incident_epoch(gen_random_uuid())"), "0");
}

// Version 13's report query, before migration 14.
std::string V13Report(const std::string& incident) {
  return absl::StrCat(
      "SELECT string_agg(concat_ws('/', incident_version, notice_kind, occasion, channel, state, n), ' ' "
      "  ORDER BY incident_version, notice_kind, occasion, channel, state) FROM ("
      "  SELECT incident_version, notice_kind, occasion, channel, state, count(*) AS n FROM notice_ledger "
      "  WHERE incident_id = '", incident, "' GROUP BY 1, 2, 3, 4, 5) s");
}

std::string ReportText(const DeliveryReport& r) {
  std::vector<std::string> parts;
  for (const auto& c : r.counts) {
    parts.push_back(absl::StrCat(c.incident_version, "/", ToString(c.kind), "/", c.occasion, "/", ToString(c.channel),
                                 "/", ToString(c.state), "/", c.count));
  }
  return absl::StrJoin(parts, " ");
}

TEST_F(PgLedgerRetentionTest, MigratingAPopulatedVersion13DatabaseKeepsEveryRowAndReport) {
  if (testing::TestPgUri().empty()) GTEST_SKIP() << "FOREWARN_TEST_PG_URI not set";
  db_ = std::make_unique<testing::ScratchDatabase>();
  ASSERT_TRUE(ApplyMigrations(db_->uri(), 13).ok());
  db_->Exec(kSeed);
  // Three incidents (v4 ids), 30,000 ledger rows in every state, dead
  // notices, receipts and the partial indexes' entries.
  db_->Exec(
      "INSERT INTO incidents (version, kind, state, services, regions, reason_ar, reason_en, starts_at, "
      "expected_restoration_at, idempotency_key, request_hash, created_at, updated_at) "
      "SELECT 1, 'unplanned_outage', 'resolved', '{electricity}', '{riyadh}', 'r', 'r', now(), now(), 'v13-' || g, "
      "'h', now(), now() FROM generate_series(1, 3) g;"
      "INSERT INTO notice_ledger (incident_id, incident_version, notice_kind, occasion, customer_id, channel, state, "
      "  claimed_at, updated_at, provider_id, receipt_due_at) "
      "SELECT i.id, 1, 'outage_started', '', c, CASE WHEN c % 2 = 0 THEN 'sms' ELSE 'email' END, "
      "  (ARRAY['sent','failed','dead','delivered','held'])[1 + c % 5], now(), now(), "
      "  CASE WHEN c % 100 = 0 THEN 'p-' || i.idempotency_key || '-' || c END, "
      "  CASE WHEN c % 50 = 0 THEN now() + interval '1 hour' END "
      "FROM incidents i, generate_series(1, 10000) c;"
      "INSERT INTO dead_notices SELECT incident_id, incident_version, notice_kind, occasion, customer_id, channel, "
      "  now() FROM notice_ledger WHERE state = 'dead';"
      "INSERT INTO notice_receipts (ref, status, by_provider, source, received_at) "
      "SELECT 'ref-' || g, 'delivered', false, 'test', now() FROM generate_series(1, 500) g;");
  const std::vector<std::string> ids = absl::StrSplit(
      db_->Exec("SELECT string_agg(id::text, ',' ORDER BY idempotency_key) FROM incidents"), ',');
  std::vector<std::string> before;
  for (const auto& id : ids) before.push_back(db_->Exec(V13Report(id)));
  const std::string counts = "SELECT (SELECT count(*) FROM notice_ledger) || '/' || (SELECT count(*) FROM dead_notices)"
                             " || '/' || (SELECT count(*) FROM notice_receipts) || '/' || "
                             "(SELECT count(*) FROM notice_ledger WHERE provider_id IS NOT NULL) || '/' || "
                             "(SELECT count(*) FROM notice_ledger WHERE receipt_due_at IS NOT NULL)";
  const std::string counts_before = db_->Exec(counts);
  EXPECT_EQ(counts_before, "30000/6000/500/300/600");

  const auto started = std::chrono::steady_clock::now();
  ASSERT_TRUE(ApplyMigrations(db_->uri()).ok());
  std::cout << "[ measure ] migration 14 of 30,000 ledger rows: "
            << std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count() << " s\n";

  EXPECT_EQ(db_->Exec(counts), counts_before);
  EXPECT_EQ(db_->Exec("SELECT count(*) FROM notice_ledger_legacy"), "30000");
  EXPECT_EQ(db_->Exec("SELECT relkind FROM pg_class WHERE relname = 'notice_ledger'"), "p");
  EXPECT_EQ(db_->Exec("SELECT relkind FROM pg_class WHERE relname = 'dead_notices'"), "p");
  store_ = std::make_unique<PgIncidentStore>(PgDatabase(db_->uri(), 2));
  for (size_t i = 0; i < ids.size(); ++i) {
    auto report = store_->Report(ids[i], 100);
    ASSERT_TRUE(report.ok()) << report.status();
    EXPECT_EQ(ReportText(*report), before[i]) << ids[i];
  }
  // The legacy rows are found by the ledger: final ones are not sent again,
  // dead ones are dead, the dead-letter count is kept.
  PgNoticeLedger ledger(db_->uri());
  EXPECT_EQ(ClaimAndRecord(ledger, {Key(ids[0], 5, Channel::kEmail), Key(ids[0], 1, Channel::kEmail)}, absl::Now()),
            0);  // 5: sent; 1: failed
  auto dead = ledger.AreDead({Key(ids[1], 2)});
  ASSERT_TRUE(dead.ok()) << dead.status();
  EXPECT_TRUE((*dead)[0]);
  EXPECT_EQ(ledger.CountDead().value_or(-1), 6000);
  // A new incident: a v7 id, in this month's partition; the legacy rows
  // stay where they are.
  auto fresh = CreateIncident("after-14", absl::Now());
  ASSERT_TRUE(fresh.ok()) << fresh.status();
  EXPECT_EQ(fresh->id[14], '7');
  EXPECT_EQ(ClaimAndRecord(ledger, {Key(fresh->id, 1)}, absl::Now()), 1);
  EXPECT_EQ(PartitionOf(fresh->id), MonthName("notice_ledger", absl::Now()));
  EXPECT_EQ(PartitionOf(ids[2]), "notice_ledger_legacy");
}

// A fan-out of `total` notices of `incident` by `workers` ledgers at once,
// in batches of `batch`; counts the sends the claims allowed.
class FanOut {
 public:
  FanOut(const std::string& uri, const std::string& incident, int workers, int total, int batch) {
    for (int w = 0; w < workers; ++w) {
      threads_.emplace_back([=, this] {
        PgNoticeLedger ledger(uri);
        for (int first = w * batch; first < total; first += workers * batch) {
          std::vector<NoticeKey> keys;
          for (int c = first; c < std::min(first + batch, total); ++c) keys.push_back(Key(incident, c + 1));
          sent_ += ClaimAndRecord(ledger, keys, absl::Now());
          ++batches_;
        }
      });
    }
  }
  int Join() {
    for (auto& t : threads_) t.join();
    return sent_.load();
  }
  int batches() const { return batches_.load(); }

 private:
  std::vector<std::thread> threads_;
  std::atomic<int> sent_{0}, batches_{0};
};

TEST_F(PgLedgerRetentionTest, MonthsOlderThanTheRetentionAreDroppedWhileAFanOutWritesNothingElseLost) {
  SetUpStore(kSeed);
  const absl::Time now = absl::Now();
  PgLedgerPartitions partitions(db_->uri());
  // Three old months, each with one incident: two closed long ago, one
  // still open (created 440 days ago).
  const absl::Time t_a = now - absl::Hours(24 * 530), t_b = now - absl::Hours(24 * 485),
                   t_open = now - absl::Hours(24 * 440);
  for (absl::Time t : {t_a, t_b, t_open}) ASSERT_TRUE(partitions.Create(MonthStart(t)).ok());
  const std::string a = OldIncident(t_a, false, "old-a"), b = OldIncident(t_b, false, "old-b"),
                    open = OldIncident(t_open, true, "old-open");
  {
    PgNoticeLedger ledger(db_->uri());
    for (const auto& id : {a, b, open}) {
      std::vector<NoticeKey> keys;
      for (int c = 1; c <= 300; ++c) keys.push_back(Key(id, c));
      ASSERT_EQ(ClaimAndRecord(ledger, keys, t_a), 300);
    }
    ASSERT_EQ(ClaimAndRecord(ledger, {Key(a, 1, Channel::kEmail)}, t_a, NoticeState::kDead), 1);
  }
  ASSERT_EQ(PartitionOf(a), MonthName("notice_ledger", t_a));
  ASSERT_EQ(PartitionOf(open), MonthName("notice_ledger", t_open));
  db_->Exec(absl::StrCat("INSERT INTO notice_receipts (ref, status, by_provider, source, received_at) "
                         "SELECT 'old-' || g, 'delivered', false, 't', to_timestamp(", absl::ToUnixSeconds(t_b),
                         ") FROM generate_series(1, 12000) g UNION ALL "
                         "SELECT 'new-' || g, 'delivered', false, 't', now() FROM generate_series(1, 10) g"));

  // A new incident fans out through four ledgers while retention runs.
  auto fresh = CreateIncident("new", now);
  ASSERT_TRUE(fresh.ok()) << fresh.status();
  constexpr int kNotices = 12000;
  FanOut fan_out(db_->uri(), fresh->id, 4, kNotices, 100);
  while (fan_out.batches() < 4) absl::SleepFor(absl::Milliseconds(5));
  FakeClock clock(now);
  LedgerMaintenance maintenance(partitions, clock, kDefaultLedgerRetention);
  const int batches_before = fan_out.batches();
  const auto round_started = std::chrono::steady_clock::now();
  auto round = maintenance.RunOnce();
  const double round_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - round_started).count();
  const int batches_when_dropped = fan_out.batches();
  const int sent = fan_out.Join();
  const double fan_out_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - round_started).count();
  ASSERT_TRUE(round.ok()) << round.status();
  std::cout << "[ measure ] retention round during the fan-out: dropped " << round->dropped << ", kept " << round->kept
            << ", receipts deleted " << round->receipts_deleted << " in " << round_s << " s; fan-out batches of 100 "
            << batches_before << " before it, " << batches_when_dropped << " after it, of " << kNotices / 100
            << " (the rest in " << fan_out_s - round_s << " s)\n";
  EXPECT_LT(batches_when_dropped, kNotices / 100) << "the fan-out was over before the drop: not concurrent";

  // The two closed months are gone from both tables; the open one's stays.
  EXPECT_EQ(round->dropped, 2);
  EXPECT_EQ(round->kept, 1);
  for (absl::Time t : {t_a, t_b}) {
    EXPECT_FALSE(TableExists(MonthName("notice_ledger", t)));
    EXPECT_FALSE(TableExists(MonthName("dead_notices", t)));
  }
  EXPECT_TRUE(TableExists(MonthName("notice_ledger", t_open)));
  EXPECT_EQ(db_->Exec(absl::StrCat("SELECT count(*) FROM notice_ledger WHERE incident_id = '", open, "'")), "300");
  EXPECT_EQ(db_->Exec("SELECT count(*) FROM ledger_dropped"), "2");
  // Every notice of the fan-out once, each sent once.
  EXPECT_EQ(sent, kNotices);
  EXPECT_EQ(db_->Exec(absl::StrCat("SELECT count(*) || '/' || count(DISTINCT customer_id) || '/' || "
                                   "count(*) FILTER (WHERE state = 'sent') FROM notice_ledger WHERE incident_id = '",
                                   fresh->id, "'")),
            absl::StrCat(kNotices, "/", kNotices, "/", kNotices));
  EXPECT_EQ(db_->Exec("SELECT count(*) FROM notice_inflight"), "0");
  // Receipts older than the retention went, in batches; the others stay.
  EXPECT_EQ(round->receipts_deleted, 12000);
  EXPECT_EQ(db_->Exec("SELECT count(*) FROM notice_receipts"), "10");

  // Reads: FAILED_PRECONDITION naming the retention for the dropped months'
  // incidents, as before for the others.
  PgLedgerRetentionLog log(db_->uri());
  IncidentService service(*store_, clock);
  service.set_ledger_retention(&log);
  auto report = service.Report(a, 10);
  EXPECT_EQ(report.status().code(), absl::StatusCode::kFailedPrecondition) << report.status();
  EXPECT_EQ(report.status().message(),
            absl::StrCat("incident ", a, " was created ", absl::FormatTime("%Y-%m-%d", t_a, absl::UTCTimeZone()),
                         "; notices are kept 400 days (--ledger-retention) and its ledger has been dropped (",
                         absl::FormatTime("%Y-%m-%d", now, absl::UTCTimeZone()), ")"));
  EXPECT_EQ(service.Reconcile(b, false).status().code(), absl::StatusCode::kFailedPrecondition);
  PgProofSource proof_source(db_->uri());
  NoticeProofService proofs(proof_source, clock);
  proofs.set_ledger_retention(&log);
  ProofRequest proof;
  proof.incident_id = b;
  EXPECT_EQ(proofs.Prove(proof, [](const NoticeProof&) { return absl::OkStatus(); }).status().code(),
            absl::StatusCode::kFailedPrecondition);
  for (const auto& id : {open, fresh->id}) {
    auto kept = service.Report(id, 10);
    ASSERT_TRUE(kept.ok()) << kept.status();
    ASSERT_EQ(kept->counts.size(), 1u);
    EXPECT_EQ(kept->counts[0].count, id == open ? 300 : kNotices);
  }
  EXPECT_TRUE(service.Reconcile(fresh->id, false).ok());
}

// The plans of a claim's probe `sql` with `args` (the keys: all of one
// incident, customers 1..n), its first and 7th executions on one connection
// (the first five are custom plans, then PostgreSQL may keep a generic
// one), as the ledger's transactions run it.
std::vector<std::vector<std::string>> ExplainClaimProbe(const std::string& uri, const char* sql,
                                                        const std::string& args) {
  pqxx::connection c(uri);
  pqxx::work tx(c);
  tx.exec0(PgNoticeLedger::TransactionSettingsSql());
  tx.exec0(absl::StrCat("PREPARE probe AS ", sql));
  std::vector<std::vector<std::string>> plans;
  for (int i = 0; i < 7; ++i) {
    if (i != 0 && i != 6) {
      tx.exec(absl::StrCat("EXECUTE probe(", args, ")"));
      continue;
    }
    plans.emplace_back();
    for (const auto& r : tx.exec(absl::StrCat("EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) EXECUTE probe(", args, ")"))) {
      plans.back().push_back(r[0].c_str());
    }
  }
  return plans;
}

// The arguments of either probe for customers 1..n of `incident`.
std::string ProbeArgs(pqxx::connection& c, const std::string& incident, int n, bool one_notice) {
  pqxx::work tx(c);
  const std::string epoch = tx.exec1(absl::StrCat("SELECT forewarn_incident_epoch('", incident, "')"))[0].c_str();
  std::vector<int64_t> customers;
  for (int i = 1; i <= n; ++i) customers.push_back(i);
  auto array = [](const auto& v) { return absl::StrCat("{", absl::StrJoin(v, ","), "}"); };
  if (one_notice) {
    return absl::StrCat(epoch, ", '", incident, "', '", array(customers), "', 1, 'outage_started', ''");
  }
  auto text_array = [&](const std::string& s) {
    return absl::StrCat("{", absl::StrJoin(std::vector<std::string>(n, absl::StrCat("\"", s, "\"")), ","), "}");
  };
  return absl::StrCat("'", text_array(incident), "', '", array(std::vector<int64_t>(n, 1)), "', '",
                      text_array("outage_started"), "', '", text_array(""), "', '", array(customers), "', '",
                      text_array("sms"), "', '", array(std::vector<std::string>(n, epoch)), "'");
}

// Each of the probe's plans scans the partition of `now` only, once per
// key, and no other of the ledger's partitions (pruned when planned, or
// never executed).
void ExpectOnePartitionPerKey(const std::vector<std::vector<std::string>>& plans, absl::Time now, int keys) {
  for (const auto& plan : plans) {
    int executed = 0;
    std::string run;
    for (const auto& line : plan) {
      if (line.find("on notice_ledger_") == std::string::npos || line.find("never executed") != std::string::npos) {
        continue;
      }
      ++executed;
      run = line;
    }
    const std::string all = absl::StrJoin(plan, "\n");
    EXPECT_EQ(executed, 1) << all;
    EXPECT_NE(run.find(absl::StrCat("Scan using ", MonthName("notice_ledger", now), "_pkey")), std::string::npos)
        << all;
    EXPECT_NE(run.find(absl::StrCat("loops=", keys)), std::string::npos) << all;
  }
}

TEST_F(PgLedgerRetentionTest, AClaimProbesOnePartitionPerKeyAmongFifteen) {
  SetUpStore(kSeed);
  const absl::Time now = absl::Now();
  PgLedgerPartitions partitions(db_->uri());
  const absl::CivilMonth this_month(absl::ToCivilSecond(now, absl::UTCTimeZone()));
  for (int m = 1; m <= 10; ++m) {
    ASSERT_TRUE(partitions.Create(absl::FromCivil(this_month - m, absl::UTCTimeZone())).ok());
  }
  ASSERT_EQ(db_->Exec("SELECT count(*) FROM pg_inherits WHERE inhparent = 'notice_ledger'::regclass"), "15");
  auto incident = CreateIncident("probe", now);
  ASSERT_TRUE(incident.ok()) << incident.status();
  std::vector<NoticeKey> keys;
  for (int c = 1; c <= 200; ++c) keys.push_back(Key(incident->id, c));
  {
    PgNoticeLedger ledger(db_->uri());
    ASSERT_EQ(ClaimAndRecord(ledger, keys, now), 200);
  }
  db_->Exec("ANALYZE notice_ledger");  // the other months analyzed while empty: the case that tempts a seq scan
  pqxx::connection c(db_->uri());
  const auto any_keys = ExplainClaimProbe(db_->uri(), PgNoticeLedger::ClaimLookupSql(), ProbeArgs(c, incident->id, 200, false));
  ExpectOnePartitionPerKey(any_keys, now, 200);
  for (const auto& plan : any_keys) {
    const std::string all = absl::StrJoin(plan, "\n");
    EXPECT_NE(all.find("rows=1 loops=200"), std::string::npos) << all;
  }
  // A fan-out's claim (one notice: its customers only) after the incident's
  // rows were analyzed: each customer still one descent, not a scan of all
  // the incident's rows joined to the keys (the plan of an unforced join).
  ExpectOnePartitionPerKey(ExplainClaimProbe(db_->uri(), PgNoticeLedger::ClaimLookupOneNoticeSql(),
                                             ProbeArgs(c, incident->id, 200, true)),
                           now, 200);
}

}  // namespace
}  // namespace forewarn
