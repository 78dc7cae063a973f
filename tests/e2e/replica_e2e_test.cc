// Reads off the primary (--pg-read): the resolver and the intake read from a
// real streaming replica of the test command's PostgreSQL (scripts/pg.sh
// replica, pg_basebackup), which this test starts and stops. A fan-out
// reaches every customer exactly once, customers inserted while the replica
// had not replayed them yet included (the resolver waits for the primary's
// WAL position; past --pg-read-max-lag it reads from the primary); the
// audience was really scanned on the replica and not on the primary; the
// delivery report comes from the replica with the right counts. A --pg-read
// that is a primary is refused at start-up (exit 2).
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "forewarn/v1/incident.grpc.pb.h"
#include "tests/e2e/stack.h"
#include "tests/support/process.h"

namespace forewarn {
namespace {

using testing::RunCommand;

constexpr int kSeeded = 300;       // customers 1..300 use electricity in riyadh
constexpr int kLateFirst = 301;    // 301..340: inserted while the replica is paused, before incident 1
constexpr int kLateSecond = 341;   // 341..360: the same before incident 2
constexpr int kLast = 360;

// `s` single-quoted for the shell.
std::string Quote(const std::string& s) { return absl::StrCat("'", absl::StrReplaceAll(s, {{"'", "'\\''"}}), "'"); }

// Customers [from, to] on electricity/riyadh, as the fan-out seeds make them.
std::string CustomersSql(int from, int to) {
  std::string customers = "INSERT INTO customers (id, name, locale, time_zone, phone, email, channels_unplanned, "
                          "channels_maintenance, channels_banking) VALUES ";
  std::string uses = "INSERT INTO customer_services VALUES ";
  for (int id = from; id <= to; ++id) {
    absl::StrAppend(&customers, id > from ? "," : "", testing::SeededCustomerRow(id, 30000000, "replica"));
    absl::StrAppend(&uses, id > from ? "," : "", "('electricity','riyadh',", id, ")");
  }
  return absl::StrCat(customers, ";", uses, ";");
}

std::string SeedSql() {
  return absl::StrCat("INSERT INTO services VALUES ('electricity','Electricity','الكهرباء');"
                      "INSERT INTO regions VALUES ('riyadh','Riyadh','الرياض');",
                      CustomersSql(1, kSeeded));
}

std::set<int> Ids(int from, int to) {
  std::set<int> ids;
  for (int id = from; id <= to; ++id) ids.insert(id);
  return ids;
}

// The first value psql prints for `sql` on `uri` ("" on failure).
std::string Psql(const std::string& uri, const std::string& sql) {
  return std::string(absl::StripAsciiWhitespace(
      RunCommand(absl::StrCat("psql ", Quote(uri), " -XAtq -c ", Quote(sql), " 2>/dev/null"))));
}

// Scans of customer_services (only the audience rule reads it) counted by the server behind `uri`.
int64_t AudienceScans(const std::string& uri) {
  int64_t n = -1;
  const std::string text = Psql(uri,
                                "SELECT coalesce(seq_scan, 0) + coalesce(idx_scan, 0) FROM pg_stat_user_tables "
                                "WHERE relname = 'customer_services'");
  return absl::SimpleAtoi(text, &n) ? n : -1;
}

// `uri` with its database replaced by `db`.
std::string WithDatabase(const std::string& uri, const std::string& db) {
  return absl::StrCat(uri.substr(0, uri.rfind('/') + 1), db);
}

// A streaming replica of the test command's server (scripts/pg.sh replica), stopped on destruction.
class Replica {
 public:
  absl::Status Start() {
    const char* primary_dir = std::getenv("FOREWARN_TEST_PG_DIR");
    if (primary_dir == nullptr || *primary_dir == '\0') return absl::FailedPreconditionError("no FOREWARN_TEST_PG_DIR");
    dir_ = testing::MakeTempDir("forewarn-replica-");
    RunCommand(absl::StrCat("chmod 711 ", Quote(dir_)));
    const absl::Time start = absl::Now();
    uri_ = std::string(absl::StripAsciiWhitespace(RunCommand(absl::StrCat(
        "bash ", FOREWARN_SOURCE_DIR, "/scripts/pg.sh replica ", Quote(dir_), " ", Quote(primary_dir), " --fast 2>",
        Quote(dir_ + "/replica.err")))));
    if (!absl::StartsWith(uri_, "postgresql://")) {
      return absl::InternalError(absl::StrCat("pg.sh replica failed: ", testing::ReadFile(dir_ + "/replica.err")));
    }
    started_ = absl::Now() - start;
    return absl::OkStatus();
  }
  ~Replica() {  // stopped (by its postmaster.pid) and its data removed
    if (dir_.empty()) return;
    RunCommand(absl::StrCat("bash ", FOREWARN_SOURCE_DIR, "/scripts/pg.sh stop ", Quote(dir_), " 2>/dev/null"));
    RunCommand(absl::StrCat("rm -rf \"$(readlink -f ", Quote(dir_ + "/pg"), ")\" ", Quote(dir_)));
  }
  // The replica's copy of database `db`, once it has replayed its creation (or "" after 30 s).
  std::string Database(const std::string& db) const {
    const std::string uri = WithDatabase(uri_, db);
    for (const absl::Time deadline = absl::Now() + absl::Seconds(30); absl::Now() < deadline;) {
      if (Psql(uri, "SELECT pg_is_in_recovery()") == "t") return uri;
      absl::SleepFor(absl::Milliseconds(100));
    }
    return "";
  }
  const std::string& uri() const { return uri_; }
  absl::Duration started() const { return started_; }

