#pragma once

// Internal to the channels: only .cc files in notifier/channels include this.
// What the HTTP SMS channels (HttpSmsChannel, KannelSmsChannel) share: one
// libcurl handle per channel, its send limit, the answer read, a failure
// classified, and the start-up probe.

#include <curl/curl.h>

#include <chrono>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "notifier/channels/send_timeout.h"

namespace forewarn {

struct HttpEndpoint {
  std::string url;  // http(s)://host[:port]/path: where the probe connects, the default request URL
  std::chrono::milliseconds timeout{5000};  // whole request, connect included
  bool verify_peer = true;
  std::string ca_file;  // PEM bundle; the system's CAs when empty
  std::string ca_flag;  // the flag that sets ca_file, named in TLS errors
};

struct HttpReply {
  long status = 0;
  std::string body;  // at most the first 64 KiB
};

// One libcurl easy handle (the connection stays alive between requests), its
// SendTimeout and connection options. NOT thread-safe.
class HttpExchange {
 public:
  explicit HttpExchange(HttpEndpoint endpoint);
  ~HttpExchange();
  HttpExchange(const HttpExchange&) = delete;
  HttpExchange& operator=(const HttpExchange&) = delete;

  // UNAVAILABLE when libcurl cannot make a handle; Perform repeats it.
  const absl::Status& status() const { return status_; }
  // For the request's own options (method, body, headers).
  CURL* handle() { return curl_; }

  // Performs the request set on handle() at `url` (empty: the endpoint's).
  // A 2xx answer is returned; anything else is ClassifyProviderFailure's
  // status (channel_errors.h) with the message `error_prefix` + detail
  // (curl's error or the answer's start, digit runs masked). `url` may carry
  // credentials: it never appears in a message.
  absl::StatusOr<HttpReply> Perform(std::string_view error_prefix, const std::string& url = "");

  // A start-up check that sends no request: connects to the endpoint's host
  // and port and, for https, completes the TLS handshake, on a connection of
  // its own. FAILED_PRECONDITION for a TLS or certificate failure (naming
  // ca_flag), UNAVAILABLE when it cannot be reached. The message starts with
  // the URL (credentials removed).
  absl::Status Probe() const;

 private:
  static size_t Write(char* data, size_t size, size_t nmemb, void* userdata);

  HttpEndpoint endpoint_;
  absl::Status status_;
  CURL* curl_ = nullptr;
  SendTimeout timeout_;
  std::string response_;
  char errbuf_[CURL_ERROR_SIZE] = {};
};

// The start of a response body for an error message: printable, one line,
// runs of 7+ digits (phone numbers) masked.
std::string ErrorSnippet(std::string_view body);

// "+" and 7 to 15 digits, not starting with 0.
bool IsE164(std::string_view s);

}  // namespace forewarn
