// forewarn-notifier refuses to start when a configured provider is set up
// wrongly or cannot be reached: the real binary against the real peers. The
// probe runs before the notifier needs PostgreSQL or Kafka, so none is given,
// except Kafka to the test that the notifier gets all the way to "started".
#include <sys/wait.h>

#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "tests/channels/test_util.h"
#include "tests/support/process.h"
#include "tests/support/test_db.h"

#ifndef FOREWARN_NOTIFIER_BIN
#error "FOREWARN_NOTIFIER_BIN must name the forewarn-notifier binary"
#endif

namespace forewarn {
namespace {

using channel_testing::PythonPeer;
using channel_testing::ReadFile;

struct Exit {
  int code = -1;  // exit status; -1 when still running at the deadline
  absl::Duration took;
  std::string log;
};

// A message code secret file in `dir` (the notifier requires one); its path.
std::string CodeSecretIn(const std::string& dir) {
  std::ofstream(dir + "/message-code.key") << std::string(40, 'm') << "\n";
  return dir + "/message-code.key";
}

// Runs the notifier with `args` after the common ones (a message code secret
// among them unless `code_secret` is false); waits up to `limit`.
Exit RunNotifier(const std::vector<std::string>& args, absl::Duration limit, bool code_secret = true) {
  const std::string dir = testing::MakeTempDir("notifier-startup");
  std::vector<std::string> argv = {FOREWARN_NOTIFIER_BIN, "--pg", "postgresql://127.0.0.1:1/none", "--pg-pooling", "session", "--kafka",
                                   "127.0.0.1:1", "--templates", FOREWARN_TEMPLATES_DIR, "--outbox-dir", dir};
  if (code_secret) argv.insert(argv.end(), {"--message-code-secret-file", CodeSecretIn(dir)});
  argv.insert(argv.end(), args.begin(), args.end());
  testing::ChildProcess notifier(argv, dir + "/notifier.log");
  Exit out;
  const absl::Time start = absl::Now();
  EXPECT_TRUE(notifier.Start().ok());
  while (notifier.Running() && absl::Now() - start < limit) absl::SleepFor(absl::Milliseconds(20));
  out.took = absl::Now() - start;
  if (!notifier.Running()) {
    const int status = notifier.Stop();
    out.code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  } else {
    notifier.Stop();
  }
  out.log = ReadFile(dir + "/notifier.log");
  return out;
}

// Every notice carries a verification code: no secret, no start; a status
// link must be https:// (or on loopback) and short enough that every kind's
// SMS, at its longest, stays within its segment budget.
TEST(NotifierStartup, RefusesAMissingCodeSecretAndABadOrTooLongStatusBaseUrlNamingTheFlag) {
  const Exit no_secret = RunNotifier({}, absl::Seconds(10), /*code_secret=*/false);
  EXPECT_EQ(no_secret.code, 2) << no_secret.log;
  EXPECT_TRUE(absl::StrContains(no_secret.log, "--message-code-secret-file: is required")) << no_secret.log;
  const Exit http = RunNotifier({"--status-base-url", "http://status.example.com"}, absl::Seconds(10));
  EXPECT_EQ(http.code, 2) << http.log;
  EXPECT_TRUE(absl::StrContains(http.log, "--status-base-url: 'http://status.example.com'")) << http.log;
  const Exit kinds = RunNotifier({"--status-link-kinds", "outage_started,outage_exploded"}, absl::Seconds(10));
  EXPECT_EQ(kinds.code, 2) << kinds.log;
  EXPECT_TRUE(absl::StrContains(kinds.log, "--status-link-kinds: unknown notice kind 'outage_exploded'")) << kinds.log;
  const Exit too_long =
      RunNotifier({"--status-base-url", absl::StrCat("https://status.example.com/", std::string(150, 'p'))},
                  absl::Seconds(10));
  EXPECT_EQ(too_long.code, 2) << too_long.log;
  EXPECT_TRUE(absl::StrContains(too_long.log, "exceeds its segment budget")) << too_long.log;
  EXPECT_TRUE(absl::StrContains(too_long.log, "outage_started (en)")) << too_long.log;
}

TEST(NotifierStartup, RefusesStartTlsAgainstAPlaintextSmtpServerNamingTheFlags) {
  const std::string dir = testing::MakeTempDir("smtp-sink");
  PythonPeer sink("smtp_sink.py", {"--out-dir", dir + "/out"}, dir);
  ASSERT_TRUE(sink.Start().ok());
  const std::string url = absl::StrCat("smtp://127.0.0.1:", sink.port());
  // --smtp-tls left at its default, starttls.
  const Exit e = RunNotifier({"--smtp-url", url, "--smtp-from", "notices@forewarn.example"}, absl::Seconds(20));
  EXPECT_EQ(e.code, 2) << e.log;
  EXPECT_TRUE(absl::StrContains(
      e.log, absl::StrCat("--smtp-url ", url,
                          ": server does not offer STARTTLS (--smtp-tls starttls); use --smtp-tls none for a "
                          "plaintext server")))
      << e.log;
  EXPECT_LT(e.took, absl::Seconds(10)) << "a configuration fault is not waited for";
}

TEST(NotifierStartup, WaitsBoundedlyForAnUnreachableGatewayThenRefuses) {
  const std::string url = absl::StrCat("http://127.0.0.1:", channel_testing::RefusedPort(), "/sms");
  const Exit e = RunNotifier({"--sms-url", url, "--provider-probe-wait-ms", "1500"}, absl::Seconds(20));
  EXPECT_EQ(e.code, 1) << e.log;
  EXPECT_GE(e.took, absl::Milliseconds(1500)) << e.log;
  EXPECT_TRUE(absl::StrContains(e.log, "event=provider_probe_retry")) << e.log;
  EXPECT_TRUE(absl::StrContains(e.log, absl::StrCat("--sms-url ", url, ": cannot reach the gateway"))) << e.log;
}

TEST(NotifierStartup, StartsOnceTheGatewayComesUpWithinTheWait) {
  // Past the probe the notifier checks that its Kafka topics exist: it needs
  // the test command's broker (whose topics it finds) to get to "started".
  const std::string kafka = testing::TestKafkaBootstrap();
  if (kafka.empty()) GTEST_SKIP() << "FOREWARN_TEST_KAFKA not set (run through scripts/test.sh)";
  const int port = channel_testing::RefusedPort();  // nothing listens there yet
  const std::string ndir = testing::MakeTempDir("notifier-startup");
  testing::ChildProcess notifier(
      {FOREWARN_NOTIFIER_BIN, "--pg", "postgresql://127.0.0.1:1/none", "--pg-pooling", "session", "--kafka", kafka, "--templates",
       FOREWARN_TEMPLATES_DIR, "--outbox-dir", ndir, "--message-code-secret-file", CodeSecretIn(ndir), "--sms-url",
       absl::StrCat("http://127.0.0.1:", port, "/sms"),
       "--provider-probe-wait-ms", "30000"},
      ndir + "/notifier.log");
  ASSERT_TRUE(notifier.Start().ok());
  absl::SleepFor(absl::Milliseconds(1500));
  ASSERT_TRUE(notifier.Running()) << ReadFile(ndir + "/notifier.log");
  // The gateway comes up on that port while the notifier waits.
  const std::string dir = testing::MakeTempDir("sms-gateway");
  PythonPeer gateway("sms_gateway.py", {"--log", dir + "/requests.jsonl", "--bind-port", std::to_string(port)}, dir);
  ASSERT_TRUE(gateway.Start().ok());
  const absl::Time deadline = absl::Now() + absl::Seconds(15);
  std::string log;
  while (absl::Now() < deadline && notifier.Running()) {
    log = ReadFile(ndir + "/notifier.log");
    if (absl::StrContains(log, "event=started")) break;
    absl::SleepFor(absl::Milliseconds(100));
  }
  notifier.Stop();
  log = ReadFile(ndir + "/notifier.log");
  EXPECT_TRUE(absl::StrContains(log, "event=provider_probe_retry")) << log;
  EXPECT_TRUE(absl::StrContains(log, "event=started")) << log;
  EXPECT_FALSE(absl::StrContains(log, "--sms-url http")) << "the probe failed: " << log;
  EXPECT_TRUE(ReadFile(dir + "/requests.jsonl").empty()) << "the probe sends no request";
}

}  // namespace
}  // namespace forewarn
