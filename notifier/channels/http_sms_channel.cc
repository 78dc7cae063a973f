#include "notifier/channels/http_sms_channel.h"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string_view>
#include <utility>

#include "absl/strings/str_cat.h"
#include "notifier/channels/channel_errors.h"
#include "notifier/channels/http_exchange.h"
#include "services/core/mask.h"

namespace forewarn {
namespace {

constexpr std::string_view kPlaceholders[] = {"to", "text", "message_id", "sender"};

std::map<std::string, std::string> EffectiveFields(const HttpSmsConfig& config) {
  if (!config.fields.empty()) return config.fields;
  std::map<std::string, std::string> f = {{"to", "{to}"}, {"text", "{text}"}, {"reference", "{message_id}"}};
  if (!config.sender.empty()) f["sender"] = "{sender}";
  return f;
}

// Calls `literal(text)` and `placeholder(name)` for the pieces of `tmpl`;
// only {name} with a lower-case identifier counts as a placeholder.
template <typename Literal, typename Placeholder>
void ScanTemplate(std::string_view tmpl, Literal literal, Placeholder placeholder) {
  size_t i = 0;
  while (i < tmpl.size()) {
    const size_t open = tmpl.find('{', i);
    if (open == std::string_view::npos) break;
    const size_t close = tmpl.find('}', open + 1);
    if (close == std::string_view::npos) break;
    const std::string_view name = tmpl.substr(open + 1, close - open - 1);
    const bool ident = !name.empty() &&
                       std::all_of(name.begin(), name.end(), [](char c) { return (c >= 'a' && c <= 'z') || c == '_'; });
    if (!ident) {
      literal(tmpl.substr(i, open + 1 - i));
      i = open + 1;
      continue;
    }
    literal(tmpl.substr(i, open - i));
    placeholder(name);
    i = close + 1;
  }
  literal(tmpl.substr(i));
}

std::string Expand(std::string_view tmpl, const std::map<std::string_view, std::string_view>& values) {
  std::string out;
  ScanTemplate(
      tmpl, [&](std::string_view s) { out.append(s); },
      [&](std::string_view name) {
        auto it = values.find(name);
        if (it != values.end()) {
          out.append(it->second);
        } else {
          absl::StrAppend(&out, "{", std::string(name), "}");
        }
      });
  return out;
}

// An HTTP field name (RFC 9110 token), or empty (no header).
bool IsHeaderName(std::string_view name) {
  return std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
  });
}

// Printable ASCII only: a value that can go in a header line as is.
bool IsHeaderValue(std::string_view value) {
  return !value.empty() && std::all_of(value.begin(), value.end(), [](char c) { return c >= 0x20 && c < 0x7F; });
}

// The provider's id from a 2xx response body (a string or a number in
// `provider_id_field`), else the notice's message id.
std::string ProviderId(const std::string& response, const HttpSmsConfig& config, const RenderedNotice& notice) {
  const auto j = nlohmann::json::parse(response, nullptr, /*allow_exceptions=*/false);
  if (j.is_object()) {
    const auto it = j.find(config.provider_id_field);
    if (it != j.end()) {
      if (it->is_string() && !it->get<std::string>().empty()) return it->get<std::string>();
      if (it->is_number()) return it->dump();
    }
  }
  return notice.message_id;
}

}  // namespace

struct HttpSmsChannel::Impl {
  explicit Impl(HttpSmsConfig c)
      : config(std::move(c)),
        fields(EffectiveFields(config)),
        http({config.url, config.timeout, config.verify_peer, config.ca_file, "--sms-ca-file"}) {}
  ~Impl() {
    if (headers != nullptr) curl_slist_free_all(headers);
  }

  absl::Status Setup() {
    if (absl::Status s = HttpSmsChannel::Validate(config); !s.ok()) return s;
    if (!http.status().ok()) return http.status();
    const bool json = config.body == HttpSmsConfig::Body::kJson;
    headers = curl_slist_append(headers, json ? "Content-Type: application/json; charset=utf-8"
                                              : "Content-Type: application/x-www-form-urlencoded");
    headers = curl_slist_append(headers, "Accept: application/json");
    headers = curl_slist_append(headers, "Expect:");  // no 100-continue round trip
    if (!config.auth_header.empty()) headers = curl_slist_append(headers, config.auth_header.c_str());
    if (headers == nullptr) return absl::UnavailableError("sms: out of memory");
    curl_easy_setopt(http.handle(), CURLOPT_POST, 1L);
    curl_easy_setopt(http.handle(), CURLOPT_HTTPHEADER, headers);
    return absl::OkStatus();
  }

