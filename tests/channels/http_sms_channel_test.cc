#include "notifier/channels/http_sms_channel.h"

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "services/core/ports.h"
#include "tests/channels/test_util.h"
#include "tests/support/process.h"

namespace forewarn {
namespace {

using channel_testing::PythonPeer;
using channel_testing::ReadLines;
using nlohmann::json;

constexpr char kAuth[] = "Authorization: Bearer test-token-123";
constexpr char kMessageId[] = "<inc.v1.outage_started.c5.sms@forewarn>";

// The scripted gateway and the requests it recorded.
class Gateway {
 public:
  explicit Gateway(const std::string& script, std::vector<std::string> extra = {})
      : dir_(testing::MakeTempDir("sms-gateway")), https_(!extra.empty()) {
    std::vector<std::string> args = {"--log", dir_ + "/requests.jsonl", "--script", script, "--timeout-sleep", "3"};
    args.insert(args.end(), extra.begin(), extra.end());
    peer_ = std::make_unique<PythonPeer>("sms_gateway.py", args, dir_);
  }
  absl::Status Start() { return peer_->Start(); }
  std::string url() const {
    return absl::StrCat(https_ ? "https://localhost:" : "http://127.0.0.1:", peer_->port(), "/v1/messages");
  }
  int port() const { return peer_->port(); }
  std::vector<json> Requests() const {
    std::vector<json> out;
    for (const auto& line : ReadLines(dir_ + "/requests.jsonl")) out.push_back(json::parse(line));
    return out;
  }

 private:
  std::string dir_;
  bool https_ = false;
  std::unique_ptr<PythonPeer> peer_;
};

HttpSmsConfig JsonConfig(const std::string& url) {
  HttpSmsConfig c;
  c.url = url;
  c.auth_header = kAuth;
  c.body = HttpSmsConfig::Body::kJson;
  c.sender = "FOREWARN";
  c.timeout = std::chrono::milliseconds(700);
  return c;
}

Recipient Phone(std::string e164 = "+966501234567") {
  Recipient r;
  r.customer_id = 5;
  r.channel = Channel::kSms;
  r.address = std::move(e164);
  r.locale = "ar";
  return r;
}

RenderedNotice Sms(std::string text) {
  RenderedNotice n;
  n.text = std::move(text);
  n.message_id = kMessageId;
  return n;
}

// The text a JSON-escaping bug would break: quotes, backslash, newlines, tab,
// Arabic, an emoji and a control character.
const std::string kTrickyText = "انقطاع الكهرباء \"عاجل\"\nالسبب: عطل\\محطة\tالعودة 18:30 🔌 \x01 end";

TEST(HttpSmsChannel, FailuresAreRetryRetryThenPermanent) {
  Gateway gw("500,timeout,400");
  ASSERT_TRUE(gw.Start().ok());
  HttpSmsChannel channel(JsonConfig(gw.url()));
  const RenderedNotice notice = Sms("انقطاع الكهرباء في شمال الرياض");

  auto first = channel.Send(Phone(), notice);  // 500
  ASSERT_FALSE(first.ok());
  EXPECT_EQ(first.status().code(), absl::StatusCode::kUnavailable) << first.status();
  EXPECT_TRUE(IsRetryable(first.status()));
  EXPECT_TRUE(absl::StrContains(first.status().message(), "HTTP 500")) << first.status();
  // The gateway's body echoes the number: masked in the error.
  EXPECT_FALSE(absl::StrContains(first.status().message(), "501234567")) << first.status();

  const absl::Time start = absl::Now();
  auto second = channel.Send(Phone(), notice);  // no answer within the timeout
  ASSERT_FALSE(second.ok());
  EXPECT_TRUE(IsAmbiguousSend(second.status())) << second.status();  // the gateway has the request
  EXPECT_TRUE(IsRetryable(second.status()));
  EXPECT_LT(absl::Now() - start, absl::Milliseconds(2500));  // gave up at the client timeout

  auto third = channel.Send(Phone(), notice);  // 400
  ASSERT_FALSE(third.ok());
  EXPECT_EQ(third.status().code(), absl::StatusCode::kInvalidArgument) << third.status();
  EXPECT_FALSE(IsRetryable(third.status()));

  auto fourth = channel.Send(Phone(), notice);  // script exhausted: 200
  ASSERT_TRUE(fourth.ok()) << fourth.status();
  EXPECT_EQ(*fourth, "gw-4");
  const auto requests = gw.Requests();
  ASSERT_EQ(requests.size(), 4u);
  // Every attempt, the ambiguous one and its retries, carries the same key.
  for (const json& r : requests) {
    EXPECT_EQ(r["headers"]["idempotency-key"], kMessageId) << r.dump();
    EXPECT_EQ(json::parse(r["body"].get<std::string>())["reference"], kMessageId);
  }
}

TEST(HttpSmsChannel, IdempotencyHeaderNameIsConfigurableOrOff) {
  Gateway gw("");
  ASSERT_TRUE(gw.Start().ok());
  HttpSmsConfig config = JsonConfig(gw.url());
  config.idempotency_header = "X-Client-Reference";
  ASSERT_TRUE(HttpSmsChannel(config).Send(Phone(), Sms("a")).ok());
  config.idempotency_header.clear();
  ASSERT_TRUE(HttpSmsChannel(config).Send(Phone(), Sms("b")).ok());
  const auto requests = gw.Requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0]["headers"]["x-client-reference"], kMessageId);
  EXPECT_FALSE(requests[0]["headers"].contains("idempotency-key"));
  EXPECT_FALSE(requests[1]["headers"].contains("idempotency-key"));
  EXPECT_FALSE(requests[1]["headers"].contains("x-client-reference"));
  EXPECT_EQ(requests[1]["headers"]["authorization"], "Bearer test-token-123");  // the fixed headers stay

