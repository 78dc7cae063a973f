#include "notifier/channels/kannel_sms_channel.h"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "notifier/channels/channel_errors.h"
#include "notifier/channels/http_exchange.h"
#include "notifier/sms/sms_segments.h"
#include "services/core/mask.h"

namespace forewarn {
namespace {

bool IsHttpUrl(std::string_view url) {
  for (std::string_view scheme : {"http://", "https://"}) {
    if (url.rfind(scheme, 0) == 0) return url.size() > scheme.size() && url[scheme.size()] != '/';
  }
  return false;
}

bool IsPrintableAscii(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c > 0x20 && c < 0x7F; });
}

// RFC 3986 percent-encoding (unreserved characters kept).
std::string Escape(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xF]);
    }
  }
  return out;
}

std::string Query(const std::vector<std::pair<std::string_view, std::string>>& params) {
  std::string q;
  for (const auto& [name, value] : params) absl::StrAppend(&q, q.empty() ? "" : "&", std::string(name), "=", Escape(value));
  return q;
}

}  // namespace

struct KannelSmsChannel::Impl {
  Impl(KannelSmsConfig c, ReceiptSigner s)
      : config(std::move(c)),
        signer(std::move(s)),
        http({config.sendsms_url, config.timeout, config.verify_peer, config.ca_file, "--sms-ca-file"}) {
    setup_status = KannelSmsChannel::Validate(config);
    if (setup_status.ok()) setup_status = http.status();
    if (setup_status.ok()) curl_easy_setopt(http.handle(), CURLOPT_HTTPGET, 1L);
  }

  // sendsms?<credentials>&<params>; the URL holds the password: never in a message.
  std::string Url(const std::vector<std::pair<std::string_view, std::string>>& params) const {
    std::vector<std::pair<std::string_view, std::string>> all = {{"username", config.username},
                                                                  {"password", config.password}};
    all.insert(all.end(), params.begin(), params.end());
    return absl::StrCat(config.sendsms_url, config.sendsms_url.find('?') == std::string::npos ? "?" : "&",
                        Query(all));
  }

  KannelSmsConfig config;
  ReceiptSigner signer;
  HttpExchange http;
  absl::Status setup_status;
};

KannelSmsChannel::KannelSmsChannel(KannelSmsConfig config, ReceiptSigner signer)
    : impl_(std::make_unique<Impl>(std::move(config), std::move(signer))) {}

KannelSmsChannel::~KannelSmsChannel() = default;

absl::Status KannelSmsChannel::Validate(const KannelSmsConfig& config) {
  if (!IsHttpUrl(config.sendsms_url)) {
    return absl::FailedPreconditionError("kannel: sendsms url must be http:// or https:// with a host");
  }
  if (!IsHttpUrl(config.receipt_url) || config.receipt_url.find_first_of("?#") != std::string::npos) {
    return absl::FailedPreconditionError(
        "kannel: receipt url must be http:// or https:// with a host, without a query (e.g. https://forewarn.example:8443)");
  }
  if (config.username.empty()) return absl::FailedPreconditionError("kannel: sendsms user is empty");
  if (config.password.empty()) return absl::FailedPreconditionError("kannel: sendsms password is empty");
  if (config.sender.empty()) return absl::FailedPreconditionError("kannel: sender is empty");
  if (config.dlr_mask < 1 || config.dlr_mask > 31) {
    return absl::FailedPreconditionError("kannel: dlr-mask must be within 1..31");
  }
  return absl::OkStatus();
}

std::string KannelSmsChannel::DlrUrl(std::string_view receipt_url, std::string_view message_id,
                                     const ReceiptSigner& signer) {
  while (!receipt_url.empty() && receipt_url.back() == '/') receipt_url.remove_suffix(1);
  return absl::StrCat(std::string(receipt_url), "/receipts/kannel?ref=", Escape(message_id), "&sig=",
                      Escape(signer.Sign(message_id)), "&type=%d&at=%T&reply=%A");
}

absl::StatusOr<std::string> KannelSmsChannel::Send(const Recipient& to, const RenderedNotice& notice) {
  Impl& s = *impl_;
  if (!s.setup_status.ok()) return s.setup_status;
  const std::string masked = MaskAddress(to.address);
  if (!IsE164(to.address)) return absl::InvalidArgumentError(absl::StrCat("sms: not an E.164 phone number: ", masked));
  if (!IsPrintableAscii(notice.message_id)) {
    return absl::InvalidArgumentError("sms: the message id cannot go in a dlr-url (empty or not printable ASCII)");
  }
  std::vector<std::pair<std::string_view, std::string>> params = {
      {"from", s.config.sender},
      {"to", to.address},
      {"text", notice.text},
      {"charset", "UTF-8"},
      {"dlr-mask", std::to_string(s.config.dlr_mask)},
      {"dlr-url", DlrUrl(s.config.receipt_url, notice.message_id, s.signer)}};
  if (CountSmsSegments(notice.text).encoding == SmsEncoding::kUcs2) params.emplace_back("coding", "2");
  auto reply = s.http.Perform(absl::StrCat("sms: send to ", masked, " through Kannel failed: "), s.Url(params));
  if (!reply.ok()) return reply.status();
  return notice.message_id;  // Kannel gives no id: receipts come back by the dlr-url's ref
}

absl::Status KannelSmsChannel::Probe() {
  Impl& s = *impl_;
  if (!s.setup_status.ok()) return s.setup_status;
  if (absl::Status reach = s.http.Probe(); !reach.ok()) return reach;
  // Credentials and no recipient: Kannel checks the user first (403), then refuses the request (400).
  auto reply = s.http.Perform("", s.Url({}));
  const std::string where = absl::StrCat(UrlForMessages(s.config.sendsms_url), ": ");
  if (reply.ok() || reply.status().code() == absl::StatusCode::kInvalidArgument) return absl::OkStatus();
  if (ProviderFaultReason(reply.status()) == "auth") {
    return absl::FailedPreconditionError(absl::StrCat(
        where, "Kannel refused the sendsms user (", reply.status().message(), "); check --kannel-user and --kannel-password-file"));
  }
  if (reply.status().code() == absl::StatusCode::kUnavailable) {
    return absl::UnavailableError(absl::StrCat(where, "cannot reach Kannel: ", reply.status().message()));
  }
  return absl::FailedPreconditionError(absl::StrCat(where, reply.status().message()));
}

}  // namespace forewarn