 private:
  std::string dir_, uri_;
  absl::Duration started_;
};

// The value of the Prometheus series `series` (e.g. name{label="x"}) in a /metrics page; -1 when absent.
double Metric(const std::string& page, const std::string& series) {
  for (absl::string_view line : absl::StrSplit(page, '\n')) {
    if (!absl::StartsWith(line, series + " ")) continue;
    double v = -1;
    if (absl::SimpleAtod(line.substr(series.size() + 1), &v)) return v;
  }
  return -1;
}

class ReplicaE2eTest : public testing::StackTest {
 protected:
  void SetUp() override {
    SkipWithoutPostgres();
    if (IsSkipped()) return;
    ASSERT_TRUE(replica_.Start().ok()) << "replica did not start";
    std::printf("replica %s started in %.1f s\n", replica_.uri().c_str(), absl::ToDoubleSeconds(replica_.started()));
    testing::ServiceStack::Options options;
    options.services_pg_read_uri = [this](const std::string& scratch_uri) -> absl::StatusOr<std::string> {
      read_uri_ = replica_.Database(scratch_uri.substr(scratch_uri.rfind('/') + 1));
      if (read_uri_.empty()) return absl::DeadlineExceededError("the scratch database did not reach the replica");
      return read_uri_;
    };
    options.resolver_args = {"--pg-read-max-lag", "3s", "--http-listen", "127.0.0.1:0", "--http-port-file",
                             "{dir}/resolver.http"};
    options.intake_args = {"--http-listen", "127.0.0.1:0", "--http-port-file", "{dir}/intake.http"};
    StartStack(SeedSql(), options);
  }

  // Pauses (or resumes) WAL replay on the replica: what it serves stops moving.
  void PauseReplay(bool pause) {
    Psql(read_uri_, pause ? "SELECT pg_wal_replay_pause()" : "SELECT pg_wal_replay_resume()");
  }

  // Creates an outage on electricity/riyadh; its id.
  std::string CreateOutage(const std::string& key) {
    auto created = stack_.CreateIncident(testing::OutageRequest(key, "electricity", "riyadh", "Feeder fault",
                                                                "عطل في المغذي", absl::Hours(2)));
    EXPECT_TRUE(created.ok()) << created.status();
    return created.ok() ? created->id() : "";
  }

