#include "notifier/channels/smtp_channel.h"

#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "notifier/render/template_renderer.h"
#include "services/core/clock.h"
#include "services/core/ports.h"
#include "tests/channels/test_util.h"
#include "tests/support/process.h"

namespace forewarn {
namespace {

using channel_testing::LoopbackSocket;
using channel_testing::PythonPeer;
using channel_testing::ReadFile;
using nlohmann::json;

constexpr char kUser[] = "forewarn";
constexpr char kPassword[] = "s3cret pass";
constexpr char kFromName[] = "خدمة العملاء - Forewarn";
constexpr char kFrom[] = "notices@forewarn.example";

absl::Time At(const char* rfc3339) {
  absl::Time t;
  std::string err;
  EXPECT_TRUE(absl::ParseTime(absl::RFC3339_full, rfc3339, &t, &err)) << err;
  return t;
}

// An outage 12:00Z, expected back 15:30Z: 18:30 in Riyadh, 10:30 in New York.
Incident MakeIncident() {
  Incident i;
  i.id = "0b9f3c2e-5d1a-4c7e-9f00-123456789abc";
  i.version = 2;
  i.services = {"ELEC"};
  i.regions = {"RUH-N"};
  i.service_names = {{"الكهرباء", "Electricity"}};
  i.region_names = {{"شمال الرياض", "North Riyadh"}};
  i.reason = {"عطل في محطة التحويل الرئيسية", "a fault at the \"main\" substation"};
  i.starts_at = At("2026-01-10T12:00:00Z");
  i.expected_restoration_at = At("2026-01-10T15:30:00Z");
  return i;
}

NoticeJob MakeJob(int64_t customer, std::string address, std::string locale, std::string tz, std::string name) {
  NoticeJob job;
  job.incident_id = "0b9f3c2e-5d1a-4c7e-9f00-123456789abc";
  job.version = 2;
  job.kind = NoticeKind::kOutageStarted;
  job.recipient.customer_id = customer;
  job.recipient.channel = Channel::kEmail;
  job.recipient.address = std::move(address);
  job.recipient.locale = std::move(locale);
  job.recipient.time_zone = std::move(tz);
  job.recipient.name = std::move(name);
  return job;
}

// The aiosmtpd sink, with its output directory.
class SmtpSink {
 public:
  explicit SmtpSink(std::vector<std::string> extra = {}) : dir_(testing::MakeTempDir("smtp-sink")) {
    std::vector<std::string> args = {"--out-dir", dir_ + "/out"};
    args.insert(args.end(), extra.begin(), extra.end());
    peer_ = std::make_unique<PythonPeer>("smtp_sink.py", args, dir_);
  }
  absl::Status Start() { return peer_->Start(); }
  int port() const { return peer_->port(); }
  const std::string& dir() const { return dir_; }

  // The n-th message received (1-based), as the sink parsed it.
  json Message(int n) {
    std::string content;
    const std::string path = absl::StrCat(dir_, "/out/", n, ".json");
    absl::Status s = testing::WaitForFile(path, absl::Seconds(10), &content);
    EXPECT_TRUE(s.ok()) << s << "\n" << ReadFile(peer_->log_path());
    if (!s.ok()) return json::object();
    return json::parse(content);
  }
  std::string Raw(int n) { return ReadFile(absl::StrCat(dir_, "/out/", n, ".eml")); }

