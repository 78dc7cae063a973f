#pragma once

#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "services/http/metrics.h"

namespace forewarn {

// A tiny HTTP/1.1 server for observability, one per service process
// (FOREWARN_HTTP_LISTEN, 0.0.0.0:9090 in Kubernetes):
//
//   GET /metrics  200, the registry in Prometheus text format 0.0.4
//                 (Content-Type: text/plain; version=0.0.4; charset=utf-8)
//   GET /healthz  200 "ok" while the process runs (liveness)
//   GET /readyz   200 "ready" when ready() returns true, else 503 "not ready"
//   other paths   404; methods other than GET/HEAD: 405
//
// One request per connection ("Connection: close"); a query string is
// ignored. All sockets are served by one background thread with non-blocking
// I/O, so an idle or slow client never delays other scrapes; a connection
// that has not sent its request headers (8 KiB at most) within the read
// timeout is closed. Stop() wakes the thread, closes every socket and
// returns promptly whatever clients are doing. Not for untrusted networks
// beyond the cluster: there is no TLS or authentication.
class ObservabilityServer {
 public:
  // Binds `listen` ("host:port", "[v6]:port" or ":port"; port 0 picks a free
  // one) and starts serving. `registry` must outlive the server. `ready` is
  // called on the server thread for each /readyz request; it must be cheap
  // and thread-safe (typically reads an atomic flag). A null `ready` means
  // always ready. Errors: INVALID_ARGUMENT for a malformed address,
  // UNAVAILABLE when the socket cannot be bound.
  static absl::StatusOr<std::unique_ptr<ObservabilityServer>> Start(const std::string& listen,
                                                                    MetricsRegistry& registry,
                                                                    std::function<bool()> ready);

  ~ObservabilityServer();  // Stop()s.
  ObservabilityServer(const ObservabilityServer&) = delete;
  ObservabilityServer& operator=(const ObservabilityServer&) = delete;

  // The bound port (the chosen one when `listen` asked for port 0).
  int port() const;

  // Stops serving and closes every socket; idempotent, thread-safe.
  void Stop();

 private:
  struct Impl;
  explicit ObservabilityServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace forewarn
