#pragma once

// What every notice carries besides its facts (issue 19): the incident's
// reference (Incident::ref), a link to the status page and a verification
// code.
//
// The link is BASE/n/TOKEN: one random token per (incident, language, time
// zone), stored the first time a notice needs it (StatusLinks), so it opens
// the incident's page in the customer's language and zone and names no
// customer. The code is MessageCodes' (message_code.h): recomputed from the
// notice, never stored, so sending costs no write per notice.

#include <cstddef>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>

#include "absl/status/statusor.h"
#include "services/core/message_code.h"
#include "services/core/model.h"

namespace forewarn {

// Port: the status links' tokens (services/pg/pg_status_links.h).
class StatusLinks {
 public:
  virtual ~StatusLinks() = default;
  // The token of (incident, language "ar"|"en", IANA time zone): the stored
  // one, else a new random one stored first. Callers racing for one
  // combination all get the token stored first, so a notice rendered twice
  // (a retry, another worker) reads the same. UNAVAILABLE when the store
  // cannot be reached (retryable: nothing was sent); NOT_FOUND for an
  // unknown incident.
  virtual absl::StatusOr<std::string> TokenFor(const std::string& incident_id, const std::string& language,
                                               const std::string& time_zone) = 0;
};

// A new random status link token: 40 random bits in Crockford base32 (8
// characters, as migration 15's CHECK wants).
std::string NewStatusLinkToken();

// The kinds whose notices carry no status link by default: banks are phished
// with fake "your IBAN changes" messages, so those notices train nobody to
// follow a link; they keep the code (checked on the status page the customer
// opens themselves).
std::set<NoticeKind> DefaultStatusLinkKinds();

// The link and code of one notice, as the templates show them.
struct NoticeMarks {
  std::string status_url;  // "" when the kind carries no link or none is configured
  std::string check_code;  // "" only without a code secret
};

// What the notices carry, as configured (checked once, at start-up).
struct NoticeLinkSettings {
  // INVALID_ARGUMENT quoting `base_url` unless it is "" (no links) or passes
  // CheckPublicBaseUrl; trailing slashes are dropped. Without `codes`
  // notices carry no code. Links only for `link_kinds`.
  static absl::StatusOr<NoticeLinkSettings> Create(std::string base_url, std::optional<MessageCodes> codes,
                                                   std::set<NoticeKind> link_kinds = DefaultStatusLinkKinds());

  // "https://status.example/n/TOKEN".
  std::string UrlFor(std::string_view token) const;
  // The longest marks a notice of `kind` can carry (a token and a code of
  // their real length): for SMS length checks without a store.
  NoticeMarks Longest(NoticeKind kind) const;

  std::string base_url;  // "" or without a trailing '/'
  std::optional<MessageCodes> codes;
  std::set<NoticeKind> link_kinds;
};

// The marks of each notice: the code computed once per (incident, version,
// kind), the token asked of StatusLinks once per (incident, language, zone),
// while they stay in bounded caches: a fan-out makes one query per
// combination and one HMAC per notice text, not per customer. Thread-safe.
class NoticeLinks {
 public:
  static constexpr size_t kMaxCachedTokens = 4096;  // in each cache: tokens, codes

  // `links` must outlive this; it is not asked without a base URL.
  NoticeLinks(NoticeLinkSettings settings, StatusLinks& links)
      : settings_(std::move(settings)), links_(links) {}

  // The marks of `job`'s notice about `incident` in `language` ("ar"|"en").
  // StatusLinks' errors are returned as they are.
  absl::StatusOr<NoticeMarks> For(const NoticeJob& job, const Incident& incident, const std::string& language);

  const NoticeLinkSettings& settings() const { return settings_; }

 private:
  absl::StatusOr<std::string> Token(const std::string& incident_id, const std::string& language,
                                    const std::string& time_zone);
  std::string Code(const std::string& incident_id, int64_t version, NoticeKind kind);

  const NoticeLinkSettings settings_;
  StatusLinks& links_;
  std::mutex mu_;
  std::unordered_map<std::string, std::string> tokens_;  // "incident\nlanguage\nzone" -> token
  std::unordered_map<std::string, std::string> codes_;   // "incident\nversion\nkind" -> code
};

}  // namespace forewarn
