#include "notifier/channels/channel_errors.h"

#include <curl/curl.h>
#include <gtest/gtest.h>

#include <string>

#include "absl/strings/match.h"
#include "services/core/ports.h"

namespace forewarn {
namespace {

using Protocol = ProviderCallResult::Protocol;
constexpr Protocol kSmtp = Protocol::kSmtp;
constexpr Protocol kHttp = Protocol::kHttp;

struct Case {
  Protocol protocol;
  CURLcode curl;
  long reply;
  bool sent;
  absl::StatusCode code;
  const char* fault;  // ProviderFaultReason; "" for none
  bool ambiguous;
};

// The rule of channel_errors.h, row by row.
const Case kCases[] = {
    // TLS and certificates: provider faults, whatever the protocol.
    {kSmtp, CURLE_SSL_CONNECT_ERROR, 0, false, absl::StatusCode::kUnavailable, "tls", false},
    {kSmtp, CURLE_PEER_FAILED_VERIFICATION, 0, false, absl::StatusCode::kUnavailable, "tls", false},
    {kSmtp, CURLE_USE_SSL_FAILED, 250, false, absl::StatusCode::kUnavailable, "tls", false},  // no STARTTLS
    {kSmtp, CURLE_SSL_CACERT_BADFILE, 0, false, absl::StatusCode::kUnavailable, "tls", false},
    {kHttp, CURLE_PEER_FAILED_VERIFICATION, 0, false, absl::StatusCode::kUnavailable, "tls", false},
    {kHttp, CURLE_SSL_CONNECT_ERROR, 0, false, absl::StatusCode::kUnavailable, "tls", false},
    // Authentication refused.
    {kSmtp, CURLE_LOGIN_DENIED, 535, false, absl::StatusCode::kUnavailable, "auth", false},
    {kSmtp, CURLE_LOGIN_DENIED, 0, false, absl::StatusCode::kUnavailable, "auth", false},  // no common mechanism
    {kSmtp, CURLE_SEND_ERROR, 530, false, absl::StatusCode::kUnavailable, "auth", false},  // MAIL FROM: auth required
    {kSmtp, CURLE_WEIRD_SERVER_REPLY, 538, false, absl::StatusCode::kUnavailable, "auth", false},
    {kSmtp, CURLE_SEND_ERROR, 534, false, absl::StatusCode::kUnavailable, "auth", false},
    {kHttp, CURLE_OK, 401, true, absl::StatusCode::kUnavailable, "auth", false},
    {kHttp, CURLE_OK, 403, true, absl::StatusCode::kUnavailable, "auth", false},
    {kHttp, CURLE_OK, 407, true, absl::StatusCode::kUnavailable, "auth", false},
    // A wrong URL.
    {kSmtp, CURLE_URL_MALFORMAT, 0, false, absl::StatusCode::kUnavailable, "config", false},
    {kHttp, CURLE_UNSUPPORTED_PROTOCOL, 0, false, absl::StatusCode::kUnavailable, "config", false},
    {kHttp, CURLE_OK, 302, true, absl::StatusCode::kUnavailable, "config", false},
    // The provider answered: the outcome is known.
    {kSmtp, CURLE_SEND_ERROR, 451, false, absl::StatusCode::kUnavailable, "", false},
    {kSmtp, CURLE_SEND_ERROR, 550, false, absl::StatusCode::kFailedPrecondition, "", false},
    {kSmtp, CURLE_WEIRD_SERVER_REPLY, 552, true, absl::StatusCode::kFailedPrecondition, "", false},  // after DATA
    {kSmtp, CURLE_WEIRD_SERVER_REPLY, 452, true, absl::StatusCode::kUnavailable, "", false},
    {kHttp, CURLE_OK, 400, true, absl::StatusCode::kInvalidArgument, "", false},
    {kHttp, CURLE_OK, 404, true, absl::StatusCode::kInvalidArgument, "", false},
    {kHttp, CURLE_OK, 408, true, absl::StatusCode::kUnavailable, "", false},
    {kHttp, CURLE_OK, 429, true, absl::StatusCode::kUnavailable, "", false},
    {kHttp, CURLE_OK, 500, true, absl::StatusCode::kUnavailable, "", false},
    {kHttp, CURLE_OK, 503, true, absl::StatusCode::kUnavailable, "", false},
    // No answer after the request went: the provider may have the message.
    {kSmtp, CURLE_OPERATION_TIMEDOUT, 354, true, absl::StatusCode::kDeadlineExceeded, "", true},
    {kSmtp, CURLE_RECV_ERROR, 354, true, absl::StatusCode::kDeadlineExceeded, "", true},
    {kHttp, CURLE_OPERATION_TIMEDOUT, 0, true, absl::StatusCode::kDeadlineExceeded, "", true},
    {kHttp, CURLE_GOT_NOTHING, 0, true, absl::StatusCode::kDeadlineExceeded, "", true},
    {kHttp, CURLE_RECV_ERROR, 0, true, absl::StatusCode::kDeadlineExceeded, "", true},
    // No answer before it went: nothing reached the provider.
    {kSmtp, CURLE_OPERATION_TIMEDOUT, 0, false, absl::StatusCode::kUnavailable, "", false},
    {kSmtp, CURLE_COULDNT_CONNECT, 0, false, absl::StatusCode::kUnavailable, "", false},
    {kSmtp, CURLE_RECV_ERROR, 250, false, absl::StatusCode::kUnavailable, "", false},
    {kHttp, CURLE_OPERATION_TIMEDOUT, 0, false, absl::StatusCode::kUnavailable, "", false},
    {kHttp, CURLE_COULDNT_CONNECT, 0, false, absl::StatusCode::kUnavailable, "", false},
    {kHttp, CURLE_COULDNT_RESOLVE_HOST, 0, false, absl::StatusCode::kUnavailable, "", false},
};

TEST(ClassifyProviderFailure, FollowsTheTableRowByRow) {
  for (const Case& c : kCases) {
    SCOPED_TRACE(::testing::Message() << (c.protocol == kSmtp ? "smtp" : "http") << " curl=" << c.curl
                                    << " reply=" << c.reply << " sent=" << c.sent);
    const ProviderCallResult r{c.protocol, c.curl, c.reply, c.sent, "detail text"};
    const absl::Status s = ClassifyProviderFailure(r, "send to x failed: ");
    EXPECT_EQ(s.code(), c.code) << s;
    EXPECT_EQ(ProviderFaultReason(s), c.fault) << s;
    EXPECT_EQ(IsAmbiguousSend(s), c.ambiguous) << s;
    EXPECT_TRUE(absl::StartsWith(s.message(), "send to x failed: detail text")) << s;
    if (c.reply != 0) {
      EXPECT_TRUE(absl::StrContains(s.message(), std::to_string(c.reply))) << s;
    }
    // Provider faults and ambiguous sends never fail the notice for good.
    if (*c.fault != '\0' || c.ambiguous) {
      EXPECT_TRUE(IsRetryable(s)) << s;
    }
    EXPECT_FALSE(IsProviderPaused(s)) << "only the circuit breaker pauses";
  }
}

TEST(UrlForMessages, DropsCredentialsOnly) {
  EXPECT_EQ(UrlForMessages("smtp://user:secret@mail.example.com:587"), "smtp://mail.example.com:587");
  EXPECT_EQ(UrlForMessages("https://key@sms.example.com/send?to=a@b"), "https://sms.example.com/send?to=a@b");
  EXPECT_EQ(UrlForMessages("https://sms.example.com/send?to=a@b"), "https://sms.example.com/send?to=a@b");
  EXPECT_EQ(UrlForMessages("smtp://127.0.0.1:2525"), "smtp://127.0.0.1:2525");
  EXPECT_EQ(UrlForMessages("mail.example.com:25"), "mail.example.com:25");
}

}  // namespace
}  // namespace forewarn
