#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "services/core/clock.h"
#include "services/core/model.h"
#include "services/core/ports.h"

namespace forewarn {

struct SmtpConfig {
  // smtp://host:port (plain, or STARTTLS when tls = kStartTls) or
  // smtps://host:port (implicit TLS; requires tls = kImplicit). With
  // tls = kImplicit an smtp:// URL (or a bare host:port) is sent as smtps://.
  std::string url;
  enum class Tls { kNone, kStartTls, kImplicit };
  Tls tls = Tls::kStartTls;
  // AUTH (PLAIN/LOGIN/…, whatever the server offers) when username is set.
  std::string username;
  std::string password;
  std::string from_address;                  // envelope sender and From address
  std::string from_name;                     // From display name; RFC 2047 encoded when not ASCII
  std::chrono::milliseconds timeout{10000};  // whole transaction, connect included
  bool verify_peer = true;                   // TLS certificate and host name
  std::string ca_file;                       // PEM bundle; system store when empty
};

// Email over SMTP with libcurl. Each Send is one SMTP transaction (MAIL FROM,
// RCPT TO, DATA) carrying a MIME message built here:
//   From / To with RFC 2047 (UTF-8, "B") display names, Subject as RFC 2047
//   encoded-words (each ≤ 75 chars, split on character boundaries), Date
//   (from the injected clock), Message-ID = notice.message_id (MessageIdFor
//   the notice key: nothing else goes into it, so a resend after a crash or a
//   retry carries the same one), MIME-Version, Auto-Submitted; with
//   notice.unsubscribe_url, List-Unsubscribe: <URL> and List-Unsubscribe-Post:
//   List-Unsubscribe=One-Click (RFC 8058; the relay's DKIM signature should
//   cover both); a
//   multipart/alternative body with text/plain and text/html parts (only
//   text/plain when html is empty), UTF-8, base64 with 76-char lines; CRLF.
// Returns notice.message_id as the provider id.
//
// Errors follow ClassifyProviderFailure (channel_errors.h): TLS and
// certificate failures, STARTTLS not offered, AUTH refused (530/534/535/538)
// are provider faults (UNAVAILABLE with a reason); other 4xx replies and
// connection failures UNAVAILABLE; other 5xx replies FAILED_PRECONDITION
// (permanent); the connection lost or timed out after the message went
// (before the server's final reply) an ambiguous send. A recipient address
// that cannot be an email address, or a notice without a message id, is
// INVALID_ARGUMENT without a connection; an unusable configuration (bad URL,
// unsupported scheme) is FAILED_PRECONDITION. The message carries the
// server's reply code and curl's error text; addresses are masked.
//
// One libcurl easy handle per instance keeps the connection open between
// sends. NOT thread-safe: use one SmtpChannel per sending thread.
class SmtpChannel final : public DeliveryChannel {
 public:
  SmtpChannel(SmtpConfig config, const Clock& clock);
  ~SmtpChannel() override;
  SmtpChannel(const SmtpChannel&) = delete;
  SmtpChannel& operator=(const SmtpChannel&) = delete;

  // Checks a configuration at start-up: URL scheme and host, from address.
  static absl::Status Validate(const SmtpConfig& config);

  absl::StatusOr<std::string> Send(const Recipient& to, const RenderedNotice& notice) override;

  // A start-up check that sends nothing: connects, greets (EHLO), upgrades
  // with STARTTLS or starts in TLS as configured (verifying the certificate),
  // authenticates when credentials are set, and sends NOOP, on a connection
  // of its own. FAILED_PRECONDITION when the set-up is wrong (no STARTTLS,
  // TLS handshake or certificate, authentication refused, a 5xx reply):
  // retrying cannot help; UNAVAILABLE when the server cannot be reached (it
  // may still be starting). The message starts with the URL (credentials
  // removed) and names the notifier flag to change.
  absl::Status Probe();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The MIME message SmtpChannel sends (exposed for tests): headers and body
// with CRLF line endings, ready for DATA (dot-stuffing is libcurl's job).
std::string BuildMimeMessage(const SmtpConfig& config, const Recipient& to, const RenderedNotice& notice,
                             absl::Time now);

// `utf8` as RFC 2047 encoded-words ("=?UTF-8?B?...?="), each at most 75
// characters, never splitting a UTF-8 character, joined by CRLF SP (folding).
// The first word is shortened so that a header line starting with
// `first_line_used` characters ("Subject: " = 9) stays within 76 characters.
std::string EncodeRfc2047(std::string_view utf8, size_t first_line_used = 0);

}  // namespace forewarn
