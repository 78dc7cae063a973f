#pragma once

// The verification code every notice carries, so that a customer can check
// on the status page that a message is Forewarn's (banks are phished with
// fake "your IBAN changed" messages). Eight Crockford base32 characters:
// 40 bits of HMAC-SHA256 under a secret only Forewarn holds (the notifier's
// and the status page's --message-code-secret-file) over the notice's
// incident, version and kind. The SMS and the email of one notice carry the
// same code; nothing is stored per notice: the status page recomputes the
// codes of the incident named with it (its reference) and compares, so a
// check reveals nothing the code's incident page would not.

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include "absl/status/statusor.h"

namespace forewarn {

struct MessageCodeInput {
  std::string incident_id;  // UUID text
  int64_t version = 0;
  std::string notice_kind;  // "outage_started", ...
};

class MessageCodes {
 public:
  static constexpr int kChars = 8;

  // INVALID_ARGUMENT for a secret under kMinSecretBytes (secret_file.h).
  static absl::StatusOr<MessageCodes> FromSecret(std::string secret);
  // The secret is the file's one non-comment line (ReadSecretFile).
  static absl::StatusOr<MessageCodes> FromFile(const std::string& path);

  // e.g. "7H3K9QX2".
  std::string Code(const MessageCodeInput& notice) const;
  // Whether `typed` (case, dashes, spaces and the look-alikes O, I, L
  // forgiven) is the code of `notice`; compared in constant time.
  bool Matches(std::string_view typed, const MessageCodeInput& notice) const;

 private:
  explicit MessageCodes(std::string secret) : secret_(std::move(secret)) {}
  std::string secret_;
};

}  // namespace forewarn
