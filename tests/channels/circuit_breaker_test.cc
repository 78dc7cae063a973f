#include "notifier/delivery/circuit_breaker.h"

#include <gtest/gtest.h>

#include "absl/strings/match.h"
#include "tests/channels/scripted_provider.h"

namespace forewarn {
namespace {

using channel_testing::ScriptedProvider;

class CircuitBreakerTest : public ::testing::Test {
 protected:
  absl::Status Send() { return breaker_.Send(Recipient{}, RenderedNotice{"", "t", "", "<id>"}).status(); }
  FakeClock clock_{absl::FromUnixSeconds(1'800'000'000)};
  ScriptedProvider provider_;
  CircuitBreakerChannel breaker_{"sms-gateway", provider_, clock_,
                                 {.failure_threshold = 3, .cooldown = absl::Seconds(2),
                                  .max_cooldown = absl::Seconds(8)}};
};

TEST_F(CircuitBreakerTest, OpensAfterConsecutiveFailuresAndStopsCallingTheProvider) {
  for (int i = 0; i < 3; ++i) provider_.script.push_back(absl::UnavailableError("503"));
  for (int i = 0; i < 3; ++i) EXPECT_EQ(Send().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(breaker_.state(), CircuitBreakerChannel::State::kOpen);
  for (int i = 0; i < 10; ++i) EXPECT_EQ(Send().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(provider_.calls, 3);  // not hammered while open
}

TEST_F(CircuitBreakerTest, ProbesAfterTheCooldownAndClosesOnSuccess) {
  for (int i = 0; i < 3; ++i) provider_.script.push_back(absl::UnavailableError("503"));
  for (int i = 0; i < 3; ++i) (void)Send();
  clock_.Advance(absl::Seconds(2));
  EXPECT_EQ(breaker_.state(), CircuitBreakerChannel::State::kHalfOpen);
  EXPECT_TRUE(Send().ok());  // the probe; the provider is back
  EXPECT_EQ(breaker_.state(), CircuitBreakerChannel::State::kClosed);
  EXPECT_TRUE(Send().ok());
  EXPECT_EQ(provider_.calls, 5);
}

TEST_F(CircuitBreakerTest, AFailedProbeReopensWithALongerCooldown) {
  for (int i = 0; i < 4; ++i) provider_.script.push_back(absl::UnavailableError("503"));
  for (int i = 0; i < 3; ++i) (void)Send();
  clock_.Advance(absl::Seconds(2));
  EXPECT_EQ(Send().code(), absl::StatusCode::kUnavailable);  // probe fails
  clock_.Advance(absl::Seconds(2));
  EXPECT_EQ(breaker_.state(), CircuitBreakerChannel::State::kOpen);  // now 4 s
  clock_.Advance(absl::Seconds(2));
  EXPECT_EQ(breaker_.state(), CircuitBreakerChannel::State::kHalfOpen);
}

TEST_F(CircuitBreakerTest, PermanentErrorsDoNotOpenTheCircuit) {
  for (int i = 0; i < 5; ++i) provider_.script.push_back(absl::InvalidArgumentError("bad number"));
  for (int i = 0; i < 5; ++i) EXPECT_EQ(Send().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(breaker_.state(), CircuitBreakerChannel::State::kClosed);
  EXPECT_EQ(provider_.calls, 5);
}

TEST_F(CircuitBreakerTest, AProviderFaultOpensAtOnceAndPausesTheNoticeInsteadOfFailingIt) {
  provider_.script.push_back(ProviderFaultError("auth", "sms: send to +9665*****678 failed: HTTP 401"));
  const absl::Status first = Send();
  // The notice that met the fault keeps its attempts: it waits with its batch.
  EXPECT_TRUE(IsProviderPaused(first)) << first;
  EXPECT_TRUE(absl::StrContains(first.message(), "auth")) << first;
  EXPECT_TRUE(absl::StrContains(first.message(), "HTTP 401")) << first;
  EXPECT_EQ(breaker_.state(), CircuitBreakerChannel::State::kOpen);  // after one call, not three
  EXPECT_EQ(breaker_.fault_reason(), "auth");
  for (int i = 0; i < 5; ++i) {
    const absl::Status paused = Send();
    EXPECT_TRUE(IsProviderPaused(paused)) << paused;
    EXPECT_TRUE(absl::StrContains(paused.message(), "provider fault (auth)")) << paused;
  }
  EXPECT_EQ(provider_.calls, 1);  // nothing attempted while open
}

TEST_F(CircuitBreakerTest, AFaultLastsUntilTheProviderAnswersAgain) {
  provider_.script = {ProviderFaultError("tls", "certificate expired"), ProviderFaultError("tls", "still expired"),
                      absl::UnavailableError("503 while restarting")};
  (void)Send();
  clock_.Advance(absl::Seconds(2));
  EXPECT_TRUE(IsProviderPaused(Send()));  // the probe meets the fault again: 4 s now
  EXPECT_EQ(breaker_.fault_reason(), "tls");
  clock_.Advance(absl::Seconds(2));
  EXPECT_EQ(breaker_.state(), CircuitBreakerChannel::State::kOpen);
  clock_.Advance(absl::Seconds(2));
  EXPECT_FALSE(IsProviderPaused(Send()));  // an ordinary failure: returned as is
  EXPECT_EQ(breaker_.fault_reason(), "tls") << "not known to be fixed yet";
  clock_.Advance(absl::Seconds(8));
  EXPECT_TRUE(Send().ok());  // fixed
  EXPECT_EQ(breaker_.state(), CircuitBreakerChannel::State::kClosed);
  EXPECT_EQ(breaker_.fault_reason(), "");
  EXPECT_EQ(provider_.calls, 4);
}

TEST_F(CircuitBreakerTest, OrdinaryFailuresOpenWithoutAFaultReason) {
  for (int i = 0; i < 3; ++i) provider_.script.push_back(AmbiguousSendError("timeout after the request"));
  for (int i = 0; i < 3; ++i) {
    const absl::Status s = Send();
    EXPECT_TRUE(IsAmbiguousSend(s)) << s;  // passed through: the notice is retried with its own id
  }
  EXPECT_EQ(breaker_.state(), CircuitBreakerChannel::State::kOpen);
  EXPECT_EQ(breaker_.fault_reason(), "");
}

TEST_F(CircuitBreakerTest, ASuccessResetsTheFailureCount) {
  provider_.script = {absl::UnavailableError("a"), absl::UnavailableError("b"), absl::OkStatus(),
                      absl::UnavailableError("c"), absl::UnavailableError("d")};
  for (int i = 0; i < 5; ++i) (void)Send();
  EXPECT_EQ(breaker_.state(), CircuitBreakerChannel::State::kClosed);
}

}  // namespace
}  // namespace forewarn