 private:
  std::string dir_;
  std::unique_ptr<PythonPeer> peer_;
};

SmtpConfig PlainConfig(int port) {
  SmtpConfig c;
  c.url = absl::StrCat("smtp://127.0.0.1:", port);
  c.tls = SmtpConfig::Tls::kNone;
  c.username = kUser;
  c.password = kPassword;
  c.from_address = kFrom;
  c.from_name = kFromName;
  c.timeout = std::chrono::milliseconds(10000);
  return c;
}

// PlainConfig without a login (the sink's default accepts anyone).
SmtpConfig AnonymousConfig(int port) {
  SmtpConfig c = PlainConfig(port);
  c.username.clear();
  c.password.clear();
  return c;
}

// A channel over `config` sends one small notice to `address` (the clock
// plays no part).
absl::StatusOr<std::string> SendOne(const SmtpConfig& config, const std::string& address) {
  FakeClock clock(absl::UnixEpoch());
  SmtpChannel channel(config, clock);
  Recipient to;
  to.address = address;
  return channel.Send(to, RenderedNotice{"s", "t", "", "<m@forewarn>"});
}

// A channel over `config` runs its start-up probe.
absl::Status ProbeWith(const SmtpConfig& config) {
  FakeClock clock(absl::UnixEpoch());
  return SmtpChannel(config, clock).Probe();
}

std::unique_ptr<TemplateRenderer> Renderer() {
  static const FakeClock clock(At("2026-01-10T12:05:00Z"));
  auto r = TemplateRenderer::Load(FOREWARN_TEMPLATES_DIR, clock);
  EXPECT_TRUE(r.ok()) << r.status();
  return r.ok() ? std::move(*r) : nullptr;
}

// A received body with CRLF line breaks back to the renderer's LF.
std::string Lf(const json& v) {
  return v.is_string() ? absl::StrReplaceAll(v.get<std::string>(), {{"\r\n", "\n"}}) : "";
}

// Header lines holding encoded-words stay within RFC 2047's 76 characters.
void ExpectEncodedWordLinesShort(const std::string& raw) {
  const std::string headers = raw.substr(0, raw.find("\r\n\r\n"));
  for (absl::string_view line : absl::StrSplit(headers, "\r\n")) {
    if (absl::StrContains(line, "=?UTF-8?B?")) {
      EXPECT_LE(line.size(), 76u) << line;
    }
  }
}

TEST(SmtpChannel, DeliversArabicAndEnglishNoticesThatParseAsMime) {
  SmtpSink sink({"--user", kUser, "--password", kPassword});
  ASSERT_TRUE(sink.Start().ok());
  auto renderer = Renderer();
  ASSERT_NE(renderer, nullptr);
  FakeClock clock(At("2026-01-10T12:05:00Z"));
  SmtpChannel channel(PlainConfig(sink.port()), clock);
  const Incident incident = MakeIncident();

  // Arabic: Riyadh time, Arabic subject and name, right-to-left HTML.
  const NoticeJob ar_job = MakeJob(7, "customer.ar@example.com", "ar", "Asia/Riyadh", "محمد بن عبدالله العتيبي");
  auto ar = renderer->Render(ar_job, incident);
  ASSERT_TRUE(ar.ok()) << ar.status();
  auto sent = channel.Send(ar_job.recipient, *ar);
  ASSERT_TRUE(sent.ok()) << sent.status();
  EXPECT_EQ(*sent, ar->message_id);

  json m = sink.Message(1);
  EXPECT_EQ(m["defects"], json::array());
  EXPECT_TRUE(m["is_multipart"].get<bool>());
  EXPECT_EQ(m["content_type"], "multipart/alternative");
  EXPECT_EQ(m["subject"], ar->subject);
  EXPECT_EQ(m["subject"], "انقطاع في خدمة الكهرباء (شمال الرياض)");
  EXPECT_EQ(m["to"], "محمد بن عبدالله العتيبي <customer.ar@example.com>");
  EXPECT_EQ(m["from"], absl::StrCat(kFromName, " <", kFrom, ">"));
  EXPECT_EQ(m["message_id"], ar->message_id);
  EXPECT_EQ(m["message_id"], "<0b9f3c2e-5d1a-4c7e-9f00-123456789abc.v2.outage_started.c7.email@forewarn>");
  EXPECT_EQ(m["date"], "Sat, 10 Jan 2026 12:05:00 +0000");
  EXPECT_EQ(m["auth_login"], kUser);
  EXPECT_EQ(m["mail_from"], kFrom);
  EXPECT_EQ(m["rcpt_tos"], json::array({"customer.ar@example.com"}));
  EXPECT_TRUE(m["crlf_only"].get<bool>());
  EXPECT_EQ(Lf(m["text"]), ar->text);
  EXPECT_EQ(Lf(m["html"]), ar->html);
  const std::string text = Lf(m["text"]);
  const std::string html = Lf(m["html"]);
  // Text parts travel in canonical form: every line break CRLF.
  const std::string wire_text = m["text"];
  EXPECT_TRUE(absl::StrContains(wire_text, "\r\n"));
  EXPECT_EQ(absl::StrReplaceAll(wire_text, {{"\r\n", ""}}).find_first_of("\r\n"), std::string::npos);
  EXPECT_TRUE(absl::StrContains(text, "السبب: عطل في محطة التحويل الرئيسية")) << text;
  EXPECT_TRUE(absl::StrContains(text, "18:30")) << text;  // 15:30Z in Riyadh
  EXPECT_FALSE(absl::StrContains(text, "15:30")) << text;
  EXPECT_TRUE(absl::StrContains(html, "dir=\"rtl\"")) << html;
  EXPECT_TRUE(absl::StrContains(html, "عطل في محطة التحويل الرئيسية")) << html;
  EXPECT_TRUE(absl::StrContains(html, "18:30")) << html;
  ExpectEncodedWordLinesShort(sink.Raw(1));

  // English on the same channel (same connection): New York time.
  const NoticeJob en_job = MakeJob(8, "john@example.com", "en", "America/New_York", "John \"Jack\" O'Brien");
  auto en = renderer->Render(en_job, incident);
  ASSERT_TRUE(en.ok()) << en.status();
  sent = channel.Send(en_job.recipient, *en);
  ASSERT_TRUE(sent.ok()) << sent.status();
  EXPECT_EQ(*sent, en->message_id);

  m = sink.Message(2);
  EXPECT_EQ(m["defects"], json::array());
  EXPECT_EQ(m["subject"], en->subject);
  EXPECT_EQ(m["subject"], "Service outage: Electricity (North Riyadh)");
  EXPECT_EQ(m["to"], "\"John \\\"Jack\\\" O'Brien\" <john@example.com>");
  EXPECT_EQ(m["message_id"], en->message_id);
  EXPECT_EQ(Lf(m["text"]), en->text);
  EXPECT_EQ(Lf(m["html"]), en->html);
  EXPECT_TRUE(absl::StrContains(Lf(m["text"]), "a fault at the \"main\" substation"));
  EXPECT_TRUE(absl::StrContains(Lf(m["text"]), "10:30 Eastern Standard Time"));
  EXPECT_TRUE(absl::StrContains(Lf(m["html"]), "10:30"));
  EXPECT_FALSE(absl::StrContains(Lf(m["html"]), "dir=\"rtl\""));
}

TEST(SmtpChannel, EncodesLongSubjectsAndNamesAsShortEncodedWords) {
  SmtpSink sink({"--user", kUser, "--password", kPassword});
  ASSERT_TRUE(sink.Start().ok());
  FakeClock clock(At("2026-01-10T12:05:00Z"));
  SmtpChannel channel(PlainConfig(sink.port()), clock);

  RenderedNotice notice;
  // 2- and 4-byte characters, long enough for several encoded-words.
  notice.subject =
      "تنبيه: انقطاع الكهرباء في أحياء شمال الرياض بسبب عطل في محطة التحويل الرئيسية 🔌 العودة المتوقعة 18:30 — "
      "نعتذر عن الإزعاج";
  notice.text = "line one\nسطر ثانٍ\n" + std::string(300, 'x') + "\n";
  notice.html = "<p dir=\"rtl\">مرحباً</p>";
  notice.message_id = "<long.v1.outage_started.c9.email@forewarn>";
  Recipient to;
  to.customer_id = 9;
  to.channel = Channel::kEmail;
  to.address = "long.name@example.com";
  to.locale = "ar";
  to.name = "عبدالرحمن بن عبدالعزيز بن عبدالله آل سعود الفيصل المطيري القحطاني";
  auto sent = channel.Send(to, notice);
  ASSERT_TRUE(sent.ok()) << sent.status();

  json m = sink.Message(1);
  EXPECT_EQ(m["defects"], json::array());
  EXPECT_EQ(m["subject"], notice.subject);
  // RFC 2047 §6.2 drops the folding whitespace between encoded-words;
  // Python's address parser shows it as a space. The words end after a space,
  // so Python sees the name with doubled spaces but no word cut in two.
  std::string shown = m["to"];
  while (absl::StrContains(shown, "  ")) shown = absl::StrReplaceAll(shown, {{"  ", " "}});
  EXPECT_EQ(shown, absl::StrCat(to.name, " <long.name@example.com>"));
  EXPECT_EQ(Lf(m["text"]), notice.text);
  EXPECT_EQ(Lf(m["html"]), notice.html);
  EXPECT_LE(m["max_line_length"].get<int>(), 998);
  const std::string raw = sink.Raw(1);
  ExpectEncodedWordLinesShort(raw);
  const std::string headers = raw.substr(0, raw.find("\r\n\r\n"));
  int words = 0;
  for (size_t p = headers.find("=?UTF-8?B?"); p != std::string::npos; p = headers.find("=?UTF-8?B?", p + 1)) ++words;
  EXPECT_GE(words, 4) << headers;
}

TEST(SmtpChannel, SendsPlainTextOnlyWhenThereIsNoHtml) {
  SmtpSink sink({"--user", kUser, "--password", kPassword});
  ASSERT_TRUE(sink.Start().ok());
  FakeClock clock(At("2026-01-10T12:05:00Z"));
  SmtpChannel channel(PlainConfig(sink.port()), clock);
  RenderedNotice notice{"Plain", "Just text.\nTwo lines.", "", "<plain@forewarn>"};
  Recipient to;
  to.address = "plain@example.com";
  ASSERT_TRUE(channel.Send(to, notice).ok());
  json m = sink.Message(1);
  EXPECT_FALSE(m["is_multipart"].get<bool>());
  EXPECT_EQ(m["content_type"], "text/plain");
  EXPECT_EQ(Lf(m["text"]), notice.text);
  EXPECT_EQ(m["to"], "plain@example.com");
}

TEST(SmtpChannel, WrongPasswordIsAProviderFaultNotAFailedNotice) {
  SmtpSink sink({"--user", kUser, "--password", kPassword});
  ASSERT_TRUE(sink.Start().ok());
  SmtpConfig config = PlainConfig(sink.port());
  config.password = "wrong";
  auto sent = SendOne(config, "someone@example.com");
  ASSERT_FALSE(sent.ok());
  EXPECT_EQ(ProviderFaultReason(sent.status()), "auth") << sent.status();
  EXPECT_TRUE(IsRetryable(sent.status()));  // the notice is not at fault
  EXPECT_TRUE(absl::StrContains(sent.status().message(), "535")) << sent.status();
}

TEST(SmtpChannel, MissingStartTlsAtSendTimeIsAProviderFault) {
  SmtpSink sink;  // plaintext, no STARTTLS
  ASSERT_TRUE(sink.Start().ok());
  SmtpConfig config = AnonymousConfig(sink.port());
  config.tls = SmtpConfig::Tls::kStartTls;
  auto sent = SendOne(config, "someone@example.com");
  ASSERT_FALSE(sent.ok());
  EXPECT_EQ(ProviderFaultReason(sent.status()), "tls") << sent.status();
}

TEST(SmtpChannel, RefusesANoticeWithoutAMessageIdWithoutConnecting) {
  FakeClock clock(absl::UnixEpoch());
  SmtpChannel channel(PlainConfig(channel_testing::RefusedPort()), clock);
  Recipient to;
  to.address = "someone@example.com";
  for (const char* id : {"", "<>", " "}) {
    auto sent = channel.Send(to, RenderedNotice{"s", "t", "", id});
    EXPECT_EQ(sent.status().code(), absl::StatusCode::kInvalidArgument) << sent.status();
  }
}

// A resend (another attempt, later, from another worker) of one notice
// carries the same Message-ID: MessageIdFor its key and nothing else.
TEST(SmtpChannel, EveryResendOfANoticeCarriesTheSameMessageId) {
  SmtpSink sink;
  ASSERT_TRUE(sink.Start().ok());
  auto renderer = Renderer();
  ASSERT_NE(renderer, nullptr);
  SmtpConfig config = AnonymousConfig(sink.port());
  NoticeJob job = MakeJob(7, "resend@example.com", "en", "Asia/Riyadh", "Sam");
  FakeClock first_clock(At("2026-01-10T12:05:00Z"));
  auto first = renderer->Render(job, MakeIncident());
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_TRUE(SmtpChannel(config, first_clock).Send(job.recipient, *first).ok());

  job.attempt = 3;  // a retry, an hour later, through another channel instance
  job.last_error = "timeout";
  FakeClock later(At("2026-01-10T13:05:00Z"));
  auto again = renderer->Render(job, MakeIncident());
  ASSERT_TRUE(again.ok()) << again.status();
  ASSERT_TRUE(SmtpChannel(config, later).Send(job.recipient, *again).ok());

  const std::string want = "<0b9f3c2e-5d1a-4c7e-9f00-123456789abc.v2.outage_started.c7.email@forewarn>";
  EXPECT_EQ(sink.Message(1)["message_id"], want);
  EXPECT_EQ(sink.Message(2)["message_id"], want);
  EXPECT_NE(sink.Message(1)["date"], sink.Message(2)["date"]);
}

// The server has the message but the client never hears so: the outcome is
// unknown, and the retry goes with the same Message-ID (mailbox stores that
// collapse duplicates by Message-ID show it once).
TEST(SmtpChannel, NoReplyAfterTheMessageIsAnAmbiguousSend) {
  for (const std::string mode : {"--stall-once", "--drop-once"}) {
    SCOPED_TRACE(mode);
    SmtpSink sink({mode, "slow", "--stall-seconds", "3"});
    ASSERT_TRUE(sink.Start().ok());
    FakeClock clock(absl::UnixEpoch());
    SmtpConfig config = AnonymousConfig(sink.port());
    config.timeout = std::chrono::milliseconds(1000);
    SmtpChannel channel(config, clock);
    Recipient to;
    to.address = "slow@example.com";
    const RenderedNotice notice{"s", "t", "", "<amb.v1.outage_started.c3.email@forewarn>"};
    auto sent = channel.Send(to, notice);
    ASSERT_FALSE(sent.ok());
    EXPECT_TRUE(IsAmbiguousSend(sent.status())) << sent.status();
    EXPECT_TRUE(IsRetryable(sent.status()));
    EXPECT_EQ(sink.Message(1)["message_id"], notice.message_id) << "the server had it";
    auto retried = channel.Send(to, notice);
    ASSERT_TRUE(retried.ok()) << retried.status();
    EXPECT_EQ(sink.Message(2)["message_id"], notice.message_id);
  }
}

// --- Start-up probes: EHLO, TLS and AUTH as configured; nothing is sent. ---

TEST(SmtpChannel, ProbePassesAPlaintextServerAndSendsNoMessage) {
  SmtpSink sink({"--user", kUser, "--password", kPassword});
  ASSERT_TRUE(sink.Start().ok());
  FakeClock clock(absl::UnixEpoch());
  SmtpChannel channel(PlainConfig(sink.port()), clock);
  const absl::Status s = channel.Probe();
  EXPECT_TRUE(s.ok()) << s;
  EXPECT_FALSE(std::filesystem::exists(sink.dir() + "/out/1.json"));
}

TEST(SmtpChannel, ProbeRefusesStartTlsAgainstAServerWithoutIt) {
  SmtpSink sink;
  ASSERT_TRUE(sink.Start().ok());
  SmtpConfig config = AnonymousConfig(sink.port());
  config.tls = SmtpConfig::Tls::kStartTls;  // the notifier's default
  const absl::Status s = ProbeWith(config);
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition) << s;
  EXPECT_TRUE(absl::StartsWith(s.message(), absl::StrCat("smtp://127.0.0.1:", sink.port(), ": "))) << s;
  EXPECT_TRUE(absl::StrContains(s.message(), "server does not offer STARTTLS (--smtp-tls starttls)")) << s;
  EXPECT_TRUE(absl::StrContains(s.message(), "use --smtp-tls none for a plaintext server")) << s;
}

TEST(SmtpChannel, ProbeRefusesAWrongPasswordAndAMissingLogin) {
  SmtpSink sink({"--user", kUser, "--password", kPassword});
  ASSERT_TRUE(sink.Start().ok());
  SmtpConfig config = PlainConfig(sink.port());
  config.password = "wrong";
  const absl::Status s = ProbeWith(config);
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition) << s;
  EXPECT_TRUE(absl::StrContains(s.message(), "authentication refused")) << s;
  EXPECT_TRUE(absl::StrContains(s.message(), "535")) << s;
  EXPECT_TRUE(absl::StrContains(s.message(), "--smtp-password")) << s;
  EXPECT_FALSE(absl::StrContains(s.message(), "wrong")) << "no password in messages: " << s;

