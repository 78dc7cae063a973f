#include "services/api/rpc_guard.h"

#include "spdlog/spdlog.h"

namespace forewarn {

grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  if (status.code() == absl::StatusCode::kInternal || status.code() == absl::StatusCode::kUnknown) {
    spdlog::error("event=internal_error status=\"{}\"", status.ToString());
  }
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()), std::string(status.message()));
}

absl::Status FromGrpcStatus(const grpc::Status& status) {
  if (status.ok()) return absl::OkStatus();
  return absl::Status(static_cast<absl::StatusCode>(status.error_code()), status.error_message());
}

absl::StatusOr<Caller> RpcGuard::Admit(const char* method, grpc::ServerContext* ctx, Permission required) const {
  auto caller = Identify(ctx);
  if (caller.ok()) {
    if (auto permitted = Authorizer::Permit(*caller, required, method); !permitted.ok()) caller = permitted;
  }
  if (!caller.ok()) {
    // Never log the token; the caller's name only once it is known.
    spdlog::warn("event=rpc_denied method={} peer={} code={} reason=\"{}\"", method, ctx->peer(),
                 caller.status().code() == absl::StatusCode::kUnauthenticated ? "UNAUTHENTICATED" : "PERMISSION_DENIED",
                 std::string(caller.status().message()));
  }
  return caller;
}

absl::StatusOr<Caller> RpcGuard::Identify(grpc::ServerContext* ctx) const {
  if (authorizer_ == nullptr) return Caller{"anonymous", Role::kOperator};  // auth disabled (dev)
  const auto& md = ctx->client_metadata();
  auto it = md.find("authorization");
  if (it == md.end()) return authorizer_->Authenticate("");
  return authorizer_->Authenticate(std::string_view(it->second.data(), it->second.size()));
}

const char* GrpcCodeName(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::OK: return "OK";
    case grpc::StatusCode::CANCELLED: return "CANCELLED";
    case grpc::StatusCode::UNKNOWN: return "UNKNOWN";
    case grpc::StatusCode::INVALID_ARGUMENT: return "INVALID_ARGUMENT";
    case grpc::StatusCode::DEADLINE_EXCEEDED: return "DEADLINE_EXCEEDED";
    case grpc::StatusCode::NOT_FOUND: return "NOT_FOUND";
    case grpc::StatusCode::ALREADY_EXISTS: return "ALREADY_EXISTS";
    case grpc::StatusCode::PERMISSION_DENIED: return "PERMISSION_DENIED";
    case grpc::StatusCode::RESOURCE_EXHAUSTED: return "RESOURCE_EXHAUSTED";
    case grpc::StatusCode::FAILED_PRECONDITION: return "FAILED_PRECONDITION";
    case grpc::StatusCode::ABORTED: return "ABORTED";
    case grpc::StatusCode::OUT_OF_RANGE: return "OUT_OF_RANGE";
    case grpc::StatusCode::UNIMPLEMENTED: return "UNIMPLEMENTED";
    case grpc::StatusCode::INTERNAL: return "INTERNAL";
    case grpc::StatusCode::UNAVAILABLE: return "UNAVAILABLE";
    case grpc::StatusCode::DATA_LOSS: return "DATA_LOSS";
    case grpc::StatusCode::UNAUTHENTICATED: return "UNAUTHENTICATED";
    default: return "UNKNOWN";
  }
}

}  // namespace forewarn