  // Each (customer, channel) of `ids` got exactly one notice of `incident`, and nobody else got one.
  void ExpectEachReachedOnce(const std::string& incident, const std::set<int>& ids) {
    const auto expected = testing::SeededRecipients(ids);
    ASSERT_TRUE(stack_.WaitForCount(testing::SentCountSql(incident), static_cast<int64_t>(expected.size()),
                                    absl::Seconds(60)))
        << "logs in " << stack_.dir();
    absl::SleepFor(absl::Milliseconds(500));  // let a duplicate surface, if any
    std::map<std::pair<int64_t, std::string>, int> got;
    for (const auto& d : stack_.ReadOutbox()) {
      if (absl::StrContains(d.line.at("message_id").get<std::string>(), incident)) ++got[{d.customer_id, d.channel}];
    }
    std::set<std::pair<int64_t, std::string>> seen;
    for (const auto& [key, n] : got) {
      EXPECT_EQ(n, 1) << "customer " << key.first << " got " << n << " " << key.second << " notices";
      seen.insert(key);
    }
    EXPECT_EQ(seen, expected);
  }

  std::string Metrics(const std::string& service) {
    std::string port;
    EXPECT_TRUE(testing::WaitForFile(stack_.dir() + "/" + service + ".http", absl::Seconds(10), &port).ok());
    int p = 0;
    return absl::SimpleAtoi(port, &p) ? testing::HttpGet(p, "/metrics") : "";
  }

