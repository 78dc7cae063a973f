#pragma once

// forewarn-intake's public HTTP endpoint (one-click unsubscribe, the SMS
// gateway's inbound webhook): its secrets, read at start-up, and the server.

#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "services/cmd/intake/intake_config.h"
#include "services/directory/directory_service.h"
#include "services/directory/unsubscribe_token.h"
#include "services/http/metrics.h"
#include "services/public_http/public_server.h"

namespace forewarn {

struct PublicEndpointSecrets {
  std::optional<UnsubscribeTokens> tokens;  // --unsubscribe-secret-file
  std::string inbound_sms_secret;           // --inbound-sms-secret-file
  std::optional<ReceiptSigner> receipts;    // --receipt-secret-file
  // The endpoint runs when it has something to serve.
  bool enabled() const { return tokens.has_value() || !inbound_sms_secret.empty() || receipts.has_value(); }
};

// FAILED_PRECONDITION naming the flag and the file when one is unreadable or
// too short.
absl::StatusOr<PublicEndpointSecrets> LoadPublicEndpointSecrets(const IntakeConfig& cfg);

// Starts the endpoint on --public-listen and writes --public-port-file;
// nullptr (logged) when no secret enables it. Receipts go to `receipts`
// when `secrets` has their key. INVALID_ARGUMENT for a bad address,
// UNAVAILABLE when it cannot listen.
absl::StatusOr<std::unique_ptr<PublicHttpServer>> StartPublicEndpoint(const IntakeConfig& cfg,
                                                                      const PublicEndpointSecrets& secrets,
                                                                      CustomerDirectoryService& directory,
                                                                      MetricsRegistry& metrics,
                                                                      ReceiptStore& receipts, const Clock& clock);

}  // namespace forewarn
