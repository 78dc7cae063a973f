#include "notifier/channels/smtp_channel.h"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <cstring>
#include <mutex>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/time/time.h"
#include "notifier/channels/channel_errors.h"
#include "notifier/channels/send_timeout.h"
#include "notifier/sms/phone.h"
#include "services/core/fnv.h"
#include "services/core/mask.h"

namespace forewarn {
namespace {

constexpr size_t kMaxHeaderLine = 76;  // RFC 2047 §2: lines with encoded-words
constexpr size_t kMaxEncodedWord = 75;
constexpr std::string_view kWordPrefix = "=?UTF-8?B?";
constexpr std::string_view kWordSuffix = "?=";
constexpr size_t kBodyLine = 76;  // RFC 2045 §6.8

void GlobalInitOnce() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

// Bytes of the UTF-8 character starting with `lead` (1 for stray bytes).
size_t Utf8Length(unsigned char lead) {
  if (lead >= 0xF0 && lead <= 0xF7) return 4;
  if (lead >= 0xE0) return lead <= 0xEF ? 3 : 1;
  if (lead >= 0xC0) return 2;
  return 1;
}

// Header text without line breaks or other control characters (no header
// injection through a subject or a name).
std::string SanitizeHeaderText(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7F) c = ' ';
  }
  return out;
}

bool IsPrintableAscii(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u >= 0x20 && u < 0x7F;
  });
}

// Length of the last line of a (possibly folded) header value.
size_t LastLineLength(std::string_view s, size_t first_line_used) {
  const size_t nl = s.rfind('\n');
  return nl == std::string_view::npos ? first_line_used + s.size() : s.size() - nl - 1;
}

// Appends `token` to a header value after a space, folding (CRLF SP) when the
// line would exceed kMaxHeaderLine.
void AppendFolded(std::string& value, std::string_view token, size_t first_line_used) {
  if (value.empty()) {
    value = std::string(token);
    return;
  }
  if (LastLineLength(value, first_line_used) + 1 + token.size() > kMaxHeaderLine) {
    absl::StrAppend(&value, "\r\n ", std::string(token));
  } else {
    absl::StrAppend(&value, " ", std::string(token));
  }
}

// "Name" <addr>, or the RFC 2047 form when the name is not plain ASCII.
std::string FormatMailbox(std::string_view raw_name, std::string_view address, size_t first_line_used) {
  const std::string name = SanitizeHeaderText(raw_name);
  const std::string angle = absl::StrCat("<", std::string(address), ">");
  if (name.find_first_not_of(' ') == std::string::npos) return angle;
  std::string value;
  if (IsPrintableAscii(name) && name.find("=?") == std::string::npos) {
    std::string quoted = absl::StrReplaceAll(name, {{"\\", "\\\\"}, {"\"", "\\\""}});
    value = absl::StrCat("\"", quoted, "\"");
  } else {
    value = EncodeRfc2047(name, first_line_used);
  }
  AppendFolded(value, angle, first_line_used);
  return value;
}

// RFC 5322 date in UTC, with English names whatever the process locale.
std::string Rfc5322Date(absl::Time t) {
  static constexpr const char* kDays[] = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  const absl::CivilSecond cs = absl::ToCivilSecond(t, absl::UTCTimeZone());
  const absl::Weekday wd = absl::GetWeekday(absl::CivilDay(cs));
  return absl::StrCat(kDays[static_cast<int>(wd)], ", ", cs.day(), " ", kMonths[cs.month() - 1], " ", cs.year(), " ",
                      absl::FormatTime("%H:%M:%S", t, absl::UTCTimeZone()), " +0000");
}

// Text in canonical form (RFC 2046 §4.1.1): every line break CRLF, also
// inside base64 (a lone LF or CR becomes CRLF).
std::string CanonicalLineBreaks(std::string_view text) {
  std::string out;
  out.reserve(text.size() + text.size() / 32);
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\r') {
      out += "\r\n";
      if (i + 1 < text.size() && text[i + 1] == '\n') ++i;
    } else if (text[i] == '\n') {
      out += "\r\n";
    } else {
      out += text[i];
    }
  }
  return out;
}

