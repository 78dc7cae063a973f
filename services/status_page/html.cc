#include "services/status_page/html.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_format.h"

namespace forewarn {

std::string HtmlEscape(absl::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (const char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string UrlEncode(absl::string_view s) {
  std::string out;
  for (const char c : s) {
    if (absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += c;
    } else {
      out += absl::StrFormat("%%%02X", static_cast<unsigned char>(c));
    }
  }
  return out;
}

}  // namespace forewarn
