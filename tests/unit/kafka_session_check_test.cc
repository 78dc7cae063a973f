// The rule of the consumers' start-up session timeout check: which value a
// consumer asks for, and when the broker's range refuses it. No broker here
// (tests/integration/kafka_session_check_test.cc asks a real one).

#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/kafka/kafka_session_check.h"

namespace forewarn {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;

TEST(ConsumerSessionTimeoutMs, IsTheConfiguredTimeoutUnlessAKafkaPropOverridesIt) {
  KafkaConfig config;
  config.session_timeout = std::chrono::milliseconds(3000);
  EXPECT_EQ(*ConsumerSessionTimeoutMs(config), 3000);
  config.extra["session.timeout.ms"] = "45000";
  EXPECT_EQ(*ConsumerSessionTimeoutMs(config), 45000);
}

TEST(ConsumerSessionTimeoutMs, NamesAKafkaPropThatIsNoNumber) {
  KafkaConfig config;
  config.extra["session.timeout.ms"] = "10s";
  const auto ms = ConsumerSessionTimeoutMs(config);
  EXPECT_EQ(ms.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(ms.status().message()), HasSubstr("--kafka-prop session.timeout.ms='10s'"));
}

TEST(CheckSessionTimeoutWithin, AcceptsBothEndsOfTheRange) {
  EXPECT_TRUE(CheckSessionTimeoutWithin(6000, {6000, 1800000}, 1).ok());
  EXPECT_TRUE(CheckSessionTimeoutWithin(1800000, {6000, 1800000}, 1).ok());
}

TEST(CheckSessionTimeoutWithin, RefusesAValueOutsideNamingItTheRangeAndTheFlags) {
  for (const int64_t ms : {int64_t{5999}, int64_t{1800001}}) {
    const absl::Status s = CheckSessionTimeoutWithin(ms, {6000, 1800000}, 2);
    EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
    EXPECT_THAT(std::string(s.message()),
                AllOf(HasSubstr(absl::StrCat("session.timeout.ms ", ms, " is outside")), HasSubstr("6000..1800000"),
                      HasSubstr("group.min.session.timeout.ms and group.max.session.timeout.ms of broker 2"),
                      HasSubstr("--session-timeout-ms")));
  }
}

}  // namespace
}  // namespace forewarn
