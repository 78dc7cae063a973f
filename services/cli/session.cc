#include "services/cli/session.h"

#include <chrono>
#include <fstream>
#include <sstream>

#include "absl/status/status.h"

namespace forewarn::cli {
namespace {

bool ReadFile(const std::string& path, std::string* out) {
  std::ifstream in(path);
  if (!in) return false;
  std::stringstream text;
  text << in.rdbuf();
  *out = text.str();
  return true;
}

}  // namespace

void AddGlobalOptions(CLI::App& app, GlobalOptions& opt) {
  app.add_option("--target", opt.target, "intake address host:port")->envname("FOREWARN_TARGET");
  app.add_flag("--json", opt.json, "machine-readable output");
  app.add_option("--timeout", opt.timeout_seconds, "RPC deadline in seconds")->check(CLI::Range(1, 600));
  app.add_option("--token", opt.token, "bearer token for the intake")->envname("FOREWARN_TOKEN");
  app.add_option("--tls-ca", opt.tls_ca, "CA bundle (PEM) to verify the intake: use TLS")->envname("FOREWARN_TLS_CA");
  app.add_option("--tls-cert", opt.tls_cert, "client certificate (PEM) for mutual TLS")
      ->envname("FOREWARN_TLS_CLIENT_CERT");
  app.add_option("--tls-key", opt.tls_key, "client private key (PEM) for mutual TLS")
      ->envname("FOREWARN_TLS_CLIENT_KEY");
}

absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> MakeCredentials(const GlobalOptions& opt) {
  if (opt.tls_ca.empty() && opt.tls_cert.empty() && opt.tls_key.empty()) return grpc::InsecureChannelCredentials();
  grpc::SslCredentialsOptions ssl;
  if (!opt.tls_ca.empty() && !ReadFile(opt.tls_ca, &ssl.pem_root_certs)) {
    return absl::InvalidArgumentError("--tls-ca: cannot read " + opt.tls_ca);
  }
  if (opt.tls_cert.empty() != opt.tls_key.empty()) return absl::InvalidArgumentError("give both --tls-cert and --tls-key");
  if (!opt.tls_cert.empty()) {
    if (!ReadFile(opt.tls_cert, &ssl.pem_cert_chain)) {
      return absl::InvalidArgumentError("--tls-cert: cannot read " + opt.tls_cert);
    }
    if (!ReadFile(opt.tls_key, &ssl.pem_private_key)) {
      return absl::InvalidArgumentError("--tls-key: cannot read " + opt.tls_key);
    }
  }
  return grpc::SslCredentials(ssl);
}

int Session::Fail(const grpc::Status& status) {
  err_ << "error: " << status.error_message() << " (" << status.error_code() << ")\n";
  return kExitFailed;
}

int UsageError(std::ostream& err, std::string_view message) {
  err << "error: " << message << "\n";
  return kExitUsage;
}

int Session::UsageError(std::string_view message) { return cli::UsageError(err_, message); }

std::unique_ptr<grpc::ClientContext> Session::NewContext(bool deadline) const {
  auto context = std::make_unique<grpc::ClientContext>();
  if (deadline) {
    context->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(options_.timeout_seconds));
  }
  if (!options_.token.empty()) context->AddMetadata("authorization", "Bearer " + options_.token);
  return context;
}

}  // namespace forewarn::cli