  // No credentials for a server that wants them: the probe's NOOP passes
  // (AUTH is only demanded for mail), a send is a provider fault.
  auto sent = SendOne(AnonymousConfig(sink.port()), "someone@example.com");
  ASSERT_FALSE(sent.ok());
  EXPECT_EQ(ProviderFaultReason(sent.status()), "auth") << sent.status();
  EXPECT_TRUE(absl::StrContains(sent.status().message(), "530")) << sent.status();
}

TEST(SmtpChannel, ProbeOfAServerThatIsNotThereIsUnavailable) {
  const absl::Status s = ProbeWith(PlainConfig(channel_testing::RefusedPort()));
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable) << s;  // may still be starting: worth waiting for
  EXPECT_TRUE(absl::StrContains(s.message(), "cannot reach the server")) << s;

  LoopbackSocket silent(/*listen_now=*/true);  // accepts, never greets
  SmtpConfig config = PlainConfig(silent.port());
  config.timeout = std::chrono::milliseconds(500);
  EXPECT_EQ(ProbeWith(config).code(), absl::StatusCode::kUnavailable);
}

TEST(SmtpChannel, Maps5xxRepliesToPermanentAnd4xxToRetryable) {
  SmtpSink sink({"--reject-rcpt", "rejected", "--tempfail-rcpt", "busy"});
  ASSERT_TRUE(sink.Start().ok());
  FakeClock clock(absl::UnixEpoch());
  SmtpConfig config = AnonymousConfig(sink.port());
  SmtpChannel channel(config, clock);
  const RenderedNotice notice{"s", "t", "", "<m@forewarn>"};

  Recipient rejected;
  rejected.address = "rejected.user@example.com";
  auto r = channel.Send(rejected, notice);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition) << r.status();
  EXPECT_TRUE(absl::StrContains(r.status().message(), "550")) << r.status();
  EXPECT_FALSE(absl::StrContains(r.status().message(), "rejected.user@")) << "address must be masked";

  Recipient busy;
  busy.address = "busy@example.com";
  r = channel.Send(busy, notice);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable) << r.status();
  EXPECT_TRUE(IsRetryable(r.status()));
  EXPECT_TRUE(absl::StrContains(r.status().message(), "451")) << r.status();

  // The channel still works after both failures.
  Recipient ok;
  ok.address = "ok@example.com";
  auto sent = channel.Send(ok, notice);
  ASSERT_TRUE(sent.ok()) << sent.status();
  EXPECT_EQ(sink.Message(1)["rcpt_tos"], json::array({"ok@example.com"}));
}

