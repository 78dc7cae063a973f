#include "services/core/validation.h"

#include <set>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
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

absl::Status ValidateCodes(absl::string_view field, const std::vector<std::string>& codes,
                           const ValidationLimits& limits) {
  if (codes.empty()) return absl::InvalidArgumentError(absl::StrCat(field, ": at least one is required"));
  if (codes.size() > limits.max_codes) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": at most ", limits.max_codes, " allowed"));
  }
  std::set<absl::string_view> seen;
  for (size_t i = 0; i < codes.size(); ++i) {
    if (!IsCode(codes[i])) {
      return absl::InvalidArgumentError(
          absl::StrCat(field, "[", i, "]: must be 1-64 characters of a-z, 0-9, '_' or '-'"));
    }
    if (!seen.insert(codes[i]).second) {
      return absl::InvalidArgumentError(absl::StrCat(field, "[", i, "]: duplicate '", codes[i], "'"));
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateReason(const LocalizedText& reason, const ValidationLimits& limits) {
  if (auto s = ValidateText("reason.ar", reason.ar, limits); !s.ok()) return s;
  return ValidateText("reason.en", reason.en, limits);
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

absl::Status ValidateIncidentId(absl::string_view field, absl::string_view id) {
  if (id.empty()) return absl::InvalidArgumentError(absl::StrCat(field, ": is required"));
  if (!IsUuid(id)) return absl::InvalidArgumentError(absl::StrCat(field, ": must be a UUID"));
  return absl::OkStatus();
}

absl::StatusOr<NewIncident> ValidateNewIncident(const NewIncident& req, absl::Time now,
                                                const ValidationLimits& limits) {
  if (req.idempotency_key.empty()) return absl::InvalidArgumentError("idempotency_key: is required");
  if (req.idempotency_key.size() > limits.max_idempotency_key) {
    return absl::InvalidArgumentError(
        absl::StrCat("idempotency_key: at most ", limits.max_idempotency_key, " bytes allowed"));
  }
  for (char c : req.idempotency_key) {
    if (c < 0x21 || c > 0x7E) {
      return absl::InvalidArgumentError("idempotency_key: must be printable ASCII without spaces");
    }
  }
  NewIncident out = req;
  if (req.kind == IncidentKind::kIbanChange) {
    if (!req.services.empty() || !req.regions.empty()) {
      return absl::InvalidArgumentError("services, regions: not used for an IBAN change");
    }
    auto old_iban = NormalizeIban("old_iban", req.old_iban);
    if (!old_iban.ok()) return old_iban.status();
    auto new_iban = NormalizeIban("new_iban", req.new_iban);
    if (!new_iban.ok()) return new_iban.status();
    if (*old_iban == *new_iban) return absl::InvalidArgumentError("new_iban: must differ from old_iban");
    out.old_iban = *old_iban;
    out.new_iban = *new_iban;
    if (auto s = ValidateReason(req.reason, limits); !s.ok()) return s;
    if (!req.starts_at) return absl::InvalidArgumentError("effective_at: is required");
    if (*req.starts_at <= now) return absl::InvalidArgumentError("effective_at: must be in the future");
    if (*req.starts_at - now > limits.max_duration) {
      return absl::InvalidArgumentError("effective_at: more than a year ahead");
    }
    out.expected_restoration_at = *req.starts_at;
    return out;
  }
  if (!req.old_iban.empty() || !req.new_iban.empty()) {
    return absl::InvalidArgumentError("old_iban, new_iban: only for IBAN changes");
  }
  if (auto s = ValidateCodes("services", req.services, limits); !s.ok()) return s;
  if (auto s = ValidateCodes("regions", req.regions, limits); !s.ok()) return s;
  if (auto s = ValidateReason(req.reason, limits); !s.ok()) return s;
  const bool maintenance = req.kind == IncidentKind::kPlannedMaintenance;
  const char* end_field = maintenance ? "ends_at" : "expected_restoration_at";
  if (maintenance) {
    if (!req.starts_at) return absl::InvalidArgumentError("starts_at: is required");
    if (*req.starts_at <= now) return absl::InvalidArgumentError("starts_at: must be in the future");
  }
  const absl::Time start = req.starts_at.value_or(now);
  if (req.expected_restoration_at == absl::InfinitePast() || req.expected_restoration_at == absl::UnixEpoch()) {
    return absl::InvalidArgumentError(absl::StrCat(end_field, ": is required"));
  }
  if (req.expected_restoration_at <= start) {
    return absl::InvalidArgumentError(absl::StrCat(end_field, ": must be after starts_at"));
  }
  if (req.expected_restoration_at - start > limits.max_duration) {
    return absl::InvalidArgumentError(absl::StrCat(end_field, ": more than a year after starts_at"));
  }
  if (req.starts_at && *req.starts_at - now > limits.max_duration) {
    return absl::InvalidArgumentError("starts_at: more than a year ahead");
  }
  return out;
}

absl::Status ValidateUpdate(const IncidentUpdate& req, const Incident& current, absl::Time now,
                            const ValidationLimits& limits) {
  if (current.kind == IncidentKind::kIbanChange) {
    return absl::FailedPreconditionError("an IBAN change cannot be edited; cancel it and announce it again");
  }
  if (!req.reason && !req.expected_restoration_at && !req.starts_at) {
    return absl::InvalidArgumentError("reason, starts_at, expected_restoration_at: at least one must be set");
  }
  if (req.expected_version < 0) return absl::InvalidArgumentError("expected_version: must not be negative");
  if (req.reason) {
    if (auto s = ValidateReason(*req.reason, limits); !s.ok()) return s;
  }
  const bool maintenance = current.kind == IncidentKind::kPlannedMaintenance;
  if (req.starts_at) {
    if (!maintenance) return absl::InvalidArgumentError("starts_at: only planned maintenance can be rescheduled");
    if (current.starts_at <= now) {
      return absl::FailedPreconditionError("the maintenance has started; only its end can move");
    }
    if (*req.starts_at <= now) return absl::InvalidArgumentError("starts_at: must be in the future");
  }
  const absl::Time start = req.starts_at.value_or(current.starts_at);
  const absl::Time end = req.expected_restoration_at.value_or(current.expected_restoration_at);
  const char* end_field = maintenance ? "ends_at" : "expected_restoration_at";
  if (end <= start) return absl::InvalidArgumentError(absl::StrCat(end_field, ": must be after starts_at"));
  if (end - start > limits.max_duration) {
    return absl::InvalidArgumentError(absl::StrCat(end_field, ": more than a year after starts_at"));
  }
  return absl::OkStatus();
}

}  // namespace forewarn