std::string Base64Lines(std::string_view data) {
  const std::string b64 = absl::Base64Escape(std::string(data));
  std::string out;
  out.reserve(b64.size() + b64.size() / kBodyLine * 2 + 2);
  for (size_t i = 0; i < b64.size(); i += kBodyLine) {
    absl::StrAppend(&out, b64.substr(i, kBodyLine), "\r\n");
  }
  return out;
}

// Splits "scheme://rest"; scheme empty when there is none.
std::pair<std::string, std::string> SplitScheme(std::string_view url) {
  const size_t p = url.find("://");
  if (p == std::string_view::npos) return {"", std::string(url)};
  std::string scheme(url.substr(0, p));
  for (char& c : scheme) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return {scheme, std::string(url.substr(p + 3))};
}

// The URL libcurl connects to: scheme from `tls`.
std::string EffectiveUrl(const SmtpConfig& config) {
  auto [scheme, rest] = SplitScheme(config.url);
  return absl::StrCat(config.tls == SmtpConfig::Tls::kImplicit ? "smtps://" : "smtp://", rest);
}

}  // namespace

std::string EncodeRfc2047(std::string_view utf8, size_t first_line_used) {
  constexpr size_t kOverhead = kWordPrefix.size() + kWordSuffix.size();
  // Payload bytes a word of at most `chars` characters can carry.
  const auto capacity = [](size_t chars) { return chars < kOverhead + 4 ? 0 : (chars - kOverhead) / 4 * 3; };
  std::string out;
  if (utf8.empty()) return out;
  size_t budget = kMaxHeaderLine > first_line_used ? std::min(kMaxEncodedWord, kMaxHeaderLine - first_line_used) : 0;
  bool need_fold = false;
  if (capacity(budget) < 4) {  // no room for one character here: start on a fresh line
    need_fold = true;
    budget = kMaxEncodedWord;
  }
  size_t i = 0;
  while (i < utf8.size()) {
    const size_t max_bytes = capacity(budget);
    size_t end = i;
    while (end < utf8.size()) {
      const size_t len = std::min(Utf8Length(static_cast<unsigned char>(utf8[end])), utf8.size() - end);
      if (end + len - i > max_bytes) break;
      end += len;
    }
    // When the text goes on, prefer to end this word just after a space in
    // its second half: a decoder that (against RFC 2047 §6.2) shows the
    // folding whitespace between words, as Python's address parser does,
    // then shows a doubled space instead of splitting a word of a name.
    if (end < utf8.size()) {
      const size_t space = utf8.substr(i, end - i).rfind(' ');
      if (space != std::string_view::npos && space + 1 > (end - i) / 2) end = i + space + 1;
    }
    if (need_fold) out += "\r\n ";
    absl::StrAppend(&out, std::string(kWordPrefix), absl::Base64Escape(std::string(utf8.substr(i, end - i))),
                    std::string(kWordSuffix));
    i = end;
    need_fold = true;          // later words sit on their own folded line
    budget = kMaxEncodedWord;  // after one space: 1 + 75 = 76
  }
  return out;
}

