#pragma once

#include <set>
#include <string>
#include <vector>

#include "services/core/ports.h"

namespace forewarn {

// The base of every DeliveryChannel decorator: Flush and Delivered go to
// `inner` unchanged, Send too unless the decorator overrides it (calling
// ForwardingChannel::Send or inner() for the delivery itself). `inner` is
// not owned and must outlive the decorator; thread-safety is `inner`'s.
class ForwardingChannel : public DeliveryChannel {
 public:
  explicit ForwardingChannel(DeliveryChannel& inner) : inner_(inner) {}

  absl::StatusOr<std::string> Send(const Recipient& to, const RenderedNotice& notice) override {
    return inner_.Send(to, notice);
  }
  absl::Status Flush() override { return inner_.Flush(); }
  absl::StatusOr<std::set<std::string>> Delivered(const std::vector<std::string>& message_ids) override {
    return inner_.Delivered(message_ids);
  }

 protected:
  DeliveryChannel& inner() { return inner_; }

 private:
  DeliveryChannel& inner_;
};

}  // namespace forewarn