  config.idempotency_header = "Bad Header:";
  EXPECT_EQ(HttpSmsChannel::Validate(config).code(), absl::StatusCode::kFailedPrecondition);
  // A message id that cannot be a header value is refused, not sent bare.
  config.idempotency_header = "Idempotency-Key";
  RenderedNotice bad = Sms("x");
  bad.message_id = "<a\r\nX-Injected: 1>";
  EXPECT_EQ(HttpSmsChannel(config).Send(Phone(), bad).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(gw.Requests().size(), 2u);
}

TEST(HttpSmsChannel, RefusedCredentialsAreAProviderFaultNotAFailedNotice) {
  Gateway gw("401,403");
  ASSERT_TRUE(gw.Start().ok());
  HttpSmsChannel channel(JsonConfig(gw.url()));
  for (int code : {401, 403}) {
    auto r = channel.Send(Phone(), Sms("x"));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(ProviderFaultReason(r.status()), "auth") << r.status();
    EXPECT_TRUE(IsRetryable(r.status()));
    EXPECT_TRUE(absl::StrContains(r.status().message(), absl::StrCat("HTTP ", code))) << r.status();
    EXPECT_FALSE(absl::StrContains(r.status().message(), "501234567")) << r.status();
  }
}

TEST(HttpSmsChannel, PostsEscapedJsonWithTheAuthHeaderAndReturnsTheProviderId) {
  Gateway gw("");
  ASSERT_TRUE(gw.Start().ok());
  HttpSmsChannel channel(JsonConfig(gw.url()));
  auto sent = channel.Send(Phone(), Sms(kTrickyText));
  ASSERT_TRUE(sent.ok()) << sent.status();
  EXPECT_EQ(*sent, "gw-1");

  const auto requests = gw.Requests();
  ASSERT_EQ(requests.size(), 1u);
  const json& r = requests[0];
  EXPECT_EQ(r["method"], "POST");
  EXPECT_EQ(r["path"], "/v1/messages");
  EXPECT_EQ(r["headers"]["authorization"], "Bearer test-token-123");
  EXPECT_TRUE(absl::StartsWith(r["headers"]["content-type"].get<std::string>(), "application/json"));
  const json body = json::parse(r["body"].get<std::string>());  // throws (fails) if not valid JSON
  EXPECT_EQ(body["to"], "+966501234567");
  EXPECT_EQ(body["text"], kTrickyText);
  EXPECT_EQ(body["reference"], kMessageId);
  EXPECT_EQ(body["sender"], "FOREWARN");
  EXPECT_EQ(body.size(), 4u);
}

TEST(HttpSmsChannel, FormBodyIsUrlEncodedFromTheFieldTemplates) {
  Gateway gw("");
  ASSERT_TRUE(gw.Start().ok());
  HttpSmsConfig config = JsonConfig(gw.url());
  config.body = HttpSmsConfig::Body::kForm;
  config.auth_header = "X-Api-Key: k&=y";
  config.fields = {{"To", "{to}"},
                   {"Body", "{text}"},
                   {"From", "{sender}"},
                   {"StatusCallback", "ref:{message_id}"},
                   {"Literal", "{not a placeholder} & more"}};
  HttpSmsChannel channel(config);
  auto sent = channel.Send(Phone(), Sms(kTrickyText));
  ASSERT_TRUE(sent.ok()) << sent.status();

  const auto requests = gw.Requests();
  ASSERT_EQ(requests.size(), 1u);
  const json& r = requests[0];
  EXPECT_EQ(r["headers"]["x-api-key"], "k&=y");
  EXPECT_EQ(r["headers"]["content-type"], "application/x-www-form-urlencoded");
  const std::string body = r["body"];
  // No raw reserved or non-ASCII bytes: every value is percent-encoded.
  for (unsigned char c : body) {
    EXPECT_TRUE(std::isalnum(c) || c == '%' || c == '&' || c == '=' || c == '-' || c == '_' || c == '.' || c == '~')
        << "raw byte " << int(c) << " in " << body;
  }
  EXPECT_TRUE(absl::StrContains(body, "To=%2B966501234567")) << body;
  EXPECT_TRUE(absl::StrContains(body, "From=FOREWARN")) << body;
  EXPECT_TRUE(absl::StrContains(body, "StatusCallback=ref%3A%3Cinc.v1.outage_started.c5.sms%40forewarn%3E")) << body;
  EXPECT_TRUE(absl::StrContains(body, "Literal=%7Bnot%20a%20placeholder%7D%20%26%20more")) << body;
  // Decoding gives back the exact text (Python decodes the same way).
  const std::string py =
      absl::StrCat(FOREWARN_PYTHON,
                   " -c 'import sys,urllib.parse; d=urllib.parse.parse_qs(sys.argv[1], strict_parsing=True); "
                   "sys.stdout.write(d[\"Body\"][0])' '",
                   body, "'");
  FILE* p = ::popen(py.c_str(), "r");
  ASSERT_NE(p, nullptr);
  std::string decoded;
  char buf[512];
  for (size_t n; (n = std::fread(buf, 1, sizeof buf, p)) > 0;) decoded.append(buf, n);
  EXPECT_EQ(::pclose(p), 0);
  EXPECT_EQ(decoded, kTrickyText);
}

TEST(HttpSmsChannel, ProviderIdFallsBackToTheMessageIdAndAcceptsNumbers) {
  Gateway gw("200-noid,200-num");
  ASSERT_TRUE(gw.Start().ok());
  HttpSmsChannel channel(JsonConfig(gw.url()));
  auto a = channel.Send(Phone(), Sms("hello"));
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(*a, kMessageId);
  auto b = channel.Send(Phone(), Sms("hello"));
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_EQ(*b, "2");

  HttpSmsConfig custom = JsonConfig(gw.url());
  custom.provider_id_field = "status";
  HttpSmsChannel channel2(custom);
  auto c = channel2.Send(Phone(), Sms("hello"));
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(*c, "queued");
}

TEST(HttpSmsChannel, MapsStatusCodes) {
  // libcurl resends a request once when a REUSED connection closes without an
  // answer (the server may have dropped an idle connection), so dropping a
  // request takes two "close" answers: the resend goes on a fresh connection.
  Gateway gw("429,401,404,503,close,close,302");
  ASSERT_TRUE(gw.Start().ok());
  HttpSmsChannel channel(JsonConfig(gw.url()));
  const std::vector<absl::StatusCode> want = {
      absl::StatusCode::kUnavailable,       // 429 throttled: retry later
      absl::StatusCode::kUnavailable,       // 401 credentials: a provider fault
      absl::StatusCode::kInvalidArgument,   // 404
      absl::StatusCode::kUnavailable,       // 503
      absl::StatusCode::kDeadlineExceeded,  // connection closed after the request: ambiguous
      absl::StatusCode::kUnavailable,       // 302: misconfigured URL, a provider fault
  };
  const std::vector<std::string> fault = {"", "auth", "", "", "", "config"};
  for (size_t i = 0; i < want.size(); ++i) {
    auto r = channel.Send(Phone(), Sms("x"));
    ASSERT_FALSE(r.ok()) << i;
    EXPECT_EQ(r.status().code(), want[i]) << i << ": " << r.status();
    EXPECT_EQ(ProviderFaultReason(r.status()), fault[i]) << i << ": " << r.status();
    EXPECT_EQ(IsAmbiguousSend(r.status()), i == 4) << i << ": " << r.status();
  }
  EXPECT_EQ(gw.Requests().size(), 7u);
}

TEST(HttpSmsChannel, ConnectionRefusedIsRetryable) {
  HttpSmsChannel channel(JsonConfig(absl::StrCat("http://127.0.0.1:", channel_testing::RefusedPort(), "/sms")));
  auto r = channel.Send(Phone(), Sms("x"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable) << r.status();
  EXPECT_FALSE(IsAmbiguousSend(r.status())) << "nothing reached the gateway";
  EXPECT_EQ(ProviderFaultReason(r.status()), "");
}

// --- Start-up probe: TCP (and TLS) to the gateway, no request. ---

TEST(HttpSmsChannel, ProbeConnectsWithoutSendingARequest) {
  Gateway gw("");
  ASSERT_TRUE(gw.Start().ok());
  const absl::Status s = HttpSmsChannel(JsonConfig(gw.url())).Probe();
  EXPECT_TRUE(s.ok()) << s;
  EXPECT_TRUE(gw.Requests().empty());
}

TEST(HttpSmsChannel, ProbeOfAGatewayThatIsNotThereIsUnavailable) {
  const std::string url = absl::StrCat("http://127.0.0.1:", channel_testing::RefusedPort(), "/sms");
  const absl::Status s = HttpSmsChannel(JsonConfig(url)).Probe();
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable) << s;
  EXPECT_TRUE(absl::StartsWith(s.message(), url + ": cannot reach the gateway")) << s;
}

TEST(HttpSmsChannel, OverHttpsTheCertificateIsCheckedByTheProbeAndEverySend) {
  auto cert = channel_testing::MakeSelfSignedCert();
  if (!cert) GTEST_SKIP() << "openssl not available";
  Gateway gw("", {"--tls-cert", cert->cert, "--tls-key", cert->key});
  ASSERT_TRUE(gw.Start().ok());
  HttpSmsConfig config = JsonConfig(gw.url());
  config.ca_file = cert->cert;
  HttpSmsChannel trusting(config);
  EXPECT_TRUE(trusting.Probe().ok());
  auto sent = trusting.Send(Phone(), Sms("over https"));
  ASSERT_TRUE(sent.ok()) << sent.status();

  config.ca_file = "/dev/null";
  HttpSmsChannel untrusting(config);
  const absl::Status probe = untrusting.Probe();
  EXPECT_EQ(probe.code(), absl::StatusCode::kFailedPrecondition) << probe;
  EXPECT_TRUE(absl::StrContains(probe.message(), "TLS certificate not accepted")) << probe;
  EXPECT_TRUE(absl::StrContains(probe.message(), "--sms-ca-file")) << probe;
  auto refused = untrusting.Send(Phone(), Sms("x"));
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(ProviderFaultReason(refused.status()), "tls") << refused.status();
  EXPECT_EQ(gw.Requests().size(), 1u);  // only the trusted send

  // https:// against a plaintext gateway: the handshake fails.
  Gateway plain("");
  ASSERT_TRUE(plain.Start().ok());
  config.ca_file = cert->cert;
  config.url = absl::StrCat("https://127.0.0.1:", plain.port(), "/v1/messages");
  const absl::Status handshake = HttpSmsChannel(config).Probe();
  EXPECT_EQ(handshake.code(), absl::StatusCode::kFailedPrecondition) << handshake;
  EXPECT_TRUE(absl::StrContains(handshake.message(), "TLS handshake failed")) << handshake;
}

TEST(HttpSmsChannel, RejectsANonE164RecipientWithoutARequest) {
  Gateway gw("");
  ASSERT_TRUE(gw.Start().ok());
  HttpSmsChannel channel(JsonConfig(gw.url()));
  for (const char* bad : {"", "0501234567", "+0501234567", "+9665x1234567", "+96650123456789012"}) {
    auto r = channel.Send(Phone(bad), Sms("x"));
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << r.status();
  }
  EXPECT_TRUE(gw.Requests().empty());
}

TEST(HttpSmsChannel, ValidatesItsConfiguration) {
  HttpSmsConfig c = JsonConfig("https://sms.example.com/send");
  EXPECT_TRUE(HttpSmsChannel::Validate(c).ok());
  c.fields = {{"to", "{to}"}, {"msg", "{txt}"}};
  absl::Status s = HttpSmsChannel::Validate(c);
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(absl::StrContains(s.message(), "{txt}")) << s;
  c = JsonConfig("ftp://sms.example.com");
  EXPECT_EQ(HttpSmsChannel::Validate(c).code(), absl::StatusCode::kFailedPrecondition);
  c = JsonConfig("https://sms.example.com");
  c.auth_header = "Bearer no-header-name";
  EXPECT_EQ(HttpSmsChannel::Validate(c).code(), absl::StatusCode::kFailedPrecondition);
  HttpSmsChannel channel(c);
  EXPECT_EQ(channel.Send(Phone(), Sms("x")).status().code(), absl::StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace forewarn
