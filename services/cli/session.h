#pragma once

// What every command runs with: the options all commands share, the
// connection to the intake, the printer and the error stream.

#include <grpcpp/grpcpp.h>

#include <memory>
#include <ostream>
#include <string>
#include <string_view>

#include "CLI/CLI.hpp"
#include "absl/status/statusor.h"
#include "forewarn/v1/directory.grpc.pb.h"
#include "forewarn/v1/incident.grpc.pb.h"
#include "services/cli/printer.h"

namespace forewarn::cli {

constexpr int kExitFailed = 1;  // the intake refused the request or could not be reached
constexpr int kExitUsage = 2;   // bad flags or arguments

// The options before or after any command (the app falls through to them).
struct GlobalOptions {
  std::string target = "127.0.0.1:50051";
  bool json = false;
  int timeout_seconds = 10;
  std::string token;     // bearer token (FOREWARN_TOKEN)
  std::string tls_ca;    // CA bundle: TLS when given
  std::string tls_cert;  // client certificate and key: mutual TLS
  std::string tls_key;
};
void AddGlobalOptions(CLI::App& app, GlobalOptions& options);

// "error: MESSAGE" on `err`; returns kExitUsage.
int UsageError(std::ostream& err, std::string_view message);

// Plaintext, or TLS when a CA bundle or a client certificate is given. The
// error is the usage message naming the flag ("--tls-ca: cannot read PATH").
absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> MakeCredentials(const GlobalOptions& options);

class Session {
 public:
  using Stub = v1::IncidentService::StubInterface;
  using DirectoryStub = v1::CustomerDirectory::StubInterface;

  Session(std::unique_ptr<Stub> stub, const GlobalOptions& options, Printer& printer, std::ostream& err,
          std::unique_ptr<DirectoryStub> directory = nullptr)
      : stub_(std::move(stub)), directory_(std::move(directory)), options_(options), printer_(printer), err_(err) {}

  // Calls `rpc` (deadline --timeout, bearer --token) and prints its response.
  // Returns 0, or kExitFailed with "error: MESSAGE (CODE)" on the error stream.
  template <typename Request, typename Response>
  int Call(grpc::Status (Stub::*rpc)(grpc::ClientContext*, const Request&, Response*), const Request& request) {
    Response response;
    if (grpc::Status status = Invoke(rpc, request, &response); !status.ok()) return Fail(status);
    printer_.Print(response);
    return 0;
  }

  // Calls `rpc` (deadline --timeout, bearer --token) without printing.
  template <typename Request, typename Response>
  grpc::Status Invoke(grpc::Status (Stub::*rpc)(grpc::ClientContext*, const Request&, Response*),
                      const Request& request, Response* response) {
    auto context = NewContext();
    return (stub_.get()->*rpc)(context.get(), request, response);
  }

  // The same for the customer directory's unary methods.
  template <typename Request, typename Response>
  grpc::Status Invoke(grpc::Status (DirectoryStub::*rpc)(grpc::ClientContext*, const Request&, Response*),
                      const Request& request, Response* response) {
    auto context = NewContext();
    return (directory_.get()->*rpc)(context.get(), request, response);
  }

  DirectoryStub& directory() { return *directory_; }
  Stub& stub() { return *stub_; }  // for the streaming methods
  // A context with the bearer token; the --timeout deadline unless
  // `deadline` is false (a stream that lasts as long as its input).
  std::unique_ptr<grpc::ClientContext> NewContext(bool deadline = true) const;
  const GlobalOptions& options() const { return options_; }

  // "error: MESSAGE (CODE)" on the error stream; returns kExitFailed.
  int Fail(const grpc::Status& status);
  // "error: MESSAGE" on the error stream; returns kExitUsage.
  int UsageError(std::string_view message);

  Printer& printer() { return printer_; }
  std::ostream& err() { return err_; }

 private:
  std::unique_ptr<Stub> stub_;
  std::unique_ptr<DirectoryStub> directory_;
  const GlobalOptions& options_;
  Printer& printer_;
  std::ostream& err_;
};

}  // namespace forewarn::cli
