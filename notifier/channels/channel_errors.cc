#include "notifier/channels/channel_errors.h"

#include <curl/curl.h>

#include "absl/strings/str_cat.h"
#include "services/core/ports.h"

namespace forewarn {
namespace {

using Protocol = ProviderCallResult::Protocol;

bool IsTlsFailure(int code) {
  switch (code) {
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_SSL_ENGINE_NOTFOUND:
    case CURLE_SSL_ENGINE_SETFAILED:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_USE_SSL_FAILED:  // STARTTLS required but not offered
    case CURLE_SSL_ENGINE_INITFAILED:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_SSL_CLIENTCERT:
      return true;
    default:
      return false;
  }
}

bool IsConfigFailure(int code) {
  return code == CURLE_UNSUPPORTED_PROTOCOL || code == CURLE_URL_MALFORMAT || code == CURLE_NOT_BUILT_IN;
}

// An SMTP reply that refuses the client itself (RFC 4954: 530 authentication
// required, 534 mechanism too weak, 535 credentials invalid, 538 encryption
// required), or an HTTP status that refuses the credentials.
bool IsAuthReply(Protocol protocol, long reply) {
  if (protocol == Protocol::kSmtp) return reply == 530 || reply == 534 || reply == 535 || reply == 538;
  return reply == 401 || reply == 403 || reply == 407;
}

// A final negative answer from the provider: the outcome is known.
bool IsNegativeReply(Protocol protocol, long reply) {
  return protocol == Protocol::kSmtp ? reply >= 400 && reply <= 599 : reply >= 300;
}

}  // namespace

absl::Status ClassifyProviderFailure(const ProviderCallResult& r, std::string_view prefix) {
  std::string message = absl::StrCat(std::string(prefix), r.detail);
  if (r.reply != 0) absl::StrAppend(&message, r.protocol == Protocol::kSmtp ? " (reply " : " (HTTP ", r.reply, ")");
  if (IsTlsFailure(r.curl_code)) return ProviderFaultError("tls", message);
  if (r.curl_code == CURLE_LOGIN_DENIED || r.curl_code == CURLE_AUTH_ERROR || IsAuthReply(r.protocol, r.reply)) {
    return ProviderFaultError("auth", message);
  }
  if (IsConfigFailure(r.curl_code)) return ProviderFaultError("config", message);
  if (IsNegativeReply(r.protocol, r.reply)) {
    if (r.protocol == Protocol::kSmtp) {
      return r.reply >= 500 ? absl::FailedPreconditionError(message) : absl::UnavailableError(message);
    }
    if (r.reply < 400) return ProviderFaultError("config", message);  // a redirect: the URL is wrong
    if (r.reply == 408 || r.reply == 429 || r.reply >= 500) return absl::UnavailableError(message);
    return absl::InvalidArgumentError(message);
  }
  if (r.request_sent && r.curl_code != CURLE_OK) {
    return AmbiguousSendError(absl::StrCat(message, "; sent, no answer: the provider may have it"));
  }
  return absl::UnavailableError(message);
}

std::string UrlForMessages(std::string_view url) {
  const size_t scheme_end = url.find("://");
  const size_t host_start = scheme_end == std::string_view::npos ? 0 : scheme_end + 3;
  const size_t path = url.find_first_of("/?#", host_start);
  const size_t at = url.substr(0, path).rfind('@');
  if (at == std::string_view::npos || at < host_start) return std::string(url);
  return absl::StrCat(std::string(url.substr(0, host_start)), std::string(url.substr(at + 1)));
}

}  // namespace forewarn
