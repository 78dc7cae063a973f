#include "services/core/outbox_relay.h"

#include <algorithm>

#include "spdlog/spdlog.h"

namespace forewarn {

absl::StatusOr<int> OutboxRelay::RunOnce() {
  auto events = source_.FetchUnpublished(options_.batch_size);
  if (!events.ok()) return events.status();
  if (events->empty()) return 0;
  if (auto s = publisher_.Publish(*events); !s.ok()) return s;
  std::vector<int64_t> ids;
  ids.reserve(events->size());
  for (const auto& e : *events) ids.push_back(e.outbox_id);
  if (auto s = source_.MarkPublished(ids); !s.ok()) return s;
  return static_cast<int>(events->size());
}

void OutboxRelay::Run(const std::atomic<bool>& stop) {
  absl::Duration backoff = options_.initial_backoff;
  while (!stop.load()) {
    auto n = RunOnce();
    if (!n.ok()) {
      spdlog::warn("event=outbox_relay_error status=\"{}\" retry_in_ms={}", n.status().ToString(),
                   absl::ToInt64Milliseconds(backoff));
      absl::SleepFor(backoff);
      backoff = std::min(backoff * 2, options_.max_backoff);
      continue;
    }
    backoff = options_.initial_backoff;
    if (*n > 0) {
      spdlog::info("event=outbox_published count={}", *n);
      continue;  // more may be waiting
    }
    if (auto s = source_.WaitForNew(options_.idle_wait); !s.ok()) {
      spdlog::warn("event=outbox_wait_error status=\"{}\"", s.ToString());
      absl::SleepFor(options_.initial_backoff);
    }
  }
}

}  // namespace forewarn
