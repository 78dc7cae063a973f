#pragma once

#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace forewarn {

// How a provider call over libcurl ended, in the terms the rule below needs.
struct ProviderCallResult {
  enum class Protocol { kSmtp, kHttp };
  Protocol protocol = Protocol::kHttp;
  int curl_code = 0;  // CURLcode; 0 (CURLE_OK) when the transfer completed
  // The provider's last reply: the SMTP reply code or the HTTP status; 0
  // when none came. An SMTP reply below 400 is an intermediate one (250,
  // 354), not an answer to the message.
  long reply = 0;
  // The whole request left for the provider (HTTP: the request was written;
  // SMTP: the message after DATA was handed over). A failure after that
  // without a final answer leaves the outcome unknown.
  bool request_sent = false;
  // Human-readable detail (curl's error text, the response's start), already
  // free of personal data.
  std::string detail;
};

// The one rule that turns a failed provider call into a status (a successful
// one never comes here). In order, first match wins:
//
//   | outcome                                                   | status                         |
//   |-----------------------------------------------------------|--------------------------------|
//   | TLS handshake, certificate, STARTTLS not offered          | ProviderFaultError("tls")      |
//   | login refused; SMTP 530/534/535/538; HTTP 401/403/407     | ProviderFaultError("auth")     |
//   | malformed URL, unsupported scheme; HTTP 3xx redirect      | ProviderFaultError("config")   |
//   | SMTP 4xx; HTTP 408, 429, 5xx                              | UNAVAILABLE (retry later)      |
//   | SMTP 5xx (other)                                          | FAILED_PRECONDITION (permanent)|
//   | HTTP 4xx (other)                                          | INVALID_ARGUMENT (permanent)   |
//   | no final answer after the request was sent (timeout,      | AmbiguousSendError             |
//   |   connection dropped)                                     |   (DEADLINE_EXCEEDED)          |
//   | no answer before it was sent (refused, DNS, timeout)      | UNAVAILABLE                    |
//
// Provider faults fail every notice alike until the set-up is fixed: the
// circuit breaker opens on them at once (nothing is attempted, no attempt is
// used up) and readiness goes false. The message is `prefix` followed by the
// detail and the reply code.
absl::Status ClassifyProviderFailure(const ProviderCallResult& result, std::string_view prefix);

// A provider URL fit for messages and logs: user information (credentials)
// removed, "smtp://user:pw@host:25" -> "smtp://host:25".
std::string UrlForMessages(std::string_view url);

}  // namespace forewarn
