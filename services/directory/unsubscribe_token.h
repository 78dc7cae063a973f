#pragma once

// Unsubscribe tokens: what the one-click link of an email (RFC 8058) carries
// instead of a login. A token names one customer, one notice category and one
// channel, and is signed with HMAC-SHA256 under a secret only Forewarn holds,
// so it cannot be guessed, altered, or turned into another customer's.
//
// Layout (26 bytes, URL-safe base64 without padding: 35 characters):
//   [0]      key version (1..255): which secret signed it, so keys can rotate
//   [1..8]   customer id, big-endian
//   [9]      category (high nibble) and channel (low nibble)
//   [10..25] HMAC-SHA256(secret, "forewarn-unsubscribe-v1" || bytes 0..9),
//            truncated to 128 bits
// A token does not expire: the link of an old email keeps working (it only
// ever turns a channel off, and doing so twice changes nothing).

#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "services/core/model.h"

namespace forewarn {

struct UnsubscribePayload {
  int64_t customer_id = 0;
  NoticeCategory category = NoticeCategory::kPlannedMaintenance;
  Channel channel = Channel::kEmail;
  bool operator==(const UnsubscribePayload&) const = default;
};

struct UnsubscribeKey {
  int version = 1;     // 1..255
  std::string secret;  // at least kMinSecretBytes
};

class UnsubscribeTokens {
 public:
  static constexpr size_t kMinSecretBytes = 32;

  // The first key signs; every key verifies (an older key stays listed
  // while links it signed may still be clicked). INVALID_ARGUMENT for no
  // key, a version outside 1..255 or repeated, a secret under 32 bytes.
  static absl::StatusOr<UnsubscribeTokens> FromKeys(std::vector<UnsubscribeKey> keys);

  // Reads the keys from a file: one key per line, "VERSION SECRET" (e.g.
  // "2 <openssl rand -hex 32>"), the signing key first; or a single line
  // "SECRET" (version 1). Blank lines and lines starting with '#' are
  // skipped. FAILED_PRECONDITION naming the file (and line) when it cannot
  // be read or a key is unusable; the secrets never appear in a message.
  static absl::StatusOr<UnsubscribeTokens> FromFile(const std::string& path);

  // The token for `payload` under the signing key (customer_id > 0).
  std::string Sign(const UnsubscribePayload& payload) const;

  // The payload of a token this key ring signed. INVALID_ARGUMENT for
  // anything else: not URL-safe base64, too short or too long (truncated),
  // a key version it does not hold, a signature that does not match
  // (tampered, or signed with another secret), an unknown category or
  // channel. The signature is compared in constant time.
  absl::StatusOr<UnsubscribePayload> Verify(std::string_view token) const;

  int signing_version() const { return keys_.front().version; }

 private:
  explicit UnsubscribeTokens(std::vector<UnsubscribeKey> keys) : keys_(std::move(keys)) {}
  std::vector<UnsubscribeKey> keys_;
};

// The List-Unsubscribe links of the notifier's emails: `base_url` followed by
// the token, for the email notices of the categories a customer may silence
// (`silenceable`, the opt-out policy's categories).
class UnsubscribeLinks {
 public:
  // INVALID_ARGUMENT unless `base_url` is an https:// URL (http:// only for
  // a loopback host, for tests and local runs) without spaces, query or
  // fragment; it should end with "/" (the token is appended as is).
  static absl::StatusOr<UnsubscribeLinks> Create(std::string base_url, UnsubscribeTokens tokens,
                                                 std::set<NoticeCategory> silenceable);

  // The link for this email notice, or "" (an SMS, or a category the
  // customer cannot turn off).
  std::string For(const NoticeJob& job) const;

 private:
  UnsubscribeLinks(std::string base_url, UnsubscribeTokens tokens, std::set<NoticeCategory> silenceable)
      : base_url_(std::move(base_url)), tokens_(std::move(tokens)), silenceable_(std::move(silenceable)) {}
  std::string base_url_;
  UnsubscribeTokens tokens_;
  std::set<NoticeCategory> silenceable_;
};

}  // namespace forewarn
