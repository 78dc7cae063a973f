#include "notifier/delivery/circuit_breaker.h"

#include <gtest/gtest.h>

#include <deque>

namespace forewarn {
namespace {

// A provider whose answers are scripted; counts the calls that reach it.
class ScriptedProvider : public DeliveryChannel {
 public:
  absl::StatusOr<std::string> Send(const Recipient&, const RenderedNotice& n) override {
    ++calls;
    if (script.empty()) return n.message_id;
    auto s = script.front();
    script.pop_front();
    if (!s.ok()) return s;
    return n.message_id;
  }
  std::deque<absl::Status> script;
  int calls = 0;
};

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

TEST_F(CircuitBreakerTest, ASuccessResetsTheFailureCount) {
  provider_.script = {absl::UnavailableError("a"), absl::UnavailableError("b"), absl::OkStatus(),
                      absl::UnavailableError("c"), absl::UnavailableError("d")};
  for (int i = 0; i < 5; ++i) (void)Send();
  EXPECT_EQ(breaker_.state(), CircuitBreakerChannel::State::kClosed);
}

}  // namespace
}  // namespace forewarn
