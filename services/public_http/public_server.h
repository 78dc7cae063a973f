#pragma once

// forewarn-intake's public HTTP endpoint (--public-listen), the one part of
// Forewarn that customers' mail programs and the SMS gateway reach, apart
// from the metrics listener:
//
//   GET  /u/{token}    a page "Stop these emails?" with a button; never
//                      changes anything (mail scanners fetch links)
//   POST /u/{token}    RFC 8058 one-click unsubscribe: body
//                      List-Unsubscribe=One-Click (form-urlencoded or
//                      multipart/form-data); turns the token's channel off
//                      for its category. 200 (again 200 when repeated),
//                      404 for a token that is not ours, 409 when the policy
//                      does not let these notices be turned off, 400 without
//                      the One-Click field, 503 when it could not be saved
//   POST /sms/inbound  the SMS gateway's webhook for messages customers
//                      send: form from=...&text=... or JSON {"from","text"},
//                      authenticated by a shared secret (?key=SECRET or
//                      "Authorization: Bearer SECRET"; otherwise 401).
//                      STOP / إيقاف turns SMS off, START / بدء on again
//                      (CustomerDirectoryService::SetSmsByPhone); 200 with a
//                      reply for the gateway to relay (empty when the text
//                      is no command), the same whether or not the number is
//                      a customer's; 503 when it could not be saved
//   GET  /receipts/kannel  Kannel's delivery reports (dlr-url), and
//   POST /receipts         the generic JSON form (receipt_requests.h):
//                      signed (the dlr-url's sig of the message id; the
//                      body's signature in X-Forewarn-Signature), else 401
//                      and counted; 400 naming the field; 200 with what the
//                      receipts did (the same receipt twice: a duplicate,
//                      nothing changes), 503 when it could not be saved.
//                      404 without --receipt-secret-file.
//
// Requests: bodies up to 64 KiB (413 beyond), read and write timeouts, one
// request per connection;
// everything else 404 (405 for another method on a known path). Pages are
// served with no-store, no-referrer (the token is in the address) and a
// content security policy that allows no scripts. Metrics:
// forewarn_unsubscribes_total{category,outcome}, forewarn_unsubscribe_invalid_tokens_total,
// forewarn_inbound_sms_total{keyword}, forewarn_public_auth_refused_total{route},
// forewarn_receipts_total{source,status}, forewarn_receipt_outcomes_total{outcome}.
// Phones are masked in logs.

#include <cstddef>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "services/core/clock.h"
#include "services/core/receipts.h"
#include "services/directory/directory_service.h"
#include "services/directory/unsubscribe_token.h"
#include "services/http/metrics.h"

namespace forewarn {

struct PublicHttpOptions {
  std::string listen = "127.0.0.1:0";  // "host:port", "[v6]:port" or ":port"
  size_t max_body_bytes = 64 * 1024;
  absl::Duration read_timeout = absl::Seconds(10);
  absl::Duration write_timeout = absl::Seconds(10);
  int threads = 16;
  // The gateway's shared secret; empty: /sms/inbound answers 404.
  std::string inbound_sms_secret;
};

// Delivery receipts: where they are recorded and the key that signs their
// callbacks; the routes answer 404 unless all are set.
struct PublicReceipts {
  ReceiptStore* store = nullptr;
  const ReceiptSigner* signer = nullptr;
  const Clock* clock = nullptr;
};

class PublicHttpServer {
 public:
  // Binds and starts serving on its own threads. `tokens` may be null (the
  // /u/ routes then answer 404). `tokens`, `directory` and `metrics` must
  // outlive the server. INVALID_ARGUMENT for a malformed address,
  // UNAVAILABLE when it cannot be bound.
  static absl::StatusOr<std::unique_ptr<PublicHttpServer>> Start(const PublicHttpOptions& options,
                                                                 const UnsubscribeTokens* tokens,
                                                                 CustomerDirectoryService& directory,
                                                                 MetricsRegistry& metrics,
                                                                 PublicReceipts receipts = {});
  ~PublicHttpServer();  // Stop()s
  PublicHttpServer(const PublicHttpServer&) = delete;
  PublicHttpServer& operator=(const PublicHttpServer&) = delete;

  int port() const;
  // Stops accepting, waits for requests in flight; idempotent.
  void Stop();

 private:
  struct Impl;
  explicit PublicHttpServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Reads a shared secret from a file (surrounding whitespace trimmed):
// FAILED_PRECONDITION naming `flag` and the file when it cannot be read or
// holds fewer than 16 bytes.
absl::StatusOr<std::string> ReadSharedSecret(const char* flag, const std::string& path);

}  // namespace forewarn
