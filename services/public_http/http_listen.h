#pragma once

// Binding and serving a cpp-httplib server the way Forewarn's public
// endpoints do (the intake's public endpoint, forewarn-status). Includes
// httplib.h: for HTTP adapters only.

#include <httplib.h>

#include <atomic>
#include <mutex>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace forewarn {

// How a public server answers, whatever it serves.
struct PublicServerLimits {
  int threads = 16;               // the pool (at least 1)
  size_t max_body_bytes = 16 * 1024;
  absl::Duration read_timeout = absl::Seconds(5);
  absl::Duration write_timeout = absl::Seconds(5);
};

// Sets `server` up as Forewarn's public servers are: `limits`; one request
// per connection (cpp-httplib gives a connection a pool thread for its
// lifetime, so clients that keep connections open, browsers or Kannel's
// smsbox, would hold every thread idle between requests); and the headers
// every answer carries: no caching, no referrer, no sniffing, no framing and
// `content_security_policy`.
void ConfigurePublicServer(httplib::Server& server, const PublicServerLimits& limits,
                           const std::string& content_security_policy);

// Binds `server` to `listen` ("host:port", "[v6]:port" or ":port" for all
// interfaces; port 0 picks a free one) with a listen backlog of 1024 and
// serves it on `thread`, returning once it serves; `returned` is set when
// serving ends. The bound port. INVALID_ARGUMENT (a malformed address) and
// UNAVAILABLE (cannot bind) name `flag`.
absl::StatusOr<int> BindAndServe(httplib::Server& server, const std::string& listen, absl::string_view flag,
                                 std::thread& thread, std::atomic<bool>& returned);

// Stops what BindAndServe started, once however often it is called: stops
// `server` and joins `thread`.
void StopServing(httplib::Server& server, std::thread& thread, std::once_flag& stopped);

}  // namespace forewarn
