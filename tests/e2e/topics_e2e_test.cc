// Topics are provisioned, not auto-created: every service, started with one
// of its topics missing on the test command's broker (FOREWARN_TEST_KAFKA),
// exits 2 naming the topic, its flag and the command that creates it, and
// leaves the topic missing; `forewarn-admin topics` reports each topic and
// exits non-zero on anything but created/ok.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <map>
#include <set>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "tests/e2e/stack.h"
#include "tests/support/kafka_topics.h"
#include "tests/support/process.h"
#include "tests/support/test_db.h"

namespace forewarn {
namespace {

std::string Bin(const std::string& rel) { return absl::StrCat(FOREWARN_BIN_DIR, "/", rel); }

struct ProcessResult {
  int exit_code = -1;  // -1: did not exit by itself in time
  std::string output;  // stdout and stderr
};

// Runs argv to completion (up to `timeout`, then it is killed).
ProcessResult RunToExit(const std::vector<std::string>& argv, const std::string& log, absl::Duration timeout) {
  testing::ChildProcess child(argv, log);
  ProcessResult run;
  if (!child.Start().ok()) return run;
  const absl::Time deadline = absl::Now() + timeout;
  while (child.Running() && absl::Now() < deadline) absl::SleepFor(absl::Milliseconds(50));
  const bool exited = !child.Running();
  const int status = child.Stop();
  if (exited && WIFEXITED(status)) run.exit_code = WEXITSTATUS(status);
  run.output = testing::ReadFile(log);
  return run;
}

// "OUTCOME TOPIC DETAIL" lines of forewarn-admin topics: topic -> (outcome, detail).
std::map<std::string, std::pair<std::string, std::string>> Reports(const std::string& output) {
  static const std::set<std::string> kOutcomes = {"created", "ok", "mismatch", "missing", "failed"};
  std::map<std::string, std::pair<std::string, std::string>> out;
  for (absl::string_view line : absl::StrSplit(output, '\n')) {
    std::vector<absl::string_view> words = absl::StrSplit(line, absl::MaxSplits(' ', 1));
    if (words.size() != 2 || !kOutcomes.contains(std::string(words[0]))) continue;
    words = absl::StrSplit(absl::StripLeadingAsciiWhitespace(words[1]), absl::MaxSplits(' ', 1));
    out[std::string(words[0])] = {std::string(line.substr(0, line.find(' '))),
                                  words.size() > 1 ? std::string(absl::StripAsciiWhitespace(words[1])) : ""};
  }
  return out;
}

class TopicsE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    kafka_ = testing::TestKafkaBootstrap();
    if (testing::TestPgUri().empty() || kafka_.empty()) GTEST_SKIP() << "FOREWARN_TEST_PG_URI / FOREWARN_TEST_KAFKA not set";
    dir_ = testing::MakeTempDir("forewarn-topics-");
    std::ofstream(dir_ + "/message-code.key") << testing::ServiceStack::kMessageCodeSecret << "\n";
  }

  // What every notifier needs besides the case's flags.
  std::vector<std::string> NotifierArgs() const {
    return {"--templates", FOREWARN_TEMPLATES_DIR, "--outbox-dir", dir_, "--message-code-secret-file",
            dir_ + "/message-code.key"};
  }

  std::string Unique(const std::string& what) {
    static int counter = 0;
    return absl::StrCat("e2e.", what, ".", ::getpid(), ".", absl::ToUnixMicros(absl::Now()), ".", counter++);
  }

  ProcessResult Admin(std::vector<std::string> args) {
    args.insert(args.begin(), {Bin("services/cmd/admin/forewarn-admin"), "topics"});
    static int runs = 0;
    return RunToExit(args, absl::StrCat(dir_, "/admin-", runs++, ".log"), absl::Seconds(90));
  }

  std::string kafka_;
  std::string dir_;
};