TEST(SmtpChannel, ConnectionRefusedIsRetryable) {
  auto sent = SendOne(PlainConfig(channel_testing::RefusedPort()), "someone@example.com");
  ASSERT_FALSE(sent.ok());
  EXPECT_EQ(sent.status().code(), absl::StatusCode::kUnavailable) << sent.status();
  EXPECT_TRUE(IsRetryable(sent.status()));
}

TEST(SmtpChannel, SilentServerTimesOutRetryably) {
  LoopbackSocket silent(/*listen_now=*/true);  // accepts, never greets
  SmtpConfig config = PlainConfig(silent.port());
  config.timeout = std::chrono::milliseconds(500);
  const absl::Time start = absl::Now();
  auto sent = SendOne(config, "someone@example.com");
  ASSERT_FALSE(sent.ok());
  EXPECT_EQ(sent.status().code(), absl::StatusCode::kUnavailable) << sent.status();
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
}

TEST(SmtpChannel, RejectsAnAddressThatIsNotAnEmailWithoutConnecting) {
  FakeClock clock(absl::UnixEpoch());
  SmtpChannel channel(PlainConfig(channel_testing::RefusedPort()), clock);
  for (const char* bad :
       {"", "no-at-sign", "a@b", "two@@example.com", "x@example.com\r\nRCPT TO:<y@z.com>", "spaced name@example.com"}) {
    Recipient to;
    to.address = bad;
    auto sent = channel.Send(to, RenderedNotice{"s", "t", "", "<m@forewarn>"});
    ASSERT_FALSE(sent.ok()) << bad;
    EXPECT_EQ(sent.status().code(), absl::StatusCode::kInvalidArgument) << sent.status();
  }
}