std::string BuildMimeMessage(const SmtpConfig& config, const Recipient& to, const RenderedNotice& notice,
                             absl::Time now) {
  std::string m;
  const auto header = [&m](std::string_view name, std::string_view value) {
    absl::StrAppend(&m, std::string(name), ": ", std::string(value), "\r\n");
  };
  header("From", FormatMailbox(config.from_name, config.from_address, std::strlen("From: ")));
  header("To", FormatMailbox(to.name, to.address, std::strlen("To: ")));
  const std::string subject = SanitizeHeaderText(notice.subject);
  constexpr size_t kSubjectUsed = std::string_view("Subject: ").size();
  if (IsPrintableAscii(subject) && subject.find("=?") == std::string::npos && kSubjectUsed + subject.size() <= 78) {
    header("Subject", subject);
  } else {
    header("Subject", EncodeRfc2047(subject, kSubjectUsed));
  }
  header("Date", Rfc5322Date(now));
  const std::string id = SanitizeHeaderText(notice.message_id);
  if (!id.empty()) header("Message-ID", id.front() == '<' ? id : absl::StrCat("<", id, ">"));
  header("MIME-Version", "1.0");
  header("Auto-Submitted", "auto-generated");  // RFC 3834: no auto-replies, please
  // RFC 8058 one-click unsubscribe (RFC 2369 header): only a URL that cannot
  // break out of its angle brackets.
  const std::string unsubscribe = SanitizeHeaderText(notice.unsubscribe_url);
  if (!unsubscribe.empty() && unsubscribe.find_first_of(" <>,") == std::string::npos) {
    header("List-Unsubscribe", absl::StrCat("<", unsubscribe, ">"));
    header("List-Unsubscribe-Post", "List-Unsubscribe=One-Click");
  }
  if (to.locale == "ar" || to.locale == "en") header("Content-Language", to.locale);

  const auto part = [](std::string_view type, std::string_view body) {
    return absl::StrCat("Content-Type: ", std::string(type), "; charset=UTF-8\r\n",
                        "Content-Transfer-Encoding: base64\r\n\r\n", Base64Lines(CanonicalLineBreaks(body)));
  };
  if (notice.html.empty()) {
    absl::StrAppend(&m, part("text/plain", notice.text));
    return m;
  }
  // '=' followed by '_' never occurs in base64, so the boundary cannot
  // appear inside a part.
  const std::string boundary = absl::StrCat(
      "=_forewarn_", absl::Hex(Fnv1a64().Bytes(notice.message_id).Number(absl::ToUnixNanos(now)).value(), absl::kZeroPad16));
  header("Content-Type", absl::StrCat("multipart/alternative; boundary=\"", boundary, "\""));
  absl::StrAppend(&m, "\r\n");
  absl::StrAppend(&m, "--", boundary, "\r\n", part("text/plain", notice.text));
  absl::StrAppend(&m, "--", boundary, "\r\n", part("text/html", notice.html));
  absl::StrAppend(&m, "--", boundary, "--\r\n");
  return m;
}

struct SmtpChannel::Impl {
  Impl(SmtpConfig c, const Clock& clk) : config(std::move(c)), clock(clk) {}
  ~Impl() {
    if (curl != nullptr) curl_easy_cleanup(curl);
  }

  static size_t Read(char* buffer, size_t size, size_t nitems, void* userdata) {
    auto* self = static_cast<Impl*>(userdata);
    const size_t n = std::min(size * nitems, self->payload.size() - self->offset);
    std::memcpy(buffer, self->payload.data() + self->offset, n);
    self->offset += n;
    return n;
  }

  static size_t Discard(char*, size_t size, size_t nmemb, void*) { return size * nmemb; }

  // What a session needs whatever it does: server, TLS, AUTH, timeouts.
  void ApplySessionOptions(CURL* h, char* error_buffer) const {
    curl_easy_setopt(h, CURLOPT_URL, url.c_str());
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
    curl_easy_setopt(
        h, CURLOPT_USE_SSL,
        config.tls == SmtpConfig::Tls::kNone ? static_cast<long>(CURLUSESSL_NONE) : static_cast<long>(CURLUSESSL_ALL));
    if (!config.username.empty()) {
      curl_easy_setopt(h, CURLOPT_USERNAME, config.username.c_str());
      curl_easy_setopt(h, CURLOPT_PASSWORD, config.password.c_str());
    }
    ApplyConnectOptions(h, config.timeout, config.verify_peer, config.ca_file, error_buffer);
  }

  absl::Status Setup() {
    if (absl::Status s = SmtpChannel::Validate(config); !s.ok()) return s;
    GlobalInitOnce();
    curl = curl_easy_init();
    if (curl == nullptr) return absl::UnavailableError("smtp: curl_easy_init failed");
    url = EffectiveUrl(config);
    mail_from = absl::StrCat("<", config.from_address, ">");
    ApplySessionOptions(curl, errbuf);
    curl_easy_setopt(curl, CURLOPT_MAIL_FROM, mail_from.c_str());
    curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(curl, CURLOPT_READFUNCTION, &Impl::Read);
    curl_easy_setopt(curl, CURLOPT_READDATA, this);
    timeout.Install(curl);
    return absl::OkStatus();
  }