TEST_F(TopicsE2eTest, EachServiceRefusesToStartWithoutItsTopic) {
  // Every other topic exists: the dev broker has the default ones, a real
  // broker gets them here (or has them from an earlier run).
  const ProcessResult defaults = Admin({"--kafka", kafka_, "--replication-factor", "1", "--min-insync-replicas", "1"});
  for (const auto& t : {"forewarn.events", "forewarn.notices", "forewarn.notices.retry", "forewarn.notices.dlq"}) {
    const std::string outcome = Reports(defaults.output)[t].first;
    ASSERT_TRUE(outcome == "created" || outcome == "ok" || outcome == "mismatch") << defaults.output;
  }
  testing::ScratchDatabase db;
  const std::vector<std::string> common = {"--pg", db.uri(), "--kafka", kafka_};
  struct Case {
    std::string name, binary, flag;
    std::vector<std::string> args;
  };
  const std::vector<Case> cases = {
      {"intake", "services/cmd/intake/forewarn-intake", "--dlq-topic", {"--templates", FOREWARN_TEMPLATES_DIR}},
      {"resolver", "services/cmd/resolver/forewarn-resolver", "--events-topic", {}},
      {"scheduler", "services/cmd/scheduler/forewarn-scheduler", "--notices-topic", {}},
      {"notifier", "notifier/cmd/forewarn-notifier", "--retry-topic", NotifierArgs()},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    const std::string missing = Unique(c.name);
    std::vector<std::string> argv = {Bin(c.binary)};
    argv.insert(argv.end(), common.begin(), common.end());
    argv.insert(argv.end(), c.args.begin(), c.args.end());
    argv.insert(argv.end(), {c.flag, missing});
    const ProcessResult run = RunToExit(argv, absl::StrCat(dir_, "/", c.name, ".log"), absl::Seconds(60));
    EXPECT_EQ(run.exit_code, 2) << run.output;
    EXPECT_TRUE(absl::StrContains(run.output, absl::StrCat("kafka topic ", missing, " (", c.flag, ") does not exist")))
        << run.output;
    EXPECT_TRUE(absl::StrContains(
        run.output, absl::StrCat("create it with: forewarn-admin topics --kafka ", kafka_, " ", c.flag, " ", missing)))
        << run.output;
    // Asking did not create it.
    const ProcessResult check = Admin({"--kafka", kafka_, c.flag, missing, "--replication-factor", "1",
                             "--min-insync-replicas", "1", "--check"});
    EXPECT_EQ(Reports(check.output)[missing].first, "missing") << check.output;
  }
}

// The consumer services ask the broker for group.min/max.session.timeout.ms
// (1000..1800000 on scripts/kafka.sh's broker) and refuse a session timeout
// outside, rather than retry a join the broker refuses for ever. (The
// --session-timeout-ms flag takes 1000..300000; a stock broker's minimum is
// 6000. Here the value comes from --kafka-prop, which overrides the flag.)
TEST_F(TopicsE2eTest, ConsumerServicesRefuseASessionTimeoutTheBrokerWouldRefuse) {
  if (testing::TestKafkaIsMock()) GTEST_SKIP() << "the mock broker describes no configuration";
  const ProcessResult defaults = Admin({"--kafka", kafka_, "--replication-factor", "1", "--min-insync-replicas", "1"});
  ASSERT_TRUE(absl::StrContains(defaults.output, "forewarn.notices.dlq")) << defaults.output;
  testing::ScratchDatabase db;
  const std::vector<std::string> common = {"--pg", db.uri(), "--kafka", kafka_, "--kafka-prop", "session.timeout.ms=500"};
  const std::vector<std::pair<std::string, std::vector<std::string>>> cases = {
      {"services/cmd/resolver/forewarn-resolver", {}},
      {"notifier/cmd/forewarn-notifier", NotifierArgs()},
  };
  for (const auto& [binary, args] : cases) {
    SCOPED_TRACE(binary);
    std::vector<std::string> argv = {Bin(binary)};
    argv.insert(argv.end(), common.begin(), common.end());
    argv.insert(argv.end(), args.begin(), args.end());
    const ProcessResult run = RunToExit(argv, absl::StrCat(dir_, "/session-", argv.size(), ".log"), absl::Seconds(60));
    EXPECT_EQ(run.exit_code, 2) << run.output;
    EXPECT_TRUE(absl::StrContains(run.output, "session.timeout.ms 500 is outside the range the broker accepts, "
                                              "1000..1800000"))
        << run.output;
  }
}

