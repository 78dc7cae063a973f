#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "services/core/model.h"
#include "services/core/ports.h"

namespace forewarn {

struct HttpSmsConfig {
  std::string url;          // http(s)://gateway/path; the request is a POST
  std::string auth_header;  // a whole header line, e.g. "Authorization: Bearer X"; none when empty
  // Header carrying the notice's message id on every request (a gateway that
  // supports idempotency keys sends a retried request once); none when
  // empty. The body can carry it too ({message_id}, the default "reference").
  std::string idempotency_header = "Idempotency-Key";
  enum class Body { kJson, kForm };
  Body body = Body::kJson;  // application/json object or application/x-www-form-urlencoded
  // Body field name -> value template. Placeholders {to} (E.164), {text},
  // {message_id} and {sender} are replaced by the (JSON-escaped or
  // url-encoded) values; other text is kept. Empty: the default
  // {"to":"{to}","text":"{text}","reference":"{message_id}"}, plus
  // "sender":"{sender}" when a sender is configured. Values are strings.
  std::map<std::string, std::string> fields;
  std::string sender;  // sender id / originator
  // Top-level field of the JSON response holding the provider's message id
  // (a string or a number). The notice's message id when absent.
  std::string provider_id_field = "message_id";
  std::chrono::milliseconds timeout{5000};  // whole request, connect included
  bool verify_peer = true;                  // for https gateways
  std::string ca_file;                      // PEM bundle; system store when empty
};

// SMS through an HTTP gateway with libcurl: one POST per message, body built
// from HttpSmsConfig::fields, the message id (MessageIdFor the notice key, the
// same on every retry and after a crash) in the idempotency header. Returns
// the provider's message id.
//
// Errors follow ClassifyProviderFailure (channel_errors.h): TLS and
// certificate failures, 401/403/407 and 3xx (a wrong URL) are provider
// faults (UNAVAILABLE with a reason: every message would fail alike); 408,
// 429 (throttled), 5xx and connection failures UNAVAILABLE; other 4xx
// INVALID_ARGUMENT (permanent: the request itself is wrong); a timeout or a
// dropped connection after the request went an ambiguous send
// (DEADLINE_EXCEEDED: the gateway may have the message; the retry carries the
// same reference and idempotency key). A recipient that is not an E.164
// number is INVALID_ARGUMENT without a request. Error messages carry the
// HTTP status and the start of the response body with long digit runs
// masked; never the text or the full number.
//
// One libcurl easy handle per instance keeps the connection alive between
// sends. NOT thread-safe: use one HttpSmsChannel per sending thread.
class HttpSmsChannel final : public DeliveryChannel {
 public:
  explicit HttpSmsChannel(HttpSmsConfig config);
  ~HttpSmsChannel() override;
  HttpSmsChannel(const HttpSmsChannel&) = delete;
  HttpSmsChannel& operator=(const HttpSmsChannel&) = delete;

  // Checks a configuration at start-up: http(s) URL, header line shape,
  // idempotency header name, known placeholders. FAILED_PRECONDITION naming
  // the problem.
  static absl::Status Validate(const HttpSmsConfig& config);

  absl::StatusOr<std::string> Send(const Recipient& to, const RenderedNotice& notice) override;

  // A start-up check that sends no SMS and no request: connects to the
  // gateway's host and port and, for https, completes the TLS handshake
  // (verifying the certificate), on a connection of its own.
  // FAILED_PRECONDITION for a TLS or certificate failure (retrying cannot
  // help), UNAVAILABLE when the gateway cannot be reached (it may still be
  // starting). The message starts with the URL and names the notifier flag
  // to change. Credentials are only checked by a real send (401/403 there
  // open the circuit).
  absl::Status Probe();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace forewarn