  std::string BuildBody(const Recipient& to, const RenderedNotice& notice) {
    const std::map<std::string_view, std::string_view> values = {
        {"to", to.address}, {"text", notice.text}, {"message_id", notice.message_id}, {"sender", config.sender}};
    if (config.body == HttpSmsConfig::Body::kJson) {
      nlohmann::ordered_json j = nlohmann::ordered_json::object();
      for (const auto& [name, tmpl] : fields) j[name] = Expand(tmpl, values);
      // UTF-8 kept as is; invalid bytes become U+FFFD rather than failing.
      return j.dump(-1, ' ', /*ensure_ascii=*/false, nlohmann::json::error_handler_t::replace);
    }
    std::string body;
    const auto append_escaped = [&](const std::string& s) {
      char* e = curl_easy_escape(http.handle(), s.data(), static_cast<int>(s.size()));
      if (e != nullptr) {
        body.append(e);
        curl_free(e);
      }
    };
    for (const auto& [name, tmpl] : fields) {
      if (!body.empty()) body.push_back('&');
      append_escaped(name);
      body.push_back('=');
      append_escaped(Expand(tmpl, values));
    }
    return body;
  }

  HttpSmsConfig config;
  std::map<std::string, std::string> fields;
  HttpExchange http;
  absl::Status setup_status;
  curl_slist* headers = nullptr;
  std::string request;
};

HttpSmsChannel::HttpSmsChannel(HttpSmsConfig config) : impl_(std::make_unique<Impl>(std::move(config))) {
  impl_->setup_status = impl_->Setup();
}

HttpSmsChannel::~HttpSmsChannel() = default;

absl::Status HttpSmsChannel::Validate(const HttpSmsConfig& config) {
  const std::string_view url = config.url;
  if (url.rfind("http://", 0) != 0 && url.rfind("https://", 0) != 0) {
    return absl::FailedPreconditionError("sms gateway: url must start with http:// or https://");
  }
  if (url.size() <= url.find("://") + 3) return absl::FailedPreconditionError("sms gateway: url has no host");
  if (!config.auth_header.empty()) {
    const size_t colon = config.auth_header.find(':');
    if (colon == std::string::npos || colon == 0 || config.auth_header.find_first_of("\r\n") != std::string::npos) {
      return absl::FailedPreconditionError("sms gateway: auth_header must be one \"Name: value\" header line");
    }
  }
  if (!IsHeaderName(config.idempotency_header)) {
    return absl::FailedPreconditionError(absl::StrCat("sms gateway: idempotency header name '",
                                                      config.idempotency_header, "' is not a header name"));
  }
  for (const auto& [name, tmpl] : EffectiveFields(config)) {
    if (name.empty()) return absl::FailedPreconditionError("sms gateway: empty body field name");
    std::string unknown;
    ScanTemplate(
        tmpl, [](std::string_view) {},
        [&](std::string_view p) {
          if (std::find(std::begin(kPlaceholders), std::end(kPlaceholders), p) == std::end(kPlaceholders)) {
            unknown = std::string(p);
          }
        });
    if (!unknown.empty()) {
      return absl::FailedPreconditionError(absl::StrCat("sms gateway: field ", name, " uses unknown placeholder {",
                                                        unknown, "} (known: {to} {text} {message_id} {sender})"));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> HttpSmsChannel::Send(const Recipient& to, const RenderedNotice& notice) {
  Impl& s = *impl_;
  if (!s.setup_status.ok()) return s.setup_status;
  const std::string masked = MaskAddress(to.address);
  if (!IsE164(to.address)) {
    return absl::InvalidArgumentError(absl::StrCat("sms: not an E.164 phone number: ", masked));
  }
  if (!s.config.idempotency_header.empty() && !IsHeaderValue(notice.message_id)) {
    return absl::InvalidArgumentError("sms: the message id cannot go in a header (empty or not printable ASCII)");
  }
  s.request = s.BuildBody(to, notice);
  // This request's headers: the fixed ones and its idempotency key.
  std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)> headers(nullptr, &curl_slist_free_all);
  for (const curl_slist* h = s.headers; h != nullptr; h = h->next) {
    headers.reset(curl_slist_append(headers.release(), h->data));
  }
  if (!s.config.idempotency_header.empty()) {
    const std::string line = absl::StrCat(s.config.idempotency_header, ": ", notice.message_id);
    headers.reset(curl_slist_append(headers.release(), line.c_str()));
  }
  if (headers == nullptr) return absl::UnavailableError("sms: out of memory");
  CURL* h = s.http.handle();
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers.get());
  curl_easy_setopt(h, CURLOPT_POSTFIELDS, s.request.c_str());
  curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(s.request.size()));
  auto reply = s.http.Perform(absl::StrCat("sms: send to ", masked, " failed: "));
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, s.headers);
  if (!reply.ok()) return reply.status();
  return ProviderId(reply->body, s.config, notice);
}

absl::Status HttpSmsChannel::Probe() {
  Impl& s = *impl_;
  if (!s.setup_status.ok()) return s.setup_status;
  return s.http.Probe();
}

}  // namespace forewarn