TEST(SmtpChannel, ValidatesItsConfiguration) {
  SmtpConfig c = PlainConfig(25);
  EXPECT_TRUE(SmtpChannel::Validate(c).ok());
  c.url = "http://127.0.0.1:25";
  EXPECT_EQ(SmtpChannel::Validate(c).code(), absl::StatusCode::kFailedPrecondition);
  c.url = "smtps://mail.example.com:465";
  EXPECT_EQ(SmtpChannel::Validate(c).code(), absl::StatusCode::kFailedPrecondition);  // needs tls = implicit
  c.tls = SmtpConfig::Tls::kImplicit;
  EXPECT_TRUE(SmtpChannel::Validate(c).ok());
  c.from_address = "not an address";
  EXPECT_EQ(SmtpChannel::Validate(c).code(), absl::StatusCode::kFailedPrecondition);

  // A channel with a bad configuration fails every send permanently.
  FakeClock clock(absl::UnixEpoch());
  SmtpChannel channel(c, clock);
  Recipient to;
  to.address = "someone@example.com";
  EXPECT_EQ(channel.Send(to, RenderedNotice{}).status().code(), absl::StatusCode::kFailedPrecondition);
}

// --- TLS (a throw-away self-signed certificate, test_util.h). ---

using channel_testing::MakeSelfSignedCert;

