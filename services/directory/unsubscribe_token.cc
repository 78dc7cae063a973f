#include "services/directory/unsubscribe_token.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <array>
#include <fstream>
#include <iterator>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "services/core/public_url.h"

namespace forewarn {
namespace {

constexpr size_t kSignedBytes = 10;  // version, id, category/channel
constexpr size_t kMacBytes = 16;
constexpr size_t kTokenBytes = kSignedBytes + kMacBytes;
constexpr size_t kTokenChars = (kTokenBytes * 4 + 2) / 3;  // base64 without padding
constexpr std::string_view kDomain = "forewarn-unsubscribe-v1";

using Mac = std::array<unsigned char, kMacBytes>;

// Wire codes, independent of the enums' numbering.
int CategoryCode(NoticeCategory c) {
  switch (c) {
    case NoticeCategory::kUnplannedOutages: return 1;
    case NoticeCategory::kPlannedMaintenance: return 2;
    case NoticeCategory::kBankingChanges: return 3;
  }
  return 0;
}
int ChannelCode(Channel c) { return c == Channel::kSms ? 1 : 2; }

bool CategoryFromCode(int code, NoticeCategory* out) {
  for (NoticeCategory c : kAllNoticeCategories) {
    if (CategoryCode(c) == code) {
      *out = c;
      return true;
    }
  }
  return false;
}

Mac ComputeMac(const std::string& secret, std::string_view signed_bytes) {
  std::string message(kDomain);
  message.push_back('\0');
  message.append(signed_bytes);
  unsigned char full[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(message.data()), message.size(), full, &len);
  Mac mac;
  std::copy(full, full + kMacBytes, mac.begin());
  OPENSSL_cleanse(full, sizeof full);
  return mac;
}

absl::Status Invalid(const std::string& why) { return absl::InvalidArgumentError("token: " + why); }

// The token's bytes, only from its one canonical spelling.
absl::StatusOr<std::string> DecodeToken(std::string_view token) {
  if (token.size() != kTokenChars) {
    return Invalid(absl::StrCat("must be ", kTokenChars, " characters, got ", token.size()));
  }
  for (char ch : token) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(ch)) && ch != '-' && ch != '_') {
      return Invalid("not URL-safe base64");
    }
  }
  std::string bytes;
  if (!absl::WebSafeBase64Unescape(absl::string_view(token.data(), token.size()), &bytes) ||
      bytes.size() != kTokenBytes || absl::WebSafeBase64Escape(bytes) != absl::string_view(token.data(), token.size())) {
    return Invalid("not URL-safe base64");
  }
  return bytes;
}

// One key line: "VERSION SECRET" or (alone in the file) "SECRET".
absl::StatusOr<UnsubscribeKey> ParseKeyLine(std::string_view line, bool only_line) {
  std::vector<absl::string_view> fields = absl::StrSplit(absl::string_view(line.data(), line.size()),
                                                         absl::ByAnyChar(" \t"), absl::SkipEmpty());
  UnsubscribeKey key;
  if (fields.size() == 1 && only_line) {
    key.secret = std::string(fields[0]);
    return key;
  }
  if (fields.size() != 2 || !absl::SimpleAtoi(fields[0], &key.version)) {
    return absl::InvalidArgumentError("expected \"VERSION SECRET\"");
  }
  key.secret = std::string(fields[1]);
  return key;
}

}  // namespace

absl::StatusOr<UnsubscribeTokens> UnsubscribeTokens::FromKeys(std::vector<UnsubscribeKey> keys) {
  if (keys.empty()) return absl::InvalidArgumentError("no unsubscribe key");
  std::set<int> versions;
  for (const UnsubscribeKey& k : keys) {
    if (k.version < 1 || k.version > 255) {
      return absl::InvalidArgumentError(absl::StrCat("key version ", k.version, ": must be 1..255"));
    }
    if (!versions.insert(k.version).second) {
      return absl::InvalidArgumentError(absl::StrCat("key version ", k.version, ": listed twice"));
    }
    if (k.secret.size() < kMinSecretBytes) {
      return absl::InvalidArgumentError(absl::StrCat("key version ", k.version, ": secret has ", k.secret.size(),
                                                     " bytes, needs at least ", kMinSecretBytes));
    }
  }
  return UnsubscribeTokens(std::move(keys));
}

