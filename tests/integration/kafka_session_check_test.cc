// The consumers' start-up session timeout check against the broker the test
// command started (FOREWARN_TEST_KAFKA). scripts/kafka.sh sets
// group.min.session.timeout.ms to 1000 and leaves group.max.session.timeout.ms
// at Kafka's default, 1800000. librdkafka's mock cluster (--kafka mock)
// describes no configuration: there the check reports UNIMPLEMENTED.

#include <atomic>
#include <cstdlib>
#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/kafka/kafka_session_check.h"
#include "services/kafka/kafka_topic_admin.h"

namespace forewarn {
namespace {

using ::testing::HasSubstr;

class KafkaSessionCheckTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* bootstrap = std::getenv("FOREWARN_TEST_KAFKA");
    if (bootstrap == nullptr || *bootstrap == '\0') GTEST_SKIP() << "FOREWARN_TEST_KAFKA not set (run scripts/test.sh)";
    config_.bootstrap_servers = bootstrap;
    config_.client_id = "forewarn-session-check-test";
    config_.session_timeout = std::chrono::milliseconds(3000);
    const absl::Status probe = CheckSessionTimeout(config_, never_, absl::Seconds(30));
    if (absl::IsUnimplemented(probe)) GTEST_SKIP() << "the broker describes no configuration: " << probe;
  }

  KafkaConfig config_;
  std::atomic<bool> never_{false};
};

TEST_F(KafkaSessionCheckTest, TheBrokerReportsItsSessionTimeoutRange) {
  auto admin = KafkaTopicAdmin::Create(config_);
  ASSERT_TRUE(admin.ok()) << admin.status();
  auto broker = (*admin)->DescribeBrokerConfig(absl::Seconds(30));
  ASSERT_TRUE(broker.ok()) << broker.status();
  EXPECT_GE(broker->broker_id, 1);
  EXPECT_EQ(broker->values["group.min.session.timeout.ms"], "1000");
  EXPECT_EQ(broker->values["group.max.session.timeout.ms"], "1800000");
}

TEST_F(KafkaSessionCheckTest, AcceptsATimeoutWithinTheBrokersRange) {
  for (const int ms : {1000, 3000, 45000, 1800000}) {
    config_.session_timeout = std::chrono::milliseconds(ms);
    EXPECT_TRUE(CheckSessionTimeout(config_, never_, absl::Seconds(30)).ok()) << ms;
  }
}

TEST_F(KafkaSessionCheckTest, RefusesATimeoutBelowOrAboveTheBrokersRange) {
  for (const int ms : {999, 1800001}) {
    config_.session_timeout = std::chrono::milliseconds(ms);
    const absl::Status s = CheckSessionTimeout(config_, never_, absl::Seconds(30));
    EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition) << s;
    EXPECT_THAT(std::string(s.message()), HasSubstr(absl::StrCat("session.timeout.ms ", ms, " is outside the range "
                                                                 "the broker accepts, 1000..1800000")));
  }
}

TEST_F(KafkaSessionCheckTest, AKafkaPropSessionTimeoutIsTheOneChecked) {
  config_.extra["session.timeout.ms"] = "500";
  EXPECT_EQ(CheckSessionTimeout(config_, never_, absl::Seconds(30)).code(), absl::StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace forewarn
