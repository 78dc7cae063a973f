#pragma once

#include <string>
#include "absl/strings/string_view.h"

namespace forewarn {

// Text and attribute values in HTML and XML: & < > " ' escaped.
std::string HtmlEscape(absl::string_view s);
// A query-string value: everything but unreserved characters %-encoded.
std::string UrlEncode(absl::string_view s);

}  // namespace forewarn