absl::StatusOr<UnsubscribeTokens> UnsubscribeTokens::FromFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in.is_open()) return absl::FailedPreconditionError(absl::StrCat(path, ": cannot be read"));
  const std::string text(std::istreambuf_iterator<char>(in), {});
  if (in.bad()) return absl::FailedPreconditionError(absl::StrCat(path, ": cannot be read"));
  std::vector<std::pair<int, std::string_view>> lines;  // line number, content
  int number = 0;
  for (absl::string_view raw : absl::StrSplit(text, '\n')) {
    ++number;
    absl::string_view line = absl::StripAsciiWhitespace(raw);
    if (line.empty() || absl::StartsWith(line, "#")) continue;
    lines.emplace_back(number, std::string_view(line.data(), line.size()));
  }
  std::vector<UnsubscribeKey> keys;
  for (const auto& [at, line] : lines) {
    auto key = ParseKeyLine(line, lines.size() == 1);
    if (!key.ok()) return absl::FailedPreconditionError(absl::StrCat(path, ":", at, ": ", key.status().message()));
    keys.push_back(*std::move(key));
  }
  auto tokens = FromKeys(std::move(keys));
  if (!tokens.ok()) return absl::FailedPreconditionError(absl::StrCat(path, ": ", tokens.status().message()));
  return tokens;
}

std::string UnsubscribeTokens::Sign(const UnsubscribePayload& payload) const {
  const UnsubscribeKey& key = keys_.front();
  std::string bytes(kSignedBytes, '\0');
  bytes[0] = static_cast<char>(key.version);
  const auto id = static_cast<uint64_t>(payload.customer_id);
  for (int i = 0; i < 8; ++i) bytes[1 + i] = static_cast<char>((id >> (56 - 8 * i)) & 0xff);
  bytes[9] = static_cast<char>((CategoryCode(payload.category) << 4) | ChannelCode(payload.channel));
  const Mac mac = ComputeMac(key.secret, bytes);
  bytes.append(reinterpret_cast<const char*>(mac.data()), mac.size());
  return absl::WebSafeBase64Escape(bytes);
}

absl::StatusOr<UnsubscribePayload> UnsubscribeTokens::Verify(std::string_view token) const {
  absl::StatusOr<std::string> bytes = DecodeToken(token);
  if (!bytes.ok()) return bytes.status();
  const int version = static_cast<unsigned char>((*bytes)[0]);
  const UnsubscribeKey* key = nullptr;
  for (const UnsubscribeKey& k : keys_) {
    if (k.version == version) key = &k;
  }
  if (key == nullptr) return Invalid(absl::StrCat("unknown key version ", version));
  const Mac expected = ComputeMac(key->secret, std::string_view(*bytes).substr(0, kSignedBytes));
  if (CRYPTO_memcmp(expected.data(), bytes->data() + kSignedBytes, kMacBytes) != 0) {
    return Invalid("signature does not match");
  }
  UnsubscribePayload out;
  uint64_t id = 0;
  for (int i = 0; i < 8; ++i) id = (id << 8) | static_cast<unsigned char>((*bytes)[1 + i]);
  out.customer_id = static_cast<int64_t>(id);
  const int kinds = static_cast<unsigned char>((*bytes)[9]);
  const int channel = kinds & 0x0f;
  if (!CategoryFromCode(kinds >> 4, &out.category) || (channel != 1 && channel != 2) || out.customer_id <= 0) {
    return Invalid("unknown category, channel or customer");
  }
  out.channel = channel == 1 ? Channel::kSms : Channel::kEmail;
  return out;
}

absl::StatusOr<UnsubscribeLinks> UnsubscribeLinks::Create(std::string base_url, UnsubscribeTokens tokens,
                                                          std::set<NoticeCategory> silenceable) {
  if (absl::Status s = CheckPublicBaseUrl(base_url); !s.ok()) return s;
  return UnsubscribeLinks(std::move(base_url), std::move(tokens), std::move(silenceable));
}

std::string UnsubscribeLinks::For(const NoticeJob& job) const {
  if (job.recipient.channel != Channel::kEmail || job.recipient.customer_id <= 0) return "";
  const NoticeCategory category = CategoryOf(job.kind);
  if (!silenceable_.contains(category)) return "";
  return absl::StrCat(base_url_, tokens_.Sign({job.recipient.customer_id, category, Channel::kEmail}));
}

}  // namespace forewarn