TEST(SmtpChannel, AuthenticatesAfterStartTlsVerifyingTheServer) {
  auto cert = MakeSelfSignedCert();
  if (!cert) GTEST_SKIP() << "openssl not available";
  SmtpSink sink({"--user", kUser, "--password", kPassword, "--tls-cert", cert->cert, "--tls-key", cert->key});
  ASSERT_TRUE(sink.Start().ok());
  FakeClock clock(At("2026-01-10T12:05:00Z"));
  SmtpConfig config = PlainConfig(sink.port());
  config.tls = SmtpConfig::Tls::kStartTls;
  config.ca_file = cert->cert;
  SmtpChannel channel(config, clock);
  Recipient to;
  to.address = "tls@example.com";
  to.name = "سارة";
  auto sent = channel.Send(to, RenderedNotice{"عبر TLS", "نص", "<p dir=\"rtl\">نص</p>", "<tls@forewarn>"});
  ASSERT_TRUE(sent.ok()) << sent.status();
  json m = sink.Message(1);
  EXPECT_TRUE(m["tls"].get<bool>());
  EXPECT_EQ(m["auth_login"], kUser);
  EXPECT_EQ(m["subject"], "عبر TLS");

  EXPECT_TRUE(channel.Probe().ok());

  // Without the CA the self-signed certificate is refused: nothing is sent,
  // and the probe names the flag to set.
  config.ca_file = "/dev/null";
  SmtpChannel untrusting(config, clock);
  auto refused = untrusting.Send(to, RenderedNotice{"s", "t", "", "<m@forewarn>"});
  ASSERT_FALSE(refused.ok());
  EXPECT_TRUE(IsRetryable(refused.status())) << refused.status();
  EXPECT_EQ(ProviderFaultReason(refused.status()), "tls") << refused.status();
  const absl::Status probe = untrusting.Probe();
  EXPECT_EQ(probe.code(), absl::StatusCode::kFailedPrecondition) << probe;
  EXPECT_TRUE(absl::StrContains(probe.message(), "TLS certificate not accepted")) << probe;
  EXPECT_TRUE(absl::StrContains(probe.message(), "--smtp-ca-file")) << probe;
  EXPECT_EQ(sink.Message(1)["subject"], "عبر TLS");  // still the only message
  EXPECT_FALSE(std::filesystem::exists(sink.dir() + "/out/2.json"));
}

