#include "services/public_http/inbound_sms.h"

#include <algorithm>
#include <array>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace forewarn {
namespace {

constexpr std::array<std::pair<std::string_view, SmsKeyword>, 8> kKeywords = {{
    {"STOP", SmsKeyword::kStop},
    {"STOP ALL", SmsKeyword::kStop},
    {"UNSUBSCRIBE", SmsKeyword::kStop},
    {"\xD8\xA5\xD9\x8A\xD9\x82\xD8\xA7\xD9\x81", SmsKeyword::kStop},  // إيقاف
    {"\xD8\xA7\xD9\x8A\xD9\x82\xD8\xA7\xD9\x81", SmsKeyword::kStop},  // ايقاف
    {"START", SmsKeyword::kStart},
    {"UNSTOP", SmsKeyword::kStart},
    {"\xD8\xA8\xD8\xAF\xD8\xA1", SmsKeyword::kStart},  // بدء
}};

// Upper-cased ASCII, single spaces, without surrounding space or a final
// '.' / '!'.
std::string Canonical(std::string_view text) {
  std::vector<absl::string_view> words =
      absl::StrSplit(absl::string_view(text.data(), text.size()), absl::ByAnyChar(" \t\r\n"), absl::SkipEmpty());
  std::string out = absl::StrJoin(words, " ");
  while (!out.empty() && (out.back() == '.' || out.back() == '!')) out.pop_back();
  absl::AsciiStrToUpper(&out);
  return out;
}

}  // namespace

const char* KeywordLabel(SmsKeyword k) {
  switch (k) {
    case SmsKeyword::kStop: return "stop";
    case SmsKeyword::kStart: return "start";
    case SmsKeyword::kNone: break;
  }
  return "other";
}

SmsKeyword ParseSmsKeyword(std::string_view text) {
  const std::string canonical = Canonical(text);
  for (const auto& [word, keyword] : kKeywords) {
    if (canonical == word) return keyword;
  }
  return SmsKeyword::kNone;
}

std::string KeywordLocale(std::string_view text) {
  for (unsigned char c : text) {
    if (c >= 0x80) return "ar";  // the only non-ASCII keywords are Arabic
  }
  return "en";
}

std::string GatewaySender(std::string_view from) {
  std::string out(absl::StripAsciiWhitespace(absl::string_view(from.data(), from.size())));
  const bool digits = !out.empty() && std::all_of(out.begin(), out.end(), [](char c) { return absl::ascii_isdigit(c); });
  if (digits && out.size() >= 11 && out.front() != '0') out.insert(out.begin(), '+');
  return out;
}

std::string SmsReply(SmsKeyword k, std::string_view locale) {
  const bool ar = locale.substr(0, 2) == "ar";
  switch (k) {
    case SmsKeyword::kStop:
      return ar ? "Forewarn: أوقفنا الرسائل النصية التي يمكن إيقافها، وتصلك تنبيهات الانقطاعات الطارئة دائمًا "
                  "برسالة نصية أو بريد إلكتروني. أرسل بدء لإعادتها."
                : "Forewarn: texts you can turn off are off. Alerts about unplanned outages still come by text "
                  "or email. Reply START to turn texts back on.";
    case SmsKeyword::kStart:
      return ar ? "Forewarn: أعدنا تشغيل الرسائل النصية. أرسل إيقاف لإيقافها."
                : "Forewarn: texts are back on. Reply STOP to turn them off.";
    case SmsKeyword::kNone: break;
  }
  return "";
}

}  // namespace forewarn
