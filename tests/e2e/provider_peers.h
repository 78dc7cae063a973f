#pragma once

// Real delivery providers for failure tests: the SMTP server and the HTTP SMS
// gateway of tests/channels, each counting every message it receives, raw
// (neither dedupes), by message id, and answering after a small random delay.

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "tests/support/process.h"

namespace forewarn::testing {

// What the providers received.
struct ProviderCounts {
  int64_t smtp_messages = 0;
  int64_t sms_requests = 0;
  // Messages per message id: the SMTP Message-ID header and the SMS body's
  // message id field; the ids name their channel, so they never collide.
  std::map<std::string, int64_t> by_message_id;
  int64_t without_message_id = 0;
  // SMS requests per idempotency header value (none today: issue 12).
  std::map<std::string, int64_t> by_idempotency_key;
  int64_t without_idempotency_key = 0;

  int64_t raw() const { return smtp_messages + sms_requests; }
  // Messages beyond the first per message id.
  int64_t duplicates() const;
  // Requests beyond the first per idempotency key.
  int64_t idempotency_key_duplicates() const;
};

class ProviderPeers {
 public:
  struct Options {
    std::string delay_ms = "1-5";  // MIN-MAX milliseconds before each answer
    std::string sms_id_field = "reference";
    std::string idempotency_header = "Idempotency-Key";
  };
  // Starts both peers with their files in `dir`.
  absl::Status Start(const std::string& dir, const Options& options);
  // SIGTERM: each peer writes its final counts, then exits.
  void Stop();
  ~ProviderPeers() { Stop(); }

  // Notifier flags that deliver email and SMS to these peers (the SMS body
  // carries the message id in options.sms_id_field).
  std::vector<std::string> NotifierArgs() const;
  // The counts last written (final once Stop() returned).
  absl::StatusOr<ProviderCounts> Read() const;

 private:
  std::string dir_;
  Options options_;
  int smtp_port_ = 0, sms_port_ = 0;
  std::unique_ptr<ChildProcess> smtp_, sms_;
};

}  // namespace forewarn::testing
