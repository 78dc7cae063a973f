#pragma once

// A StatusReader that reads through to another at most once per `ttl` per
// question (TtlCache): the overview once, each incident and each link once
// per ttl, whatever the request rate.

#include <string>
#include "absl/strings/string_view.h"
#include <vector>

#include "services/core/clock.h"
#include "services/status_page/status_view.h"
#include "services/status_page/ttl_cache.h"

namespace forewarn {

class CachedStatusReader final : public StatusReader {
 public:
  // `inner` and `clock` must outlive the reader.
  CachedStatusReader(StatusReader& inner, const Clock& clock, absl::Duration ttl)
      : inner_(inner), current_(clock, ttl, 1), timelines_(clock, ttl), links_(clock, ttl) {}

  // The answer of one call in the last ttl, whatever its `closed_since`
  // (a window of a day does not move noticeably in a second).
  absl::StatusOr<std::vector<StatusIncident>> Current(absl::Time closed_since) override {
    return *current_.Get("", [&] { return inner_.Current(closed_since); });
  }
  absl::StatusOr<IncidentTimeline> Timeline(absl::string_view ref) override {
    return *timelines_.Get(std::string(ref), [&] { return inner_.Timeline(ref); });
  }
  absl::StatusOr<StatusLink> Link(absl::string_view token) override {
    return *links_.Get(std::string(token), [&] { return inner_.Link(token); });
  }

 private:
  StatusReader& inner_;
  TtlCache<std::vector<StatusIncident>> current_;
  TtlCache<IncidentTimeline> timelines_;
  TtlCache<StatusLink> links_;
};

}  // namespace forewarn
