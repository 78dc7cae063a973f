#include "notifier/worker/delivery_outcome.h"

#include "services/core/ports.h"

namespace forewarn {

Disposition Classify(const absl::Status& result, const DeliveryContext& context) {
  if (result.ok()) return Disposition::kSent;
  if (!IsRetryable(result)) return Disposition::kFailed;
  if (!context.has_requeue || IsProviderPaused(result)) return Disposition::kRetryInPlace;
  return context.attempt + 1 >= context.max_attempts ? Disposition::kDeadLetter : Disposition::kRetryLater;
}

}  // namespace forewarn
