#pragma once

// forewarn-status's HTTP side on cpp-httplib: routes to StatusSite.
//
//   GET  /                 overview (HTML)
//   GET  /i/{REF}          incident page
//   GET  /n/{TOKEN}        a notice's personal link: the incident page in the
//                          link's language and time zone
//   GET  /check            "check a message" form; POST /check ref=&code=
//   GET  /version[?ref=]   what a page shows now; /refresh.js polls it
//   GET  /feed.atom        Atom feed;  GET /status.json  the same as JSON
//   GET  /refresh.js       the pages' reload script
// Query: ?lang=ar|en, ?tz=IANA zone. Everything else 404 (405 for another
// method on a known path). Pages: no-store, no-referrer (the token is in
// the address), a content security policy allowing only our own script.
// Metrics: forewarn_status_requests_total{route,code},
// forewarn_status_request_seconds{route}, and StatusSite's.

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "services/http/metrics.h"
#include "services/status_page/status_site.h"

namespace forewarn {

struct StatusHttpOptions {
  std::string listen = "127.0.0.1:0";  // "host:port", "[v6]:port" or ":port"
  int threads = 16;
  absl::Duration read_timeout = absl::Seconds(5);
  absl::Duration write_timeout = absl::Seconds(5);
  // Absolute links of the feeds ("https://status.example"); empty: http://
  // and the request's Host header.
  std::string base_url;
  // Behind a proxy: the header whose last address is the client's
  // ("X-Forwarded-For"); empty: the connection's peer address.
  std::string client_ip_header;
};

class StatusHttpServer {
 public:
  // Binds and serves on its own threads; `site` and `metrics` must outlive
  // the server. INVALID_ARGUMENT for a malformed address, UNAVAILABLE when
  // it cannot be bound (both naming --listen).
  static absl::StatusOr<std::unique_ptr<StatusHttpServer>> Start(const StatusHttpOptions& options, StatusSite& site,
                                                                 MetricsRegistry& metrics);
  ~StatusHttpServer();  // Stop()s
  StatusHttpServer(const StatusHttpServer&) = delete;
  StatusHttpServer& operator=(const StatusHttpServer&) = delete;

  int port() const;
  // Stops accepting, waits for requests in flight; idempotent.
  void Stop();

 private:
  struct Impl;
  explicit StatusHttpServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace forewarn