  Replica replica_;
  std::string read_uri_;
};

constexpr char kReplicaReads[] = "forewarn_pg_reads_total{served_by=\"replica\"}";
constexpr char kLaggingReads[] = "forewarn_pg_reads_total{served_by=\"primary_lagging\"}";

TEST_F(ReplicaE2eTest, FanOutReadsTheAudienceOnTheReplicaAfterItCaughtUpAndReportsComeFromIt) {
  const std::string primary = stack_.db().uri();
  const int64_t replica_scans = AudienceScans(read_uri_);
  const int64_t primary_scans = AudienceScans(primary);
  ASSERT_GE(replica_scans, 0);
  ASSERT_GE(primary_scans, 0);

  // The replica stops replaying; customers 301..340 are committed on the primary just before the
  // incident, so the replica does not have them when the event reaches the resolver. It catches
  // up 1.5 s later, within --pg-read-max-lag (3 s): the resolver waits for it and reads there.
  PauseReplay(true);
  stack_.db().Exec(CustomersSql(kLateFirst, kLateSecond - 1));
  const std::string first = CreateOutage("replica-1");
  ASSERT_FALSE(first.empty());
  absl::SleepFor(absl::Milliseconds(1500));
  // Nothing went out meanwhile: the resolver neither read the stale replica (300 customers) nor
  // gave up on it (3 s); it is waiting.
  EXPECT_EQ(stack_.db().Exec(testing::SentCountSql(first)), "0");
  PauseReplay(false);
  ExpectEachReachedOnce(first, Ids(1, kLateSecond - 1));

  const std::string resolver_metrics = Metrics("resolver");
  EXPECT_GE(Metric(resolver_metrics, kReplicaReads), 1) << resolver_metrics;
  EXPECT_EQ(Metric(resolver_metrics, kLaggingReads), 0) << resolver_metrics;
  EXPECT_FALSE(absl::StrContains(testing::ReadFile(stack_.dir() + "/resolver.log"), "event=pg_read_lagging"));
  // The audience was scanned on the replica (its statistics arrive within a second or so), not on the primary.
  int64_t replica_after = replica_scans;
  for (const absl::Time deadline = absl::Now() + absl::Seconds(15);
       replica_after <= replica_scans && absl::Now() < deadline;) {
    absl::SleepFor(absl::Milliseconds(250));
    replica_after = AudienceScans(read_uri_);
  }
  EXPECT_GT(replica_after, replica_scans);

  // The delivery report (counts and completeness) through the intake, from the replica.
  v1::GetDeliveryReportRequest req;
  req.set_incident_id(first);
  v1::DeliveryReport report;
  ASSERT_TRUE(stack_.stub().GetDeliveryReport(stack_.Ctx().get(), req, &report).ok());
  int64_t sent = 0;
  for (const auto& c : report.counts()) {
    if (c.state() == v1::SENT) sent += c.count();
  }
  EXPECT_EQ(sent, static_cast<int64_t>(testing::SeededRecipients(Ids(1, kLateSecond - 1)).size()));
  EXPECT_EQ(report.uninformed(), 0);
  EXPECT_EQ(report.uninformed_notice_kind(), "outage_started");
  // The preview's counts too (the targets are checked in the same read-only transaction there).
  v1::PreviewAudienceRequest preview_req;
  preview_req.set_kind(v1::UNPLANNED_OUTAGE);
  preview_req.add_services("electricity");
  preview_req.mutable_targets()->add_regions("riyadh");
  v1::AudienceSize size;
  auto preview = stack_.stub().PreviewAudience(stack_.Ctx().get(), preview_req, &size);
  ASSERT_TRUE(preview.ok()) << preview.error_message();
  EXPECT_EQ(size.customers(), kLateSecond - 1);
  EXPECT_EQ(size.sms_recipients() + size.email_recipients(),
            static_cast<int64_t>(testing::SeededRecipients(Ids(1, kLateSecond - 1)).size()));
  const std::string intake_metrics = Metrics("intake");
  // The report (its counts and its completeness) and the preview.
  EXPECT_GE(Metric(intake_metrics, kReplicaReads), 3) << intake_metrics;
  absl::SleepFor(absl::Seconds(1));  // the primary's statistics too have had their second
  EXPECT_EQ(AudienceScans(primary), primary_scans) << "the audience was read on the primary";

  // The replica stays behind longer than --pg-read-max-lag: the resolver reads from the primary
  // (logged, counted) and still reaches everyone, 341..360 included.
  PauseReplay(true);
  stack_.db().Exec(CustomersSql(kLateSecond, kLast));
  const std::string second = CreateOutage("replica-2");
  ASSERT_FALSE(second.empty());
  ExpectEachReachedOnce(second, Ids(1, kLast));
  PauseReplay(false);
  EXPECT_GE(Metric(Metrics("resolver"), kLaggingReads), 1);
  EXPECT_TRUE(absl::StrContains(testing::ReadFile(stack_.dir() + "/resolver.log"), "event=pg_read_lagging"));
  testing::ExpectNoPersonalDataInLogs(stack_.dir());
}

// Runs argv until it exits (killed after `timeout`); its exit code (-1: did not exit) and output.
std::pair<int, std::string> RunToExit(const std::vector<std::string>& argv, const std::string& log,
                                      absl::Duration timeout) {
  testing::ChildProcess child(argv, log);
  if (!child.Start().ok()) return {-1, ""};
  const absl::Time deadline = absl::Now() + timeout;
  while (child.Running() && absl::Now() < deadline) absl::SleepFor(absl::Milliseconds(50));
  const bool exited = !child.Running();
  const int status = child.Stop();
  return {exited && WIFEXITED(status) ? WEXITSTATUS(status) : -1, testing::ReadFile(log)};
}

TEST(ReplicaStartupE2eTest, APrimaryAsPgReadIsRefusedAtStartUp) {
  const std::string kafka = testing::TestKafkaBootstrap();
  if (testing::TestPgUri().empty() || kafka.empty()) GTEST_SKIP() << "no PostgreSQL or Kafka from the test command";
  testing::ScratchDatabase db;
  const std::string dir = testing::MakeTempDir("forewarn-replica-refusal-");
  const std::string bin = FOREWARN_BIN_DIR;
  const std::vector<std::string> common = {"--pg", db.uri(), "--pg-read", db.uri(), "--kafka", kafka};
  std::vector<std::string> resolver = {bin + "/services/cmd/resolver/forewarn-resolver"};
  resolver.insert(resolver.end(), common.begin(), common.end());
  std::vector<std::string> intake = {bin + "/services/cmd/intake/forewarn-intake", "--templates",
                                     FOREWARN_TEMPLATES_DIR};
  intake.insert(intake.end(), common.begin(), common.end());
  for (const auto& [name, argv] : {std::pair{"resolver", resolver}, std::pair{"intake", intake}}) {
    const auto [code, output] = RunToExit(argv, absl::StrCat(dir, "/", name, ".log"), absl::Seconds(60));
    EXPECT_EQ(code, 2) << name << ": " << output;
    EXPECT_TRUE(absl::StrContains(output, "--pg-read: the server is not a standby")) << name << ": " << output;
  }
}

}  // namespace
}  // namespace forewarn
