#pragma once

// A consumer's session.timeout.ms must lie within the broker's
// group.min.session.timeout.ms .. group.max.session.timeout.ms, or the group
// coordinator refuses every JoinGroup (INVALID_SESSION_TIMEOUT) and the
// consumer never gets a partition: a stream of errors, not a failure. The
// consumer services check it at start-up instead.

#include <atomic>
#include <cstdint>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "services/kafka/kafka_config.h"

namespace forewarn {

// The session.timeout.ms a consumer built from `config` asks for: a
// --kafka-prop session.timeout.ms when given (it wins), else
// config.session_timeout. INVALID_ARGUMENT when the property is no integer.
absl::StatusOr<int64_t> ConsumerSessionTimeoutMs(const KafkaConfig& config);

// The broker's accepted range, inclusive.
struct SessionTimeoutBounds {
  int64_t min_ms = 0;
  int64_t max_ms = 0;
};

// OK when `session_ms` lies within `bounds`; else FAILED_PRECONDITION naming
// the value, the range, the broker settings and the flags that change it.
absl::Status CheckSessionTimeoutWithin(int64_t session_ms, const SessionTimeoutBounds& bounds, int32_t broker_id);

// Waits up to `wait` for a broker, reads its group.min/max.session.timeout.ms
// (Admin API DescribeConfigs) and checks the consumer's session timeout.
// FAILED_PRECONDITION when outside; UNIMPLEMENTED when the broker does not
// describe its configuration (librdkafka's mock cluster) and
// PERMISSION_DENIED when this principal may not: both leave it unverified.
// UNAVAILABLE when no broker answered; CANCELLED when `stop` was set.
absl::Status CheckSessionTimeout(const KafkaConfig& config, const std::atomic<bool>& stop, absl::Duration wait);

// CheckSessionTimeout for a consumer service's main() (after RequireTopics),
// with a 60 s wait for the broker. Logs the outcome
// (event=kafka_session_timeout_accepted, event=kafka_session_timeout_unverified
// with the reason, or event=startup_failed) and returns the process exit
// code: 2 when outside the broker's range, malformed, or the credentials are
// refused; 1 when the service was stopped; else 0 — a check that cannot be
// made (no DescribeConfigs, not authorised, no answer in time) does not stop
// the service.
int RequireSessionTimeoutAccepted(const KafkaConfig& config, const std::atomic<bool>& stop);

}  // namespace forewarn
