#include "services/core/notice_links.h"

#include <openssl/rand.h>

#include <array>
#include <cstdlib>
#include <utility>

#include "absl/strings/str_cat.h"
#include "services/core/incident_ref.h"
#include "services/core/public_url.h"

namespace forewarn {
namespace {

constexpr int kTokenChars = 8;  // 40 bits

}  // namespace

std::string NewStatusLinkToken() {
  std::array<unsigned char, 5> bytes{};
  // OpenSSL's generator is seeded from the OS; should it ever fail, no
  // predictable token goes out.
  if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1) std::abort();
  uint64_t bits = 0;
  for (unsigned char b : bytes) bits = (bits << 8) | b;
  return CrockfordEncode(bits, kTokenChars);
}

std::set<NoticeKind> DefaultStatusLinkKinds() {
  std::set<NoticeKind> kinds(AllNoticeKinds().begin(), AllNoticeKinds().end());
  kinds.erase(NoticeKind::kIbanChangeHolder);
  kinds.erase(NoticeKind::kIbanChangeBeneficiary);
  return kinds;
}

absl::StatusOr<NoticeLinkSettings> NoticeLinkSettings::Create(std::string base_url, std::optional<MessageCodes> codes,
                                                              std::set<NoticeKind> link_kinds) {
  if (!base_url.empty()) {
    if (absl::Status s = CheckPublicBaseUrl(base_url); !s.ok()) return s;
    while (base_url.back() == '/') base_url.pop_back();
  }
  return NoticeLinkSettings{std::move(base_url), std::move(codes), std::move(link_kinds)};
}

std::string NoticeLinkSettings::UrlFor(std::string_view token) const {
  return absl::StrCat(base_url, "/n/", absl::string_view(token.data(), token.size()));
}

NoticeMarks NoticeLinkSettings::Longest(NoticeKind kind) const {
  NoticeMarks out;
  if (codes) out.check_code = std::string(MessageCodes::kChars, 'W');
  if (!base_url.empty() && link_kinds.contains(kind)) out.status_url = UrlFor(std::string(kTokenChars, 'W'));
  return out;
}

std::string NoticeLinks::Code(const std::string& incident_id, int64_t version, NoticeKind kind) {
  const std::string key = absl::StrCat(incident_id, "\n", version, "\n", ToString(kind));
  {
    std::lock_guard lock(mu_);
    if (auto it = codes_.find(key); it != codes_.end()) return it->second;
  }
  std::string code = settings_.codes->Code({incident_id, version, std::string(ToString(kind))});
  std::lock_guard lock(mu_);
  if (codes_.size() >= kMaxCachedTokens) codes_.clear();
  codes_.emplace(key, code);
  return code;
}

absl::StatusOr<std::string> NoticeLinks::Token(const std::string& incident_id, const std::string& language,
                                               const std::string& time_zone) {
  const std::string key = absl::StrCat(incident_id, "\n", language, "\n", time_zone);
  {
    std::lock_guard lock(mu_);
    if (auto it = tokens_.find(key); it != tokens_.end()) return it->second;
  }
  absl::StatusOr<std::string> token = links_.TokenFor(incident_id, language, time_zone);
  if (!token.ok()) return token.status();
  std::lock_guard lock(mu_);
  if (tokens_.size() >= kMaxCachedTokens) tokens_.clear();
  tokens_.emplace(key, *token);
  return token;
}

absl::StatusOr<NoticeMarks> NoticeLinks::For(const NoticeJob& job, const Incident& incident,
                                             const std::string& language) {
  NoticeMarks out;
  if (settings_.codes) out.check_code = Code(incident.id, job.version, job.kind);
  if (settings_.base_url.empty() || !settings_.link_kinds.contains(job.kind)) return out;
  absl::StatusOr<std::string> token = Token(incident.id, language, job.recipient.time_zone);
  if (!token.ok()) return token.status();
  out.status_url = settings_.UrlFor(*token);
  return out;
}

}  // namespace forewarn
