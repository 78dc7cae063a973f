#include "services/kafka/kafka_session_check.h"

#include <map>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "services/kafka/kafka_topic_admin.h"
#include "spdlog/spdlog.h"

namespace forewarn {
namespace {

constexpr char kSessionTimeout[] = "session.timeout.ms";
constexpr char kMinSetting[] = "group.min.session.timeout.ms";
constexpr char kMaxSetting[] = "group.max.session.timeout.ms";

absl::StatusOr<int64_t> BrokerSetting(const std::map<std::string, std::string>& values, const char* name,
                                      int32_t broker_id) {
  int64_t out = 0;
  const auto it = values.find(name);
  if (it == values.end() || !absl::SimpleAtoi(it->second, &out)) {
    return absl::UnimplementedError(absl::StrCat("kafka broker ", broker_id, " does not report ", name));
  }
  return out;
}

}  // namespace

absl::StatusOr<int64_t> ConsumerSessionTimeoutMs(const KafkaConfig& config) {
  const auto it = config.extra.find(kSessionTimeout);
  if (it == config.extra.end()) return static_cast<int64_t>(config.session_timeout.count());
  int64_t ms = 0;
  if (!absl::SimpleAtoi(it->second, &ms)) {
    return absl::InvalidArgumentError(absl::StrCat("--kafka-prop ", kSessionTimeout, "='", it->second,
                                                   "': expected a number of milliseconds"));
  }
  return ms;
}

absl::Status CheckSessionTimeoutWithin(int64_t session_ms, const SessionTimeoutBounds& bounds, int32_t broker_id) {
  if (session_ms >= bounds.min_ms && session_ms <= bounds.max_ms) return absl::OkStatus();
  return absl::FailedPreconditionError(absl::StrCat(
      "kafka consumer session.timeout.ms ", session_ms, " is outside the range the broker accepts, ", bounds.min_ms,
      "..", bounds.max_ms, " (", kMinSetting, " and ", kMaxSetting, " of broker ", broker_id,
      "); its group coordinator would refuse every join (INVALID_SESSION_TIMEOUT) and this service would never get "
      "a partition: choose --session-timeout-ms (or --kafka-prop session.timeout.ms) within the range, or change the "
      "broker's settings"));
}

absl::Status CheckSessionTimeout(const KafkaConfig& config, const std::atomic<bool>& stop, absl::Duration wait) {
  auto session_ms = ConsumerSessionTimeoutMs(config);
  if (!session_ms.ok()) return session_ms.status();
  auto admin = KafkaTopicAdmin::Create(config);
  if (!admin.ok()) return admin.status();
  if (auto s = (*admin)->WaitUntilReachable(wait, stop); !s.ok()) return s;
  auto broker = (*admin)->DescribeBrokerConfig(absl::Seconds(10));
  if (!broker.ok()) return broker.status();
  SessionTimeoutBounds bounds;
  for (auto [name, field] : {std::pair{kMinSetting, &bounds.min_ms}, std::pair{kMaxSetting, &bounds.max_ms}}) {
    auto value = BrokerSetting(broker->values, name, broker->broker_id);
    if (!value.ok()) return value.status();
    *field = *value;
  }
  return CheckSessionTimeoutWithin(*session_ms, bounds, broker->broker_id);
}

int RequireSessionTimeoutAccepted(const KafkaConfig& config, const std::atomic<bool>& stop) {
  const absl::Status s = CheckSessionTimeout(config, stop, absl::Seconds(60));
  if (s.ok()) {
    spdlog::info("event=kafka_session_timeout_accepted session_timeout_ms={}", *ConsumerSessionTimeoutMs(config));
    return 0;
  }
  const bool configuration = absl::IsFailedPrecondition(s) || absl::IsInvalidArgument(s) || absl::IsUnauthenticated(s);
  if (!configuration && !absl::IsCancelled(s)) {
    // Not verifiable now; the broker still enforces its range at join time.
    spdlog::warn("event=kafka_session_timeout_unverified reason=\"{}\"", s.ToString());
    return 0;
  }
  spdlog::error("event=startup_failed status=\"{}\"", s.ToString());
  return configuration ? 2 : 1;
}

}  // namespace forewarn
