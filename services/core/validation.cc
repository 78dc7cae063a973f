#include "services/core/validation.h"

#include <set>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "services/core/geo_area.h"
#include "services/core/iban.h"

namespace forewarn {
namespace {

bool IsCode(absl::string_view s) {
  if (s.empty() || s.size() > 64) return false;
  for (char c : s) {
    if (!(absl::ascii_islower(c) || absl::ascii_isdigit(c) || c == '_' || c == '-')) return false;
  }
  return true;
}

// Every violation of one request, in the order the rules run; Result() is
// one INVALID_ARGUMENT listing them all ("a: x; b: y"), so the first field
// still leads the message.
class Violations {
 public:
  // `s`: OK, or an INVALID_ARGUMENT whose message is "field: problem".
  void Add(const absl::Status& s) {
    if (!s.ok()) found_.emplace_back(s.message());
  }
  void Add(absl::string_view field, absl::string_view problem) { found_.push_back(absl::StrCat(field, ": ", problem)); }
  absl::Status Result() const {
    if (found_.empty()) return absl::OkStatus();
    return absl::InvalidArgumentError(absl::StrJoin(found_, "; "));
  }

 private:
  std::vector<std::string> found_;
};

void CheckCodes(absl::string_view field, const std::vector<std::string>& codes, const ValidationLimits& limits,
                Violations& v) {
  if (codes.empty()) return v.Add(field, "at least one is required");
  if (codes.size() > limits.max_codes) return v.Add(field, absl::StrCat("at most ", limits.max_codes, " allowed"));
  std::set<absl::string_view> seen;
  for (size_t i = 0; i < codes.size(); ++i) {
    const std::string item = absl::StrCat(field, "[", i, "]");
    if (!IsCode(codes[i])) {
      v.Add(item, "must be 1-64 characters of a-z, 0-9, '_' or '-'");
    } else if (!seen.insert(codes[i]).second) {
      v.Add(item, absl::StrCat("duplicate '", codes[i], "'"));
    }
  }
}

bool IsAssetCode(absl::string_view s) {
  if (s.empty() || s.size() > 64) return false;
  for (char c : s) {
    if (!(absl::ascii_isalnum(c) || c == '_' || c == '.' || c == ':' || c == '-')) return false;
  }
  return true;
}

void CheckAssetCodes(absl::string_view field, const std::vector<std::string>& codes, const ValidationLimits& limits,
                     Violations& v) {
  if (codes.size() > limits.max_asset_codes) {
    return v.Add(field, absl::StrCat("at most ", limits.max_asset_codes, " allowed"));
  }
  std::set<absl::string_view> seen;
  for (size_t i = 0; i < codes.size(); ++i) {
    const std::string item = absl::StrCat(field, "[", i, "]");
    if (!IsAssetCode(codes[i])) {
      v.Add(item, "must be 1-64 characters of A-Z, a-z, 0-9, '_', '.', ':' or '-'");
    } else if (!seen.insert(codes[i]).second) {
      v.Add(item, absl::StrCat("duplicate '", codes[i], "'"));
    }
  }
}

// The selectors of an outage or maintenance; `prefix` is "" (create) or
// "targets." (update). Writes the canonical area into `out`.
void CheckTargets(absl::string_view prefix, const Targets& t, const ValidationLimits& limits, Targets& out,
                  Violations& v) {
  if (t.regions.empty() && t.asset_codes.empty() && t.audience_id.empty() && !t.area) {
    return v.Add(absl::StrCat(prefix, "regions, ", prefix, "asset_codes, ", prefix, "audience_id, ", prefix, "area"),
                 "at least one selector is required");
  }
  if (!t.regions.empty()) CheckCodes(absl::StrCat(prefix, "regions"), t.regions, limits, v);
  CheckAssetCodes(absl::StrCat(prefix, "asset_codes"), t.asset_codes, limits, v);
  if (!t.audience_id.empty() && !IsUuid(t.audience_id)) {
    v.Add(absl::StrCat(prefix, "audience_id"), "must be a UUID (UploadAudience's audience_id)");
  }
  if (t.area) {
    auto area = ValidateArea(absl::StrCat(prefix, "area"), *t.area);
    if (area.ok()) {
      out.area = *std::move(area);
    } else {
      v.Add(area.status());
    }
  }
}

// Both languages are checked: a request missing both names both.
void CheckReason(const LocalizedText& reason, const ValidationLimits& limits, Violations& v) {
  v.Add(ValidateText("reason.ar", reason.ar, limits));
  v.Add(ValidateText("reason.en", reason.en, limits));
}

void CheckIdempotencyKey(const std::string& key, const ValidationLimits& limits, Violations& v) {
  if (key.empty()) return v.Add("idempotency_key", "is required");
  if (key.size() > limits.max_idempotency_key) {
    return v.Add("idempotency_key", absl::StrCat("at most ", limits.max_idempotency_key, " bytes allowed"));
  }
  for (char c : key) {
    if (c < 0x21 || c > 0x7E) return v.Add("idempotency_key", "must be printable ASCII without spaces");
  }
}

// The end of an incident (`field`: expected_restoration_at or ends_at).
// `end_is_new`: the request sets it, so it must lie ahead of `now` (an
// estimate that has already passed is no estimate; to say service is back,
// resolve). Either way it must follow `start` within max_duration.
void CheckEnd(const char* field, absl::Time start, absl::Time end, bool end_is_new, absl::Time now,
              const ValidationLimits& limits, Violations& v) {
  if (end == absl::InfinitePast() || end == absl::UnixEpoch()) return v.Add(field, "is required");
  if (end_is_new && end <= now) return v.Add(field, "must be in the future");
  if (end <= start) return v.Add(field, "must be after starts_at");
  if (end - start > limits.max_duration) v.Add(field, "more than a year after starts_at");
}

// A start that must lie ahead (`field`: starts_at of maintenance,
// effective_at of an IBAN change), at most max_duration ahead.
void CheckFutureStart(const char* field, absl::Time start, absl::Time now, const ValidationLimits& limits,
                      Violations& v) {
  if (start <= now) return v.Add(field, "must be in the future");
  if (start - now > limits.max_duration) v.Add(field, "more than a year ahead");
}

// The time rules per kind, at creation:
// - Unplanned outage: it may have begun before it was reported, but by no
//   more than limits.max_backdate (an outage "since 1960" is a typo, and
//   would be announced as started and overdue at once); its start defaults
//   to now. Its expected restoration must lie ahead.
// - Planned maintenance: announced ahead of the work, so its start must be
//   in the future (no back-dating window: a past start would skip the
//   announcement and the reminders); its end follows the start, so it is
//   ahead too.
// - IBAN change: the effective date must be in the future (the customers
//   are told before it; a past date cannot be announced).
void CheckCreateTimes(const NewIncident& req, absl::Time now, const ValidationLimits& limits, Violations& v) {
  switch (req.kind) {
    case IncidentKind::kIbanChange:
      if (!req.starts_at) return v.Add("effective_at", "is required");
      return CheckFutureStart("effective_at", *req.starts_at, now, limits, v);
    case IncidentKind::kPlannedMaintenance:
      if (!req.starts_at) {
        v.Add("starts_at", "is required");
      } else {
        CheckFutureStart("starts_at", *req.starts_at, now, limits, v);
      }
      return CheckEnd("ends_at", req.starts_at.value_or(now), req.expected_restoration_at, true, now, limits, v);
    case IncidentKind::kUnplannedOutage:
      if (req.starts_at && now - *req.starts_at > limits.max_backdate) {
        v.Add("starts_at", absl::StrCat("more than ", absl::FormatDuration(limits.max_backdate),
                                        " in the past (the back-dating window)"));
      } else if (req.starts_at && *req.starts_at - now > limits.max_duration) {
        v.Add("starts_at", "more than a year ahead");
      }
      return CheckEnd("expected_restoration_at", req.starts_at.value_or(now), req.expected_restoration_at, true,
                      now, limits, v);
  }
}

}  // namespace

bool IsValidUtf8(absl::string_view s) {
  size_t i = 0;
  const size_t n = s.size();
  while (i < n) {
    const auto c = static_cast<unsigned char>(s[i]);
    size_t len;
    uint32_t cp;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xE0) == 0xC0) {
      len = 2;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      len = 3;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      len = 4;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (i + len > n) return false;
    for (size_t k = 1; k < len; ++k) {
      const auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    // Overlong encodings, surrogates and out-of-range code points are invalid.
    if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) || cp > 0x10FFFF ||
        (cp >= 0xD800 && cp <= 0xDFFF)) {
      return false;
    }
    i += len;
  }
  return true;
}

