#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "services/core/model.h"
#include "services/core/ports.h"
#include "services/core/receipts.h"

namespace forewarn {

struct KannelSmsConfig {
  std::string sendsms_url;  // Kannel smsbox's sendsms, http(s)://host:port/cgi-bin/sendsms
  std::string username;     // a sendsms-user of Kannel's
  std::string password;
  std::string sender = "Forewarn";  // "from"
  // Forewarn's public receipt endpoint, http(s)://host:port[/prefix]: Kannel
  // calls <receipt_url>/receipts/kannel?ref=...&sig=...&type=%d&at=%T&reply=%A.
  std::string receipt_url;
  // Kannel's dlr-mask: delivered (1) + failed (2) + SMSC reject (16).
  int dlr_mask = 19;
  std::chrono::milliseconds timeout{5000};  // whole request, connect included
  bool verify_peer = true;                  // for an https sendsms
  std::string ca_file;                      // PEM bundle; system store when empty
};

// SMS through Kannel's HTTP sendsms interface (a GET with the parameters in
// the query): the text as UTF-8 (charset=UTF-8), coding=2 (UCS-2) when it
// does not fit the GSM 7-bit alphabet (Arabic), Kannel splitting a long text
// into concatenated parts; a delivery report asked for (dlr-mask) with a
// dlr-url that carries the notice's message id and its ReceiptSigner
// signature, so the receipt endpoint can tell a forged callback.
//
// Kannel's answers: 202 ("Accepted for delivery", "Queued for later
// delivery") is a success and returns the notice's own message id (Kannel
// gives none; receipts come back by the dlr-url's ref). Failures follow
// ClassifyProviderFailure: 403 (wrong sendsms user or password) is a provider
// fault ("auth"), 503 and connection failures UNAVAILABLE, other 4xx
// INVALID_ARGUMENT, no answer after the request went an ambiguous send. A
// recipient that is not E.164, or a message id that is not printable ASCII
// (Kannel would read "%X" in it as its own escapes), is INVALID_ARGUMENT
// without a request. Messages carry no number (masked), text or password.
//
// NOT thread-safe: one KannelSmsChannel per sending thread.
class KannelSmsChannel final : public DeliveryChannel {
 public:
  KannelSmsChannel(KannelSmsConfig config, ReceiptSigner signer);
  ~KannelSmsChannel() override;
  KannelSmsChannel(const KannelSmsChannel&) = delete;
  KannelSmsChannel& operator=(const KannelSmsChannel&) = delete;

  // Checks a configuration at start-up: http(s) URLs with a host, a user,
  // a password, a sender, a dlr-mask within 1..31. FAILED_PRECONDITION
  // naming the problem.
  static absl::Status Validate(const KannelSmsConfig& config);

  // The dlr-url Kannel is given for `message_id` (Kannel's %d, %T and %A
  // still in it).
  static std::string DlrUrl(std::string_view receipt_url, std::string_view message_id, const ReceiptSigner& signer);

  absl::StatusOr<std::string> Send(const Recipient& to, const RenderedNotice& notice) override;

  // A start-up check that sends no SMS: connects (TCP, TLS) like
  // HttpSmsChannel::Probe, then asks sendsms with the credentials and no
  // recipient: a 403 there is FAILED_PRECONDITION naming --kannel-user and
  // --kannel-password-file; Kannel's refusal of the missing recipient means
  // the credentials were accepted. UNAVAILABLE when Kannel cannot be reached.
  absl::Status Probe();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace forewarn
