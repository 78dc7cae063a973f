#pragma once

// forewarn-intake's gRPC front end: credentials, bearer tokens, RPC metrics,
// and the server behind the guarded listener.

#include <grpcpp/grpcpp.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "services/auth/authorizer.h"
#include "services/api/grpc_incident_service.h"
#include "services/api/guarded_listener.h"
#include "services/http/metrics.h"
#include "services/cmd/intake/intake_config.h"

namespace forewarn {

// TLS from --tls-cert/--tls-key (mutual with --tls-client-ca), else
// plaintext (logged as development only). INVALID_ARGUMENT for an
// incomplete pair, FAILED_PRECONDITION for an unreadable file.
absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> ServerCredentials(const IntakeConfig& cfg);

// The tokens of --auth-tokens; nullptr (authentication off, warned) without.
absl::StatusOr<std::unique_ptr<Authorizer>> LoadAuthorizer(const IntakeConfig& cfg);

// RPC counters by method and code, and a latency histogram per method.
class RpcMetrics final : public RpcObserver {
 public:
  explicit RpcMetrics(MetricsRegistry& registry) : registry_(registry) {}
  void Observe(const char* method, grpc::StatusCode code, absl::Duration latency) override;

 private:
  MetricsRegistry& registry_;
};

// The gRPC server fed by a GuardedListener: the listener accepts, gRPC does
// TLS and HTTP/2 on what it hands over. Reports every served service to the
// gRPC health service.
class GrpcFrontEnd {
 public:
  // INVALID_ARGUMENT for a bad address; UNAVAILABLE when it cannot listen
  // or the server does not start. The `services` must outlive the front end.
  static absl::StatusOr<std::unique_ptr<GrpcFrontEnd>> Start(const IntakeConfig& cfg,
                                                             std::shared_ptr<grpc::ServerCredentials> credentials,
                                                             const std::vector<grpc::Service*>& services,
                                                             uint64_t open_file_limit, MetricsRegistry& metrics);
  // Stops the listener before the server: nothing is handed to a server
  // that is gone.
  ~GrpcFrontEnd();

  int port() const { return listener_->port(); }
  // NOT_SERVING for every service name and the server as a whole, stops
  // accepting and shuts the server down (calls in flight get 5 s).
  void Shutdown();

 private:
  GrpcFrontEnd() = default;
  std::unique_ptr<GuardedListener> listener_;
  std::unique_ptr<grpc::Server> server_;
};

}  // namespace forewarn
