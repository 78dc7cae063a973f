#include "services/core/receipts.h"

#include <openssl/crypto.h>

#include <array>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace forewarn {
namespace {

constexpr std::array<std::pair<ReceiptStatus, std::string_view>, 3> kStatuses{{
    {ReceiptStatus::kDelivered, "delivered"},
    {ReceiptStatus::kUndelivered, "undelivered"},
    {ReceiptStatus::kExpired, "expired"},
}};

absl::string_view Sv(std::string_view s) { return absl::string_view(s.data(), s.size()); }

absl::Status BadId(std::string_view why) { return absl::InvalidArgumentError(absl::StrCat("message id: ", Sv(why))); }

// "YYMMDDhhmm" or "YYMMDDhhmmss", UTC.
std::optional<absl::Time> ParseDlrDate(absl::string_view s) {
  if (s.size() != 10 && s.size() != 12) return std::nullopt;
  for (char c : s) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) return std::nullopt;
  }
  auto two = [&](size_t at) { return (s[at] - '0') * 10 + (s[at + 1] - '0'); };
  const absl::CivilSecond civil(2000 + two(0), two(2), two(4), two(6), two(8), s.size() == 12 ? two(10) : 0);
  if (civil.month() != two(2) || civil.day() != two(4) || civil.hour() != two(6) || civil.minute() != two(8)) {
    return std::nullopt;  // normalised: not a real date
  }
  return absl::FromCivil(civil, absl::UTCTimeZone());
}

// The value of "key:" in a receipt text: up to the next space; "submit
// date" and "done date" are the two keys with a space in them.
std::optional<absl::string_view> DlrField(absl::string_view text, absl::string_view key) {
  const std::string needle = absl::StrCat(key, ":");
  size_t at = 0;
  while ((at = text.find(needle, at)) != absl::string_view::npos) {
    if (at == 0 || text[at - 1] == ' ') break;
    at += needle.size();
  }
  if (at == absl::string_view::npos) return std::nullopt;
  absl::string_view rest = text.substr(at + needle.size());
  return rest.substr(0, rest.find(' '));
}

}  // namespace

std::string_view ToString(ReceiptStatus s) {
  for (const auto& [status, name] : kStatuses) {
    if (status == s) return name;
  }
  return "delivered";
}

absl::StatusOr<ReceiptStatus> ParseReceiptStatus(std::string_view s) {
  for (const auto& [status, name] : kStatuses) {
    if (name == s) return status;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("status: \"", Sv(s.substr(0, 32)), "\" is not one of delivered, undelivered, expired"));
}

NoticeState StateOf(ReceiptStatus s) {
  switch (s) {
    case ReceiptStatus::kDelivered: return NoticeState::kDelivered;
    case ReceiptStatus::kUndelivered: return NoticeState::kUndelivered;
    case ReceiptStatus::kExpired: return NoticeState::kExpired;
  }
  return NoticeState::kDelivered;
}

ReceiptTally& ReceiptTally::operator+=(const ReceiptTally& o) {
  applied += o.applied;
  duplicate += o.duplicate;
  pending += o.pending;
  conflicting += o.conflicting;
  return *this;
}

absl::StatusOr<NoticeKey> ParseMessageId(std::string_view id) {
  absl::string_view rest(id.data(), id.size());
  if (!absl::ConsumePrefix(&rest, "<") || !absl::ConsumeSuffix(&rest, "@forewarn>")) {
    return BadId("not one of Forewarn's");
  }
  std::vector<absl::string_view> parts = absl::StrSplit(rest, '.');
  if (parts.size() != 5) return BadId("not one of Forewarn's");
  NoticeKey key;
  key.incident_id = std::string(parts[0]);
  absl::string_view version = parts[1];
  absl::string_view customer = parts[3];
  if (!absl::ConsumePrefix(&version, "v") || !absl::SimpleAtoi(version, &key.version) ||
      !absl::ConsumePrefix(&customer, "c") || !absl::SimpleAtoi(customer, &key.customer_id)) {
    return BadId("not one of Forewarn's");
  }
  std::vector<absl::string_view> kind = absl::StrSplit(parts[2], absl::MaxSplits('~', 1));
  auto parsed_kind = ParseNoticeKind(std::string_view(kind[0].data(), kind[0].size()));
  auto channel = ParseChannel(std::string_view(parts[4].data(), parts[4].size()));
  if (!parsed_kind.ok() || !channel.ok()) return BadId("not one of Forewarn's");
  key.kind = *parsed_kind;
  key.channel = *channel;
  if (kind.size() == 2) key.occasion = std::string(kind[1]);
  // Only the one spelling MessageIdFor writes.
  if (MessageIdFor(key) != id) return BadId("not one of Forewarn's");
  return key;
}

std::optional<DlrText> ParseDlrText(std::string_view text) {
  const absl::string_view t(text.data(), text.size());
  auto id = DlrField(t, "id");
  auto stat = DlrField(t, "stat");
  if (!id || !stat || id->empty() || stat->empty()) return std::nullopt;
  DlrText out;
  out.id = std::string(*id);
  out.stat = std::string(*stat);
  if (auto err = DlrField(t, "err")) out.err = std::string(*err);
  if (auto done = DlrField(t, "done date")) out.done = ParseDlrDate(*done);
  return out;
}

std::optional<ReceiptStatus> StatusOfStat(std::string_view stat) {
  if (stat == "DELIVRD") return ReceiptStatus::kDelivered;
  if (stat == "EXPIRED") return ReceiptStatus::kExpired;
  if (stat == "UNDELIV" || stat == "REJECTD" || stat == "DELETED" || stat == "UNKNOWN") {
    return ReceiptStatus::kUndelivered;
  }
  return std::nullopt;
}

absl::StatusOr<ReceiptSigner> ReceiptSigner::FromSecret(std::string secret) {
  if (absl::Status s = CheckSecretLength(secret, "receipt secret"); !s.ok()) return s;
  return ReceiptSigner(std::move(secret));
}

absl::StatusOr<ReceiptSigner> ReceiptSigner::FromFile(const std::string& path) {
  absl::StatusOr<std::string> secret = ReadSecretFile(path);
  if (!secret.ok()) return secret.status();
  return ReceiptSigner(*std::move(secret));
}

std::string ReceiptSigner::Sign(std::string_view data) const {
  const std::array<unsigned char, 32> mac = HmacSha256(secret_, "forewarn-receipt-v1", data);
  return absl::WebSafeBase64Escape(absl::string_view(reinterpret_cast<const char*>(mac.data()), 16));
}

bool ReceiptSigner::Verify(std::string_view data, std::string_view signature) const {
  const std::string want = Sign(data);
  return signature.size() == want.size() && CRYPTO_memcmp(want.data(), signature.data(), want.size()) == 0;
}

}  // namespace forewarn
