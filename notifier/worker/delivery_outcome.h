#pragma once

#include "absl/status/status.h"

namespace forewarn {

// What becomes of a notice after one delivery attempt. One rule, in one
// place: the worker acts on it, the table test pins it.
enum class Disposition {
  kSent,          // the provider accepted it
  kRetryInPlace,  // transient and not counted: left in flight, the batch is retried
  kRetryLater,    // transient: to the retry topic after a backoff (an attempt used)
  kDeadLetter,    // transient, but out of attempts: to the dead-letter topic
  kFailed,        // permanent for this address (an SMS may fall back to email)
};

struct DeliveryContext {
  bool has_requeue = false;  // a retry topic is configured
  int attempt = 0;           // the job's failed attempts before this one
  int max_attempts = 5;
};

// `result` is the channel's answer (OK: accepted). A provider whose circuit
// is open was not attempted (IsProviderPaused): that costs no attempt, and
// neither does a transient failure without a retry topic.
Disposition Classify(const absl::Status& result, const DeliveryContext& context);

}  // namespace forewarn
