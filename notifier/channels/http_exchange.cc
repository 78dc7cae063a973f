#include "notifier/channels/http_exchange.h"

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <memory>
#include <mutex>
#include <utility>

#include "absl/strings/str_cat.h"
#include "notifier/channels/channel_errors.h"
#include "services/core/ports.h"

namespace forewarn {
namespace {

constexpr size_t kMaxResponse = 64 * 1024;
constexpr size_t kErrorBodyChars = 200;

void GlobalInitOnce() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

void ApplyEndpoint(CURL* h, const HttpEndpoint& e, char* errbuf) {
  curl_easy_setopt(h, CURLOPT_URL, e.url.c_str());
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
  ApplyConnectOptions(h, e.timeout, e.verify_peer, e.ca_file, errbuf);
}

}  // namespace

HttpExchange::HttpExchange(HttpEndpoint endpoint) : endpoint_(std::move(endpoint)) {
  GlobalInitOnce();
  curl_ = curl_easy_init();
  if (curl_ == nullptr) {
    status_ = absl::UnavailableError("sms: curl_easy_init failed");
    return;
  }
  ApplyEndpoint(curl_, endpoint_, errbuf_);
  curl_easy_setopt(curl_, CURLOPT_WRITEFUNCTION, &HttpExchange::Write);
  curl_easy_setopt(curl_, CURLOPT_WRITEDATA, this);
  timeout_.Install(curl_);
}

HttpExchange::~HttpExchange() {
  if (curl_ != nullptr) curl_easy_cleanup(curl_);
}

size_t HttpExchange::Write(char* data, size_t size, size_t nmemb, void* userdata) {
  auto* self = static_cast<HttpExchange*>(userdata);
  const size_t n = size * nmemb;
  const size_t keep = std::min(n, kMaxResponse - std::min(kMaxResponse, self->response_.size()));
  self->response_.append(data, keep);
  return n;  // drop the excess, do not fail the transfer
}

absl::StatusOr<HttpReply> HttpExchange::Perform(std::string_view error_prefix, const std::string& url) {
  if (!status_.ok()) return status_;
  curl_easy_setopt(curl_, CURLOPT_URL, url.empty() ? endpoint_.url.c_str() : url.c_str());
  response_.clear();
  errbuf_[0] = '\0';
  timeout_.Start(endpoint_.timeout);
  const CURLcode rc = timeout_.Result(curl_easy_perform(curl_));
  ProviderCallResult result{ProviderCallResult::Protocol::kHttp, rc, 0, false, ""};
  curl_easy_getinfo(curl_, CURLINFO_RESPONSE_CODE, &result.reply);
  if (rc == CURLE_OK && result.reply >= 200 && result.reply <= 299) return HttpReply{result.reply, response_};
  long request_size = 0;  // bytes of the request that went out
  curl_easy_getinfo(curl_, CURLINFO_REQUEST_SIZE, &request_size);
  result.request_sent = request_size > 0;
  result.detail = timeout_.expired() ? absl::StrCat("no answer within ", endpoint_.timeout.count(), " ms")
                  : rc != CURLE_OK   ? (errbuf_[0] != '\0' ? std::string(errbuf_) : std::string(curl_easy_strerror(rc)))
                                     : ErrorSnippet(response_);
  return ClassifyProviderFailure(result, error_prefix);
}

absl::Status HttpExchange::Probe() const {
  if (!status_.ok()) return status_;
  std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> h(curl_easy_init(), &curl_easy_cleanup);
  if (h == nullptr) return absl::UnavailableError("sms: curl_easy_init failed");
  char errbuf[CURL_ERROR_SIZE] = {};
  ApplyEndpoint(h.get(), endpoint_, errbuf);
  curl_easy_setopt(h.get(), CURLOPT_TIMEOUT_MS, static_cast<long>(std::max<int64_t>(1, endpoint_.timeout.count())));
  curl_easy_setopt(h.get(), CURLOPT_CONNECT_ONLY, 1L);  // TCP (and TLS): no request
  const CURLcode rc = curl_easy_perform(h.get());
  if (rc == CURLE_OK) return absl::OkStatus();
  const ProviderCallResult result{ProviderCallResult::Protocol::kHttp, rc, 0, false,
                                  errbuf[0] != '\0' ? std::string(errbuf) : std::string(curl_easy_strerror(rc))};
  const absl::Status classified = ClassifyProviderFailure(result, "");
  const std::string where = absl::StrCat(UrlForMessages(endpoint_.url), ": ");
  const std::string reason = ProviderFaultReason(classified);
  if (reason == "tls" && rc != CURLE_SSL_CONNECT_ERROR) {
    return absl::FailedPreconditionError(absl::StrCat(where, "TLS certificate not accepted: ", classified.message(),
                                                      "; set ", endpoint_.ca_flag, " to the CA that issued it"));
  }
  if (reason == "tls") {
    return absl::FailedPreconditionError(
        absl::StrCat(where, "TLS handshake failed: ", classified.message(), " (is it an https port?)"));
  }
  if (!reason.empty()) return absl::FailedPreconditionError(absl::StrCat(where, classified.message()));
  return absl::UnavailableError(absl::StrCat(where, "cannot reach the gateway: ", classified.message()));
}

std::string ErrorSnippet(std::string_view body) {
  std::string out;
  size_t digits = 0;
  for (size_t i = 0; i < body.size() && out.size() < kErrorBodyChars; ++i) {
    const auto c = static_cast<unsigned char>(body[i]);
    out.push_back(c < 0x20 || c == 0x7F ? ' ' : static_cast<char>(c));
    digits = std::isdigit(c) ? digits + 1 : 0;
    if (digits >= 7) {
      for (size_t k = out.size() - digits; k < out.size(); ++k) out[k] = '*';
    }
  }
  return out;
}

bool IsE164(std::string_view s) {
  if (s.size() < 8 || s.size() > 16 || s[0] != '+' || s[1] == '0') return false;
  return std::all_of(s.begin() + 1, s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

}  // namespace forewarn