  // A new handle, so that the next send opens a new connection.
  absl::Status Reconnect() {
    curl_easy_cleanup(curl);
    curl = nullptr;
    return Setup();
  }

  SmtpConfig config;
  const Clock& clock;
  absl::Status setup_status;
  CURL* curl = nullptr;
  SendTimeout timeout;
  std::string url;
  std::string mail_from;
  std::string payload;
  size_t offset = 0;
  char errbuf[CURL_ERROR_SIZE] = {};
};

SmtpChannel::SmtpChannel(SmtpConfig config, const Clock& clock)
    : impl_(std::make_unique<Impl>(std::move(config), clock)) {
  impl_->setup_status = impl_->Setup();
}

SmtpChannel::~SmtpChannel() = default;

absl::Status SmtpChannel::Validate(const SmtpConfig& config) {
  auto [scheme, rest] = SplitScheme(config.url);
  if (config.url.empty()) return absl::FailedPreconditionError("smtp: url is empty");
  if (!scheme.empty() && scheme != "smtp" && scheme != "smtps") {
    return absl::FailedPreconditionError(
        absl::StrCat("smtp: url scheme must be smtp:// or smtps://, got ", scheme, "://"));
  }
  if (rest.empty() || rest.front() == '/' || rest.front() == ':') {
    return absl::FailedPreconditionError(absl::StrCat("smtp: url has no host: ", config.url));
  }
  if (scheme == "smtps" && config.tls != SmtpConfig::Tls::kImplicit) {
    return absl::FailedPreconditionError("smtp: smtps:// url needs tls = implicit");
  }
  if (!IsPlausibleEmail(config.from_address)) {
    return absl::FailedPreconditionError("smtp: from address is not a valid email address");
  }
  if (config.username.empty() != config.password.empty()) {
    return absl::FailedPreconditionError("smtp: username and password go together");
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> SmtpChannel::Send(const Recipient& to, const RenderedNotice& notice) {
  Impl& s = *impl_;
  if (!s.setup_status.ok()) return s.setup_status;
  const std::string masked = MaskAddress(to.address);
  if (!IsPlausibleEmail(to.address)) {
    return absl::InvalidArgumentError(absl::StrCat("smtp: not an email address: ", masked));
  }
  // Without the notice's own Message-ID a relay would add a random one, and a
  // resend after a crash could not be recognised as the same message.
  if (SanitizeHeaderText(notice.message_id).find_first_not_of(" <>") == std::string::npos) {
    return absl::InvalidArgumentError("smtp: notice has no message id");
  }

  s.payload = BuildMimeMessage(s.config, to, notice, s.clock.Now());
  s.offset = 0;
  s.errbuf[0] = '\0';
  const std::string rcpt = absl::StrCat("<", to.address, ">");
  curl_slist* rcpts = curl_slist_append(nullptr, rcpt.c_str());
  if (rcpts == nullptr) return absl::UnavailableError("smtp: out of memory");
  curl_easy_setopt(s.curl, CURLOPT_MAIL_RCPT, rcpts);
  curl_easy_setopt(s.curl, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(s.payload.size()));
  s.timeout.Start(s.config.timeout);
  const CURLcode rc = s.timeout.Result(curl_easy_perform(s.curl));
  curl_easy_setopt(s.curl, CURLOPT_MAIL_RCPT, nullptr);
  curl_slist_free_all(rcpts);
  // The whole message went to the server after DATA: a failure from here on
  // (no final reply) leaves the outcome unknown.
  const bool message_sent = s.offset == s.payload.size();
  s.payload.clear();
  if (rc == CURLE_OK) return notice.message_id;

  ProviderCallResult result{ProviderCallResult::Protocol::kSmtp, rc, 0, message_sent, ""};
  curl_easy_getinfo(s.curl, CURLINFO_RESPONSE_CODE, &result.reply);
  // The server's text may repeat the recipient: mask it.
  result.detail = s.timeout.expired()         ? absl::StrCat("no answer within ", s.config.timeout.count(), " ms")
                  : s.errbuf[0] != '\0' ? std::string(s.errbuf)
                                        : std::string(curl_easy_strerror(rc));
  result.detail = absl::StrReplaceAll(result.detail, {{to.address, masked}});
  // A session that failed mid-dialogue (a timeout, a lost reply) is not
  // reused: a late reply would be read as the answer to the next command.
  if (result.reply < 400) s.setup_status = s.Reconnect();
  return ClassifyProviderFailure(result, absl::StrCat("smtp: send to ", masked, " failed: "));
}

absl::Status SmtpChannel::Probe() {
  Impl& s = *impl_;
  if (!s.setup_status.ok()) return s.setup_status;
  std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> h(curl_easy_init(), &curl_easy_cleanup);
  if (h == nullptr) return absl::UnavailableError("smtp: curl_easy_init failed");
  char errbuf[CURL_ERROR_SIZE] = {};
  s.ApplySessionOptions(h.get(), errbuf);
  curl_easy_setopt(h.get(), CURLOPT_TIMEOUT_MS, static_cast<long>(std::max<int64_t>(1, s.config.timeout.count())));
  // No upload and no recipient: libcurl greets (EHLO), upgrades (STARTTLS)
  // or starts in TLS, authenticates, then sends this one command.
  curl_easy_setopt(h.get(), CURLOPT_CUSTOMREQUEST, "NOOP");
  curl_easy_setopt(h.get(), CURLOPT_WRITEFUNCTION, &Impl::Discard);
  const CURLcode rc = curl_easy_perform(h.get());
  if (rc == CURLE_OK) return absl::OkStatus();
  ProviderCallResult result{ProviderCallResult::Protocol::kSmtp, rc, 0, false, ""};
  curl_easy_getinfo(h.get(), CURLINFO_RESPONSE_CODE, &result.reply);
  result.detail = errbuf[0] != '\0' ? std::string(errbuf) : std::string(curl_easy_strerror(rc));
  const absl::Status classified = ClassifyProviderFailure(result, "");
  const std::string where = absl::StrCat(UrlForMessages(s.config.url), ": ");
  const std::string reason = ProviderFaultReason(classified);
  const bool implicit = s.config.tls == SmtpConfig::Tls::kImplicit;
  if (rc == CURLE_USE_SSL_FAILED) {
    return absl::FailedPreconditionError(absl::StrCat(
        where, "server does not offer STARTTLS (--smtp-tls starttls); use --smtp-tls none for a plaintext "
               "server or --smtp-tls implicit for an smtps port"));
  }
  if (reason == "tls" && rc != CURLE_SSL_CONNECT_ERROR) {
    return absl::FailedPreconditionError(absl::StrCat(where, "TLS certificate not accepted: ", classified.message(),
                                                      "; set --smtp-ca-file to the CA that issued it"));
  }
  if (reason == "tls") {
    return absl::FailedPreconditionError(absl::StrCat(
        where, "TLS handshake failed: ", classified.message(),
        implicit ? " (--smtp-tls implicit needs a port that speaks TLS at once, usually 465; use --smtp-tls "
                   "starttls for 587 or none for a plaintext server)"
                 : " (after STARTTLS)"));
  }
  if (reason == "auth") {
    return absl::FailedPreconditionError(absl::StrCat(
        where, s.config.username.empty() ? "server requires authentication: " : "authentication refused: ",
        classified.message(), "; check --smtp-username and --smtp-password"));
  }
  if (!reason.empty() || classified.code() == absl::StatusCode::kFailedPrecondition) {
    return absl::FailedPreconditionError(absl::StrCat(where, classified.message()));
  }
  return absl::UnavailableError(absl::StrCat(where, "cannot reach the server: ", classified.message()));
}

}  // namespace forewarn