TEST(SmtpChannel, SpeaksImplicitTls) {
  auto cert = MakeSelfSignedCert();
  if (!cert) GTEST_SKIP() << "openssl not available";
  SmtpSink sink(
      {"--user", kUser, "--password", kPassword, "--tls-cert", cert->cert, "--tls-key", cert->key, "--implicit-tls"});
  ASSERT_TRUE(sink.Start().ok());
  FakeClock clock(At("2026-01-10T12:05:00Z"));
  SmtpConfig config = PlainConfig(sink.port());
  config.url = absl::StrCat("smtps://localhost:", sink.port());
  config.tls = SmtpConfig::Tls::kImplicit;
  config.ca_file = cert->cert;
  SmtpChannel channel(config, clock);
  Recipient to;
  to.address = "smtps@example.com";
  auto sent = channel.Send(to, RenderedNotice{"Implicit", "text", "", "<smtps@forewarn>"});
  ASSERT_TRUE(sent.ok()) << sent.status();
  json m = sink.Message(1);
  EXPECT_TRUE(m["tls"].get<bool>());
  EXPECT_EQ(m["auth_login"], kUser);
  EXPECT_TRUE(channel.Probe().ok());
}

TEST(SmtpChannel, ProbeRefusesImplicitTlsAgainstAPlaintextPort) {
  SmtpSink sink;
  ASSERT_TRUE(sink.Start().ok());
  SmtpConfig config = AnonymousConfig(sink.port());
  config.tls = SmtpConfig::Tls::kImplicit;
  const absl::Status s = ProbeWith(config);
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition) << s;
  EXPECT_TRUE(absl::StrContains(s.message(), "TLS handshake failed")) << s;
  EXPECT_TRUE(absl::StrContains(s.message(), "--smtp-tls implicit")) << s;
}

