#include "services/cmd/intake/intake_server.h"

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <vector>

#include "absl/strings/str_cat.h"
#include "forewarn/v1/directory.grpc.pb.h"
#include "spdlog/spdlog.h"

namespace forewarn {
namespace {

// Every service this server answers for: the health service reports each
// by name (SERVING while the intake is up, NOT_SERVING once it stops).
std::vector<std::string> ServedServiceNames() {
  return {v1::IncidentService::service_full_name(), v1::CustomerDirectory::service_full_name(),
          "grpc.health.v1.Health",
          "grpc.reflection.v1alpha.ServerReflection"};
}

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::FailedPreconditionError(absl::StrCat("cannot read ", path));
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> ServerCredentials(const IntakeConfig& cfg) {
  if (cfg.tls_cert.empty() && cfg.tls_key.empty()) {
    if (!cfg.tls_client_ca.empty()) return absl::InvalidArgumentError("--tls-client-ca needs --tls-cert and --tls-key");
    spdlog::warn("event=tls_disabled note=\"gRPC is plaintext; development only\"");
    return grpc::InsecureServerCredentials();
  }
  if (cfg.tls_cert.empty() || cfg.tls_key.empty()) {
    return absl::InvalidArgumentError("give both --tls-cert and --tls-key");
  }
  auto cert = ReadFile(cfg.tls_cert);
  if (!cert.ok()) return cert.status();
  auto key = ReadFile(cfg.tls_key);
  if (!key.ok()) return key.status();
  grpc::SslServerCredentialsOptions options(GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE);
  options.pem_key_cert_pairs.push_back({*key, *cert});
  if (!cfg.tls_client_ca.empty()) {
    auto ca = ReadFile(cfg.tls_client_ca);
    if (!ca.ok()) return ca.status();
    options.pem_root_certs = *ca;
    options.client_certificate_request = GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY;
  }
  return grpc::SslServerCredentials(options);
}

absl::StatusOr<std::unique_ptr<Authorizer>> LoadAuthorizer(const IntakeConfig& cfg) {
  if (cfg.auth_tokens.empty()) {
    spdlog::warn("event=auth_disabled reason=\"no --auth-tokens / FOREWARN_AUTH_TOKENS\" "
                 "note=\"every caller is the operator 'anonymous'; development only\"");
    return std::unique_ptr<Authorizer>();
  }
  auto loaded = Authorizer::Load(cfg.auth_tokens);
  if (!loaded.ok()) return loaded.status();
  auto authorizer = std::make_unique<Authorizer>(*std::move(loaded));
  spdlog::info("event=auth_enabled callers={}", authorizer->size());
  return authorizer;
}

void RpcMetrics::Observe(const char* method, grpc::StatusCode code, absl::Duration latency) {
  registry_
      .counter("forewarn_intake_rpcs_total", "gRPC calls handled by the intake, by method and status code",
               {{"method", method}, {"code", GrpcCodeName(code)}})
      .Increment();
  registry_
      .histogram("forewarn_intake_rpc_duration_seconds", "gRPC call latency at the intake", {{"method", method}},
                 DefaultLatencyBuckets())
      .Observe(absl::ToDoubleSeconds(latency));
}

absl::StatusOr<std::unique_ptr<GrpcFrontEnd>> GrpcFrontEnd::Start(const IntakeConfig& cfg,
                                                                  std::shared_ptr<grpc::ServerCredentials> credentials,
                                                                  const std::vector<grpc::Service*>& services,
                                                                  uint64_t open_file_limit, MetricsRegistry& metrics) {
  const ConnectionLimits& limits = cfg.connection_limits;
  auto listener = GuardedListener::Bind(cfg.listen, limits.fd_headroom, open_file_limit);
  if (!listener.ok()) return listener.status();
  auto& refused = metrics.counter("forewarn_intake_connections_refused_total",
                                  "gRPC connections closed unserved because open files ran near the limit");
  (*listener)->set_on_refused([&refused] { refused.Increment(); });
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  ApplyConnectionLimits(limits, builder);
  auto acceptor = builder.experimental().AddExternalConnectionAcceptor(
      grpc::ServerBuilder::experimental_type::ExternalConnectionType::FROM_FD, std::move(credentials));
  for (grpc::Service* service : services) builder.RegisterService(service);
  std::unique_ptr<GrpcFrontEnd> front(new GrpcFrontEnd());
  front->server_ = builder.BuildAndStart();
  if (!front->server_) return absl::UnavailableError("cannot start the gRPC server");
  front->listener_ = *std::move(listener);
  front->listener_->Start(std::move(acceptor));
  grpc::HealthCheckServiceInterface* health = front->server_->GetHealthCheckService();
  for (const auto& name : ServedServiceNames()) health->SetServingStatus(name, true);
  spdlog::info("event=listening address={} port={} tls={} mtls={} max_connection_idle={} handshake_timeout={} "
               "fd_headroom={}",
               cfg.listen, front->port(), !cfg.tls_cert.empty(), !cfg.tls_client_ca.empty(),
               absl::FormatDuration(limits.max_idle), absl::FormatDuration(limits.handshake_timeout),
               limits.fd_headroom);
  return front;
}

GrpcFrontEnd::~GrpcFrontEnd() {
  if (listener_) listener_->Stop();
}

void GrpcFrontEnd::Shutdown() {
  server_->GetHealthCheckService()->SetServingStatus(false);  // every service name, and the server as a whole
  spdlog::info("event=shutting_down");
  listener_->Stop();
  server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(5));
}

}  // namespace forewarn
