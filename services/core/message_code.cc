#include "services/core/message_code.h"

#include <openssl/crypto.h>

#include <array>
#include <utility>

#include "absl/strings/str_cat.h"
#include "services/core/incident_ref.h"
#include "services/core/secret_file.h"

namespace forewarn {

absl::StatusOr<MessageCodes> MessageCodes::FromSecret(std::string secret) {
  if (absl::Status s = CheckSecretLength(secret, "message code secret"); !s.ok()) return s;
  return MessageCodes(std::move(secret));
}

absl::StatusOr<MessageCodes> MessageCodes::FromFile(const std::string& path) {
  absl::StatusOr<std::string> secret = ReadSecretFile(path);
  if (!secret.ok()) return secret.status();
  return MessageCodes(*std::move(secret));
}

std::string MessageCodes::Code(const MessageCodeInput& notice) const {
  const std::array<unsigned char, 32> mac = HmacSha256(
      secret_, "forewarn-message-code-v1", absl::StrCat(notice.incident_id, "\n", notice.version, "\n", notice.notice_kind));
  uint64_t bits = 0;
  for (int i = 0; i < 5; ++i) bits = (bits << 8) | mac[static_cast<size_t>(i)];
  return CrockfordEncode(bits, kChars);
}

bool MessageCodes::Matches(std::string_view typed, const MessageCodeInput& notice) const {
  const std::string given = NormalizeCrockford(typed);
  const std::string want = Code(notice);
  return given.size() == want.size() && CRYPTO_memcmp(given.data(), want.data(), want.size()) == 0;
}

}  // namespace forewarn
