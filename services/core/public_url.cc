#include "services/core/public_url.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace forewarn {

absl::Status CheckPublicBaseUrl(std::string_view url) {
  const absl::string_view text(url.data(), url.size());
  auto bad = [&text](const char* why) { return absl::InvalidArgumentError(absl::StrCat("'", text, "': ", why)); };
  for (char ch : text) {
    if (static_cast<unsigned char>(ch) <= ' ' || ch == '?' || ch == '#' || ch == '<' || ch == '>' || ch == '"' ||
        static_cast<unsigned char>(ch) >= 0x7f) {
      return bad("must be a plain URL (no spaces, query, fragment or non-ASCII characters)");
    }
  }
  absl::string_view rest = text;
  const bool https = absl::ConsumePrefix(&rest, "https://");
  if (!https && !absl::ConsumePrefix(&rest, "http://")) return bad("must start with https://");
  const absl::string_view host = rest.substr(0, rest.find_first_of("/"));
  if (host.empty() || host.front() == ':') return bad("has no host");
  const absl::string_view name =
      host.front() == '[' ? host.substr(0, host.find(']') + 1) : host.substr(0, host.find(':'));
  const bool loopback = name == "127.0.0.1" || name == "localhost" || name == "[::1]";
  if (!https && !loopback) return bad("must start with https:// (http:// only for a loopback host)");
  return absl::OkStatus();
}

}  // namespace forewarn
