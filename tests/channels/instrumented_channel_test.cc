#include "notifier/delivery/instrumented_channel.h"

#include <gtest/gtest.h>

#include "absl/strings/match.h"
#include "notifier/delivery/provider_probe.h"
#include "services/core/clock.h"
#include "tests/channels/scripted_provider.h"

namespace forewarn {
namespace {

using channel_testing::ScriptedProvider;

double Value(MetricsRegistry& m, const char* name, const MetricLabels& labels) {
  return m.counter(name, "", labels).value();
}

TEST(InstrumentedChannel, CountsFaultsByReasonAndAmbiguousSendsAndPassesResultsThrough) {
  MetricsRegistry metrics;
  ScriptedProvider provider;
  InstrumentedChannel channel("sms", provider, metrics);
  // Every series is there from the start, at zero.
  const std::string before = metrics.Render();
  EXPECT_TRUE(absl::StrContains(before, R"(forewarn_provider_faults_total{channel="sms",reason="auth"} 0)")) << before;
  EXPECT_TRUE(absl::StrContains(before, R"(forewarn_provider_faults_total{channel="sms",reason="tls"} 0)")) << before;
  EXPECT_TRUE(absl::StrContains(before, R"(forewarn_ambiguous_sends_total{channel="sms"} 0)")) << before;

  provider.script = {ProviderFaultError("auth", "HTTP 401"), ProviderFaultError("auth", "HTTP 403"),
                     ProviderFaultError("tls", "certificate"), AmbiguousSendError("timeout"),
                     absl::UnavailableError("503"), absl::InvalidArgumentError("400")};
  const RenderedNotice notice{"", "text", "", "<i.v1.outage_started.c1.sms@forewarn>"};
  std::vector<absl::Status> got;
  for (int i = 0; i < 7; ++i) got.push_back(channel.Send(Recipient{}, notice).status());
  EXPECT_EQ(ProviderFaultReason(got[0]), "auth");  // unchanged: the breaker decides what to do
  EXPECT_TRUE(IsAmbiguousSend(got[3]));
  EXPECT_EQ(got[5].code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(got[6].ok());

  EXPECT_EQ(Value(metrics, "forewarn_provider_faults_total", {{"channel", "sms"}, {"reason", "auth"}}), 2);
  EXPECT_EQ(Value(metrics, "forewarn_provider_faults_total", {{"channel", "sms"}, {"reason", "tls"}}), 1);
  EXPECT_EQ(Value(metrics, "forewarn_provider_faults_total", {{"channel", "sms"}, {"reason", "config"}}), 0);
  EXPECT_EQ(Value(metrics, "forewarn_ambiguous_sends_total", {{"channel", "sms"}}), 1);
  EXPECT_EQ(metrics.histogram("forewarn_provider_latency_seconds", "", {{"channel", "sms"}}, DefaultLatencyBuckets())
                .count(),
            7u);
}

// --- ProbeProvider: the start-up wait. ---

struct ProbeScript {
  FakeClock clock{absl::FromUnixSeconds(1'800'000'000)};
  std::deque<absl::Status> answers;
  int calls = 0;
  int sleeps = 0;
  absl::Status Probe() {
    ++calls;
    if (answers.empty()) return absl::UnavailableError("connection refused");
    absl::Status s = answers.front();
    answers.pop_front();
    return s;
  }
  bool Sleep(absl::Duration d) {
    ++sleeps;
    clock.Advance(d);
    return true;
  }
};

absl::Status RunProbe(ProbeScript& p, absl::Duration wait) {
  return ProbeProvider(
      "--sms-url", [&] { return p.Probe(); }, wait, p.clock, [&](absl::Duration d) { return p.Sleep(d); },
      absl::Seconds(1));
}

TEST(ProbeProvider, WaitsForAProviderThatIsComingUp) {
  ProbeScript p;
  p.answers = {absl::UnavailableError("refused"), absl::UnavailableError("refused"), absl::OkStatus()};
  EXPECT_TRUE(RunProbe(p, absl::Seconds(30)).ok());
  EXPECT_EQ(p.calls, 3);
}

TEST(ProbeProvider, GivesUpOnAnUnreachableProviderAfterTheWait) {
  ProbeScript p;
  const absl::Time start = p.clock.Now();
  const absl::Status s = RunProbe(p, absl::Milliseconds(4500));
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(p.clock.Now() - start, absl::Milliseconds(4500));  // the last sleep is cut to the deadline
  EXPECT_EQ(p.calls, 6);
  ProbeScript once;
  EXPECT_EQ(RunProbe(once, absl::ZeroDuration()).code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(once.calls, 1);
  EXPECT_EQ(once.sleeps, 0);
}

TEST(ProbeProvider, StopsAtOnceOnAConfigurationFault) {
  ProbeScript p;
  p.answers = {absl::FailedPreconditionError("server does not offer STARTTLS")};
  EXPECT_EQ(RunProbe(p, absl::Seconds(30)).code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(p.calls, 1);
  EXPECT_EQ(p.sleeps, 0);
}

TEST(ProbeProvider, StopsWhenTheProcessIsStopping) {
  ProbeScript p;
  int calls = 0;
  const absl::Status s = ProbeProvider(
      "--smtp-url",
      [&] {
        ++calls;
        return absl::UnavailableError("refused");
      },
      absl::Seconds(30), p.clock, [](absl::Duration) { return false; });
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(calls, 1);
}

}  // namespace
}  // namespace forewarn
