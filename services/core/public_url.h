#pragma once

// The public links Forewarn puts in notices (one-click unsubscribe, the
// status page): what a configured base URL must look like.

#include <string_view>

#include "absl/status/status.h"

namespace forewarn {

// OK for an https:// URL with a host, or an http:// one whose host is
// loopback (127.0.0.1, localhost, [::1]: tests and local runs), made of
// printable ASCII without spaces, query ('?') or fragment ('#').
// INVALID_ARGUMENT quoting the URL and saying why otherwise.
absl::Status CheckPublicBaseUrl(std::string_view url);

}  // namespace forewarn