// --- The MIME builder and RFC 2047 encoder on their own. ---

std::string DecodeWords(const std::string& encoded, std::vector<std::string>* chunks) {
  std::string out;
  for (absl::string_view line : absl::StrSplit(encoded, "\r\n ")) {
    EXPECT_TRUE(absl::StartsWith(line, "=?UTF-8?B?") && absl::EndsWith(line, "?=")) << line;
    EXPECT_LE(line.size(), 75u) << line;
    std::string bytes;
    EXPECT_TRUE(absl::Base64Unescape(line.substr(10, line.size() - 12), &bytes));
    if (!bytes.empty()) {
      EXPECT_NE(static_cast<unsigned char>(bytes[0]) & 0xC0, 0x80) << "split inside a character";
    }
    chunks->push_back(bytes);
    out += bytes;
  }
  return out;
}

TEST(Rfc2047, SplitsOnCharacterBoundariesIntoShortWords) {
  for (const std::string& text :
       {std::string("انقطاع الكهرباء في الرياض والعودة المتوقعة عند الساعة السادسة والنصف مساءً"),
        std::string("🔌🔌🔌🔌🔌🔌🔌🔌🔌🔌🔌🔌🔌🔌🔌🔌🔌🔌🔌🔌🔌🔌"), std::string("é"), std::string(200, 'a')}) {
    const std::string encoded = EncodeRfc2047(text, /*first_line_used=*/9);
    std::vector<std::string> chunks;
    EXPECT_EQ(DecodeWords(encoded, &chunks), text);
    const size_t first = encoded.find("\r\n");
    EXPECT_LE((first == std::string::npos ? encoded.size() : first) + 9, 76u);
  }
  EXPECT_EQ(EncodeRfc2047(""), "");
}

TEST(BuildMimeMessage, NeverLetsHeaderTextInjectHeaders) {
  SmtpConfig config = PlainConfig(25);
  Recipient to;
  to.address = "a@example.com";
  to.name = "Eve\r\nBcc: victim@example.com";
  RenderedNotice n{"Hello\r\nBcc: other@example.com", "t", "", "<id@forewarn>"};
  const std::string m = BuildMimeMessage(config, to, n, absl::UnixEpoch());
  EXPECT_FALSE(absl::StrContains(m, "\r\nBcc:")) << m;
  EXPECT_TRUE(absl::StrContains(m, "Date: Thu, 1 Jan 1970 00:00:00 +0000\r\n")) << m;
}

TEST(BuildMimeMessage, CarriesOneClickUnsubscribeHeadersOnlyWithALink) {
  SmtpConfig config = PlainConfig(25);
  Recipient to;
  to.address = "a@example.com";
  RenderedNotice n{"Hello", "t", "<p>t</p>", "<id@forewarn>"};
  EXPECT_FALSE(absl::StrContains(BuildMimeMessage(config, to, n, absl::UnixEpoch()), "List-Unsubscribe"));
  n.unsubscribe_url = "https://forewarn.example/u/AQAAAAAAAAAqIiFk7a0AbcdEFgh-_ijklMN";
  const std::string m = BuildMimeMessage(config, to, n, absl::UnixEpoch());
  EXPECT_TRUE(absl::StrContains(m, "\r\nList-Unsubscribe: <https://forewarn.example/u/AQAAAAAAAAAqIiFk7a0AbcdEFgh-_ijklMN>\r\n"))
      << m;
  EXPECT_TRUE(absl::StrContains(m, "\r\nList-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n")) << m;
  // A link that could leave its angle brackets is not sent at all.
  n.unsubscribe_url = "https://x.example/u/a>, <mailto:evil@example.com";
  EXPECT_FALSE(absl::StrContains(BuildMimeMessage(config, to, n, absl::UnixEpoch()), "List-Unsubscribe"));
}

}  // namespace
}  // namespace forewarn
