#pragma once

#include <grpcpp/server_builder.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace forewarn {

// How long the intake's gRPC server keeps connections (its flags
// --max-connection-idle, --max-connection-age, ...). Each maps to a gRPC
// 1.51 server channel argument.
struct ConnectionLimits {
  // No call for this long: GOAWAY, then the connection is closed
  // (GRPC_ARG_MAX_CONNECTION_IDLE_MS).
  absl::Duration max_idle = absl::Minutes(5);
  // Any connection is asked to go away after this long (clients reconnect,
  // so load spreads over replicas); calls in flight get `max_age_grace`
  // (GRPC_ARG_MAX_CONNECTION_AGE_MS, _GRACE_MS).
  absl::Duration max_age = absl::Minutes(30);
  absl::Duration max_age_grace = absl::Minutes(5);
  // A connection that has not completed its TLS handshake and sent the
  // HTTP/2 preface and SETTINGS within this time is closed: a socket that
  // never speaks HTTP/2 lives this long at most
  // (GRPC_ARG_SERVER_HANDSHAKE_TIMEOUT_MS; gRPC's default is 120 s).
  absl::Duration handshake_timeout = absl::Seconds(10);
  // While calls are in flight the server pings after this much silence and
  // drops a peer that does not answer within keepalive_timeout
  // (GRPC_ARG_KEEPALIVE_TIME_MS, GRPC_ARG_KEEPALIVE_TIMEOUT_MS).
  absl::Duration keepalive_time = absl::Minutes(2);
  absl::Duration keepalive_timeout = absl::Seconds(20);
  // File descriptors kept free for everything but callers (database and
  // broker connections, files): see GuardedListener.
  int fd_headroom = 64;
};

// INVALID_ARGUMENT naming the flag when a limit is out of range.
absl::Status CheckConnectionLimits(const ConnectionLimits& limits);
void ApplyConnectionLimits(const ConnectionLimits& limits, grpc::ServerBuilder& builder);

// Accepts the gRPC port's TCP connections itself and hands each to the
// server through ServerBuilder::experimental().AddExternalConnectionAcceptor
// (TLS, when configured, is done by gRPC as for its own listener).
//
// Why: gRPC 1.51's listener gives up on its port for good after one failed
// accept4() ("Failed accept4: Too many open files"): once idle sockets use
// up the open-file limit, no caller is ever accepted again, even after
// they are gone. This one never stops accepting and keeps `fd_headroom`
// descriptors free: a connection accepted on a descriptor numbered at or
// above (soft limit - headroom) — the kernel hands out the lowest free
// number, so at least that many are in use — is closed at once (the caller
// sees a reset and retries; "refused" counts it). If accept4() fails all the
// same (EMFILE, ENFILE), one pending connection is accepted on a spare
// descriptor kept for that and closed, so callers are told at once rather
// than left hanging in the backlog. With the handshake timeout closing
// sockets that never speak HTTP/2, a flood of idle sockets delays new
// callers by at most that timeout instead of locking them out.
class GuardedListener {
 public:
  // Binds and listens on `address`, "HOST:PORT" (IPv4, or IPv6 in brackets;
  // port 0 = chosen by the system). `open_file_limit` is the soft limit in
  // force (RaiseOpenFileLimit).
  static absl::StatusOr<std::unique_ptr<GuardedListener>> Bind(const std::string& address, int fd_headroom,
                                                             uint64_t open_file_limit);
  ~GuardedListener();
  GuardedListener(const GuardedListener&) = delete;
  GuardedListener& operator=(const GuardedListener&) = delete;

  int port() const { return port_; }
  // Called (on the accept thread) for each connection closed unserved.
  void set_on_refused(std::function<void()> fn) { on_refused_ = std::move(fn); }
  // Starts accepting; each connection goes to `acceptor` (which the
  // gRPC server must outlive the listener's Stop()).
  void Start(std::unique_ptr<grpc::experimental::ExternalConnectionAcceptor> acceptor);
  // Stops accepting and closes the listening socket; idempotent.
  void Stop();

  uint64_t accepted() const { return accepted_.load(); }
  uint64_t refused() const { return refused_.load(); }

 private:
  GuardedListener(int fd, int port, int fd_limit) : fd_(fd), port_(port), fd_limit_(fd_limit) {}
  void Run();
  void AcceptPending();
  void Refuse(int fd);

  int fd_;
  int port_;
  int fd_limit_;   // accepted descriptors numbered at or above this are refused
  int spare_ = -1;  // /dev/null, given up to accept-and-close when out of descriptors
  absl::Time next_log_ = absl::InfinitePast();  // accept thread only
  std::unique_ptr<grpc::experimental::ExternalConnectionAcceptor> acceptor_;
  std::function<void()> on_refused_;
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> accepted_{0};
  std::atomic<uint64_t> refused_{0};
  std::thread thread_;
};

}  // namespace forewarn
