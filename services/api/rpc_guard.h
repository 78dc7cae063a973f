#pragma once

// What every gRPC service of the intake does around its methods: the
// caller's authentication and role check, the RPC metrics, the mapping of
// absl::Status to grpc::Status, and unary methods served "streamed" (see
// ServeUnary). Shared by GrpcIncidentService and GrpcCustomerDirectory.

#include <grpcpp/grpcpp.h>
#include <grpcpp/support/sync_stream.h>

#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "services/auth/authorizer.h"

namespace forewarn {

// Observes every RPC of the services (metrics): its method name, final code
// and latency. Called on gRPC threads; must be thread-safe.
class RpcObserver {
 public:
  virtual ~RpcObserver() = default;
  virtual void Observe(const char* method, grpc::StatusCode code, absl::Duration latency) = 0;
};

// "OK", "PERMISSION_DENIED", ...: metric labels.
const char* GrpcCodeName(grpc::StatusCode code);

// INTERNAL and UNKNOWN are logged (they are bugs or outages, not the
// caller's fault); the code and message go to the caller as they are.
grpc::Status ToGrpcStatus(const absl::Status& status);
absl::Status FromGrpcStatus(const grpc::Status& status);

// Authentication, authorization and metrics around one RPC.
//
// The caller is authenticated from the "authorization: Bearer TOKEN"
// metadata (UNAUTHENTICATED when missing or unknown) and its role checked
// (PERMISSION_DENIED, Authorizer::Permit). Without an `authorizer`
// authentication is off (development): every caller is the operator
// "anonymous". Denials are logged without the token.
class RpcGuard {
 public:
  RpcGuard(const Authorizer* authorizer, RpcObserver* observer) : authorizer_(authorizer), observer_(observer) {}

  // Runs `body(const Caller&)` -> grpc::Status once the caller is allowed
  // `required`; observes the outcome as `method`.
  template <typename Fn>
  grpc::Status Run(const char* method, grpc::ServerContext* ctx, Permission required, Fn&& body) const {
    const absl::Time started = absl::Now();
    absl::StatusOr<Caller> caller = Admit(method, ctx, required);
    grpc::Status status = caller.ok() ? std::forward<Fn>(body)(*caller) : ToGrpcStatus(caller.status());
    if (observer_ != nullptr) observer_->Observe(method, status.error_code(), absl::Now() - started);
    return status;
  }

 private:
  // The caller, once authenticated and permitted; the denial logged.
  absl::StatusOr<Caller> Admit(const char* method, grpc::ServerContext* ctx, Permission required) const;
  absl::StatusOr<Caller> Identify(grpc::ServerContext* ctx) const;

  const Authorizer* authorizer_;
  RpcObserver* observer_;
};

// The one request of a unary method served "streamed" (the generated
// StreamedUnaryService: the handler reads the request itself) so that bytes
// that do not parse as `Request` (or no message at all) are answered
// INVALID_ARGUMENT "request: not a valid forewarn.v1.X ...". With the plain
// generated service gRPC 1.51 parses the request before any application code
// runs and answers a parse failure INTERNAL with an empty message (its
// protobuf SerializationTraits::Deserialize), which no handler can change.
// Callers see an ordinary unary method either way.
// `body(const Request*, Response*)` -> grpc::Status; its response is written
// when it succeeds.
template <typename Request, typename Response, typename Body>
grpc::Status ServeUnary(grpc::ServerUnaryStreamer<Request, Response>* stream, Body&& body) {
  Request req;
  if (!stream->Read(&req)) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                        absl::StrCat("request: not a valid ", Request::descriptor()->full_name(),
                                     " (the bytes do not parse as one, e.g. a string that is not UTF-8)"));
  }
  Response out;
  grpc::Status status = body(&req, &out);
  if (status.ok()) stream->Write(out);  // false only when the caller is gone
  return status;
}

}  // namespace forewarn