TEST_F(TopicsE2eTest, AdminReportsEveryTopicAndExitsNonZeroUnlessAllAreAsConfigured) {
  const std::string events = Unique("events"), notices = Unique("notices"), retry = Unique("retry"),
                    dlq = Unique("dlq");
  const std::vector<std::string> names = {"--kafka", kafka_, "--events-topic", events, "--notices-topic", notices,
                                          "--retry-topic", retry, "--dlq-topic", dlq};
  auto with = [&names](std::vector<std::string> more) {
    more.insert(more.begin(), names.begin(), names.end());
    return more;
  };
  // One broker: replication 1; small partition counts.
  auto single_broker = [](const std::string& notices_partitions) {
    return std::vector<std::string>{"--replication-factor", "1", "--min-insync-replicas", "1",
                                    "--partitions-events", "2", "--partitions-notices", notices_partitions,
                                    "--partitions-retry", "3", "--partitions-dlq", "1"};
  };
  const ProcessResult check = Admin(with({"--check", "--replication-factor", "1", "--min-insync-replicas", "1"}));
  EXPECT_EQ(check.exit_code, 1) << check.output;
  auto reports = Reports(check.output);
  for (const auto& t : {events, notices, retry, dlq}) EXPECT_EQ(reports[t].first, "missing") << check.output;

  const ProcessResult create = Admin(with(single_broker("3")));
  reports = Reports(create.output);
  if (absl::StrContains(create.output, "takes no admin requests")) {
    // librdkafka's mock cluster (forewarn-devkafka) cannot create topics.
    EXPECT_EQ(create.exit_code, 1) << create.output;
    for (const auto& t : {events, notices, retry, dlq}) EXPECT_EQ(reports[t].first, "failed") << create.output;
    return;
  }
  EXPECT_EQ(create.exit_code, 0) << create.output;
  for (const auto& t : {events, notices, retry, dlq}) EXPECT_EQ(reports[t].first, "created") << create.output;
  EXPECT_EQ(reports[dlq].second, "1 partitions, replication factor 1, min.insync.replicas 1, retention.ms 2592000000");

  const ProcessResult again = Admin(with(single_broker("3")));
  EXPECT_EQ(again.exit_code, 0) << again.output;
  for (const auto& [topic, report] : Reports(again.output)) EXPECT_EQ(report.first, "ok") << again.output;

  std::vector<std::string> more_notices = single_broker("6");
  more_notices.push_back("--check");
  const ProcessResult mismatch = Admin(with(more_notices));
  EXPECT_EQ(mismatch.exit_code, 1) << mismatch.output;
  reports = Reports(mismatch.output);
  EXPECT_EQ(reports[notices].first, "mismatch") << mismatch.output;
  EXPECT_TRUE(absl::StrContains(reports[notices].second, "3 partitions, fewer than the 6 configured"));
  EXPECT_EQ(reports[events].first, "ok") << mismatch.output;
}

TEST_F(TopicsE2eTest, AdminRefusesContradictorySettingsAndGivesUpOnAnUnreachableBroker) {
  const ProcessResult contradictory = Admin({"--kafka", kafka_, "--replication-factor", "2", "--min-insync-replicas", "3"});
  EXPECT_EQ(contradictory.exit_code, 2) << contradictory.output;
  EXPECT_TRUE(absl::StrContains(contradictory.output, "min.insync.replicas 3 exceeds the replication factor 2"))
      << contradictory.output;

  const ProcessResult nowhere = Admin({"--kafka", "127.0.0.1:1", "--wait-ms", "1500", "--check"});
  EXPECT_EQ(nowhere.exit_code, 1) << nowhere.output;
  EXPECT_TRUE(absl::StrContains(nowhere.output, "no broker of 127.0.0.1:1 answered within 1.5s")) << nowhere.output;
}

}  // namespace
}  // namespace forewarn
