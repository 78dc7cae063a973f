#include "services/core/secret_file.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <fstream>
#include <iterator>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace forewarn {

absl::StatusOr<std::string> ReadSecretFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in.is_open()) return absl::FailedPreconditionError(absl::StrCat(path, ": cannot be read"));
  const std::string text(std::istreambuf_iterator<char>(in), {});
  std::string secret;
  for (absl::string_view raw : absl::StrSplit(text, '\n')) {
    absl::string_view line = absl::StripAsciiWhitespace(raw);
    if (line.empty() || absl::StartsWith(line, "#")) continue;
    if (!secret.empty()) return absl::FailedPreconditionError(absl::StrCat(path, ": more than one secret line"));
    secret = std::string(line);
  }
  if (absl::Status s = CheckSecretLength(secret, "secret"); !s.ok()) {
    return absl::FailedPreconditionError(absl::StrCat(path, ": ", s.message()));
  }
  return secret;
}

absl::Status CheckSecretLength(std::string_view secret, std::string_view what) {
  if (secret.size() >= kMinSecretBytes) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(absl::string_view(what.data(), what.size()), " has ", secret.size(),
                                                 " bytes, needs at least ", kMinSecretBytes));
}

std::array<unsigned char, 32> HmacSha256(std::string_view secret, std::string_view domain, std::string_view data) {
  std::string message(domain);
  message.append(data);
  unsigned char full[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(message.data()), message.size(), full, &len);
  std::array<unsigned char, 32> mac{};
  std::copy(full, full + mac.size(), mac.begin());
  OPENSSL_cleanse(full, sizeof full);
  return mac;
}

}  // namespace forewarn
