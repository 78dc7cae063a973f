#include "notifier/sms/phone.h"

#include <phonenumbers/phonenumber.pb.h>
#include <phonenumbers/phonenumberutil.h>

#include <cstdint>
#include <optional>
#include <string>

#include "absl/strings/str_cat.h"

namespace forewarn {
namespace {

using i18n::phonenumbers::PhoneNumber;
using i18n::phonenumbers::PhoneNumberUtil;

const char* ParseErrorText(PhoneNumberUtil::ErrorType e) {
  switch (e) {
    case PhoneNumberUtil::INVALID_COUNTRY_CODE_ERROR:
      return "unknown country code";
    case PhoneNumberUtil::NOT_A_NUMBER:
      return "not a phone number";
    case PhoneNumberUtil::TOO_SHORT_AFTER_IDD:
    case PhoneNumberUtil::TOO_SHORT_NSN:
      return "too short";
    case PhoneNumberUtil::TOO_LONG_NSN:
      return "too long";
    default:
      return "cannot be parsed";
  }
}

// Fast path for what the notifier sees almost always: a number already in
// E.164 ("+" then 8 to 15 digits, no leading zero). The country code is the
// 1-3 digit prefix libphonenumber knows (country codes are prefix-free), so
// the generic Parse (several regular expressions per number, a third of the
// notifier's CPU in the fan-out benchmark) is skipped; IsValidNumber still
// checks the number against its country's metadata. Unset: not in that form.
std::optional<PhoneNumber> FromE164(const PhoneNumberUtil& util, std::string_view phone) {
  if (phone.size() < 9 || phone.size() > 16 || phone[0] != '+' || phone[1] == '0') return std::nullopt;
  for (char c : phone.substr(1)) {
    if (c < '0' || c > '9') return std::nullopt;
  }
  const auto digits = [](std::string_view d) {
    uint64_t v = 0;
    for (char c : d) v = v * 10 + static_cast<uint64_t>(c - '0');  // at most 15 digits: no overflow
    return v;
  };
  std::string region;
  for (size_t len = 1; len <= 3; ++len) {
    const int cc = static_cast<int>(digits(phone.substr(1, len)));
    util.GetRegionCodeForCountryCode(cc, &region);
    if (region == "ZZ") continue;
    const std::string_view national = phone.substr(1 + len);
    if (national.empty() || national[0] == '0') return std::nullopt;  // leading zeros: the general path
    PhoneNumber number;
    number.set_country_code(cc);
    number.set_national_number(digits(national));
    return number;
  }
  return std::nullopt;
}

}  // namespace

absl::StatusOr<std::string> NormalizeE164(std::string_view phone, std::string_view default_region) {
  if (phone.empty()) return absl::InvalidArgumentError("phone number is empty");
  if (phone.size() > 64) return absl::InvalidArgumentError("phone number is too long");
  const PhoneNumberUtil& util = *PhoneNumberUtil::GetInstance();
  if (auto number = FromE164(util, phone); number && util.IsValidNumber(*number)) return std::string(phone);
  PhoneNumber number;
  const auto rc = util.Parse(std::string(phone), std::string(default_region), &number);
  if (rc != PhoneNumberUtil::NO_PARSING_ERROR) {
    return absl::InvalidArgumentError(
        absl::StrCat("phone number ", ParseErrorText(rc), " (default region ", std::string(default_region), ")"));
  }
  if (!util.IsValidNumber(number)) {
    std::string region;
    util.GetRegionCodeForNumber(number, &region);
    return absl::InvalidArgumentError(absl::StrCat("phone number is not valid for country code +",
                                                   number.country_code(),
                                                   region.empty() ? std::string() : absl::StrCat(" (", region, ")")));
  }
  std::string e164;
  util.Format(number, PhoneNumberUtil::E164, &e164);
  return e164;
}

absl::StatusOr<std::string> SendableE164(std::string_view phone, std::string_view default_region) {
  const PhoneNumberUtil& util = *PhoneNumberUtil::GetInstance();
  if (auto number = FromE164(util, phone); number && util.IsPossibleNumber(*number)) return std::string(phone);
  return NormalizeE164(phone, default_region);
}

bool IsPlausibleEmail(std::string_view email) {
  if (email.size() > 254) return false;
  const size_t at = email.find('@');
  if (at == std::string_view::npos || email.find('@', at + 1) != std::string_view::npos) return false;
  const std::string_view local = email.substr(0, at);
  const std::string_view domain = email.substr(at + 1);
  if (local.empty() || local.size() > 64) return false;
  for (unsigned char c : email) {
    if (c <= 0x20 || c == 0x7F) return false;  // spaces and control characters
    if (c == '"' || c == '<' || c == '>' || c == ',' || c == ';' || c == '(' || c == ')' || c == '[' || c == ']' ||
        c == '\\') {
      return false;
    }
  }
  if (local.front() == '.' || local.back() == '.' || local.find("..") != std::string_view::npos) return false;
  int labels = 0;
  size_t start = 0;
  while (start <= domain.size()) {
    size_t end = domain.find('.', start);
    if (end == std::string_view::npos) end = domain.size();
    const std::string_view label = domain.substr(start, end - start);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') return false;
    for (unsigned char c : label) {
      const bool ok =
          (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c >= 0x80;
      if (!ok) return false;
    }
    ++labels;
    start = end + 1;
  }
  return labels >= 2;
}

}  // namespace forewarn
