#pragma once

#include "absl/status/statusor.h"
#include "services/core/ports.h"

namespace forewarn {

// Turns one incident event into one notice job per affected customer and
// channel. Streams the audience; memory does not grow with its size.
// Idempotent: re-handling an event re-enqueues the same jobs, which the
// notice ledger deduplicates.
class Resolver {
 public:
  Resolver(IncidentReader& incidents, AudienceSource& audience, NoticeSink& sink)
      : incidents_(incidents), audience_(audience), sink_(sink) {}

  // Returns the number of jobs enqueued (and acknowledged by the sink).
  absl::StatusOr<int64_t> Handle(const IncidentEvent& event);

 private:
  IncidentReader& incidents_;
  AudienceSource& audience_;
  NoticeSink& sink_;
};

}  // namespace forewarn
