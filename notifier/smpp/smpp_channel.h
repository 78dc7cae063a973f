#pragma once

#include <atomic>
#include <string>

#include "absl/status/statusor.h"
#include "notifier/smpp/smpp_session.h"
#include "services/core/ports.h"

namespace forewarn {

// SMS over a direct SMPP 3.4 account: each notice's text is split into
// parts (notifier/smpp/smpp_parts.h: GSM-7 or UCS-2, concatenated with an
// 8-bit-reference UDH) and submitted through a shared smpp::Session with
// registered_delivery, all parts pipelined in the session's window. Returns
// the provider id: the first part's SMSC message id (the receipts of all
// parts are combined into one per notice under that id, see
// smpp::ReceiptCombiner). Errors are the session's (SubmitNotice); a
// recipient that is not an E.164 number is INVALID_ARGUMENT without a submit.
// Thread-safe: several threads may share one channel and one session.
class SmppChannel final : public DeliveryChannel {
 public:
  // `session` is not owned and must outlive the channel. `source_addr`: the
  // sender (digits: an international number; otherwise alphanumeric, at most
  // 11 characters by convention), empty for the SMSC's default.
  SmppChannel(smpp::Session& session, std::string source_addr)
      : session_(session), source_addr_(std::move(source_addr)) {}

  absl::StatusOr<std::string> Send(const Recipient& to, const RenderedNotice& notice) override;

 private:
  smpp::Session& session_;
  const std::string source_addr_;
  std::atomic<uint32_t> reference_{0};
};

}  // namespace forewarn
