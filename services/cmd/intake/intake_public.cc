#include "services/cmd/intake/intake_public.h"

#include "absl/strings/str_cat.h"
#include "services/runtime/runtime.h"
#include "spdlog/spdlog.h"

namespace forewarn {

absl::StatusOr<PublicEndpointSecrets> LoadPublicEndpointSecrets(const IntakeConfig& cfg) {
  PublicEndpointSecrets out;
  if (!cfg.unsubscribe_secret_file.empty()) {
    auto tokens = UnsubscribeTokens::FromFile(cfg.unsubscribe_secret_file);
    if (!tokens.ok()) {
      return absl::FailedPreconditionError(absl::StrCat("--unsubscribe-secret-file: ", tokens.status().message()));
    }
    out.tokens = *std::move(tokens);
  }
  if (!cfg.inbound_sms_secret_file.empty()) {
    auto secret = ReadSharedSecret("--inbound-sms-secret-file", cfg.inbound_sms_secret_file);
    if (!secret.ok()) return secret.status();
    out.inbound_sms_secret = *std::move(secret);
  }
  if (!cfg.receipt_secret_file.empty()) {
    auto signer = ReceiptSigner::FromFile(cfg.receipt_secret_file);
    if (!signer.ok()) {
      return absl::FailedPreconditionError(absl::StrCat("--receipt-secret-file: ", signer.status().message()));
    }
    out.receipts = *std::move(signer);
  }
  return out;
}

absl::StatusOr<std::unique_ptr<PublicHttpServer>> StartPublicEndpoint(const IntakeConfig& cfg,
                                                                      const PublicEndpointSecrets& secrets,
                                                                      CustomerDirectoryService& directory,
                                                                      MetricsRegistry& metrics,
                                                                      ReceiptStore& receipts, const Clock& clock) {
  if (!secrets.enabled()) {
    spdlog::info(
        "event=public_http_off reason=\"no --unsubscribe-secret-file, --inbound-sms-secret-file or "
        "--receipt-secret-file\"");
    return std::unique_ptr<PublicHttpServer>();
  }
  PublicHttpOptions options;
  options.listen = cfg.public_listen;
  options.inbound_sms_secret = secrets.inbound_sms_secret;
  const PublicReceipts receipt_routes{&receipts, secrets.receipts ? &*secrets.receipts : nullptr, &clock};
  auto server = PublicHttpServer::Start(options, secrets.tokens ? &*secrets.tokens : nullptr, directory, metrics,
                                        receipt_routes);
  if (!server.ok()) return server.status();
  if (!cfg.public_port_file.empty()) {
    if (auto s = WriteFileAtomically(cfg.public_port_file, absl::StrCat((*server)->port(), "\n")); !s.ok()) {
      spdlog::error("event=public_port_file_failed status=\"{}\"", s.ToString());
    }
  }
  return server;
}

}  // namespace forewarn
