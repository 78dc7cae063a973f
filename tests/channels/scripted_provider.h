#pragma once

// A delivery provider whose answers are scripted, for the tests of the
// channel decorators.

#include <deque>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "services/core/ports.h"

namespace forewarn::channel_testing {

// Answers each Send with the next scripted status (the notice's message id
// for an OK one, and once the script is used up); counts the calls that reach it.
class ScriptedProvider : public DeliveryChannel {
 public:
  absl::StatusOr<std::string> Send(const Recipient&, const RenderedNotice& n) override {
    ++calls;
    if (script.empty()) return n.message_id;
    absl::Status s = script.front();
    script.pop_front();
    if (!s.ok()) return s;
    return n.message_id;
  }
  std::deque<absl::Status> script;
  int calls = 0;
};

}  // namespace forewarn::channel_testing