size_t Utf8Length(absl::string_view s) {
  size_t n = 0;
  for (char c : s) {
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++n;
  }
  return n;
}

bool IsUuid(absl::string_view s) {
  if (s.size() != 36) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (s[i] != '-') return false;
    } else if (!absl::ascii_isxdigit(s[i])) {
      return false;
    }
  }
  return true;
}

absl::Status ValidateText(absl::string_view field, absl::string_view text, const ValidationLimits& limits) {
  if (!IsValidUtf8(text)) return absl::InvalidArgumentError(absl::StrCat(field, ": is not valid UTF-8"));
  if (absl::StripAsciiWhitespace(text).empty()) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": must not be empty"));
  }
  if (const size_t len = Utf8Length(text); len > limits.max_text_chars) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": is ", len, " characters, at most ", limits.max_text_chars, " allowed"));
  }
  for (char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 && c != '\n' && c != '\t') {
      return absl::InvalidArgumentError(absl::StrCat(field, ": contains control characters"));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<Targets> ValidateSelection(const std::vector<std::string>& services, const Targets& targets,
                                          const ValidationLimits& limits) {
  Violations v;
  CheckCodes("services", services, limits, v);
  Targets out = targets;
  CheckTargets("targets.", targets, limits, out, v);
  if (auto s = v.Result(); !s.ok()) return s;
  return out;
}

absl::Status ValidateIncidentId(absl::string_view field, absl::string_view id) {
  if (id.empty()) return absl::InvalidArgumentError(absl::StrCat(field, ": is required"));
  if (!IsUuid(id)) return absl::InvalidArgumentError(absl::StrCat(field, ": must be a UUID"));
  return absl::OkStatus();
}

absl::StatusOr<NewIncident> ValidateNewIncident(const NewIncident& req, absl::Time now,
                                                const ValidationLimits& limits) {
  Violations v;
  CheckIdempotencyKey(req.idempotency_key, limits, v);
  NewIncident out = req;
  if (req.kind == IncidentKind::kIbanChange) {
    if (!req.services.empty() || !req.regions.empty() || !req.asset_codes.empty() || !req.audience_id.empty() ||
        req.area) {
      v.Add("services, regions, asset_codes, audience_id, area", "not used for an IBAN change");
    }
    auto old_iban = NormalizeIban("old_iban", req.old_iban);
    auto new_iban = NormalizeIban("new_iban", req.new_iban);
    v.Add(old_iban.status());
    v.Add(new_iban.status());
    if (old_iban.ok() && new_iban.ok()) {
      if (*old_iban == *new_iban) v.Add("new_iban", "must differ from old_iban");
      out.old_iban = *old_iban;
      out.new_iban = *new_iban;
    }
    out.expected_restoration_at = req.starts_at.value_or(absl::InfinitePast());
  } else {
    if (!req.old_iban.empty() || !req.new_iban.empty()) v.Add("old_iban, new_iban", "only for IBAN changes");
    CheckCodes("services", req.services, limits, v);
    Targets targets{req.regions, req.asset_codes, req.audience_id, req.area};
    CheckTargets("", targets, limits, targets, v);
    out.area = targets.area;
  }
  CheckReason(req.reason, limits, v);
  CheckCreateTimes(req, now, limits, v);
  if (auto s = v.Result(); !s.ok()) return s;
  return out;
}

// The time rules of an update: only what the request sets is checked
// against `now` (a reason-only update of an overdue outage stays possible).
// A new expected restoration / end must lie ahead and follow the start; a
// maintenance reschedule must start in the future and is refused
// (FAILED_PRECONDITION) once the work has begun, when only its end can move.
absl::Status ValidateUpdate(const IncidentUpdate& req, const Incident& current, absl::Time now,
                            const ValidationLimits& limits, IncidentUpdate* normalized) {
  if (current.kind == IncidentKind::kIbanChange) {
    return absl::FailedPreconditionError("an IBAN change cannot be edited; cancel it and announce it again");
  }
  if (!req.reason && !req.expected_restoration_at && !req.starts_at && !req.targets) {
    return absl::InvalidArgumentError("reason, starts_at, expected_restoration_at, targets: at least one must be set");
  }
  Violations v;
  if (req.expected_version < 0) v.Add("expected_version", "must not be negative");
  if (req.reason) CheckReason(*req.reason, limits, v);
  Targets targets = req.targets.value_or(Targets{});
  if (req.targets) CheckTargets("targets.", *req.targets, limits, targets, v);
  const bool maintenance = current.kind == IncidentKind::kPlannedMaintenance;
  const bool started = current.starts_at <= now;
  absl::Time start = current.starts_at;
  if (req.starts_at) {
    if (!maintenance) {
      v.Add("starts_at", "only planned maintenance can be rescheduled");
    } else if (!started) {
      CheckFutureStart("starts_at", *req.starts_at, now, limits, v);
      start = *req.starts_at;
    }
  }
  const char* end_field = maintenance ? "ends_at" : "expected_restoration_at";
  CheckEnd(end_field, start, req.expected_restoration_at.value_or(current.expected_restoration_at),
           req.expected_restoration_at.has_value(), now, limits, v);
  if (auto s = v.Result(); !s.ok()) return s;
  if (req.starts_at && started) {
    return absl::FailedPreconditionError("the maintenance has started; only its end can move");
  }
  if (normalized != nullptr) {
    *normalized = req;
    if (req.targets) normalized->targets = std::move(targets);
  }
  return absl::OkStatus();
}

}  // namespace forewarn
