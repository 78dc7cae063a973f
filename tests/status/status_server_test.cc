// forewarn-status's HTTP routes over loopback (cpp-httplib's client), over
// the site with an in-memory reader.
#include <httplib.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "services/status_http/status_server.h"
#include "tests/status/fake_status_reader.h"

namespace forewarn {
namespace {

using ::testing::HasSubstr;

class StatusServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    testing::AddSampleIncidents(reader_, clock_.Now());
    reader_.links["K7QF2M9X"] = {"RIY-4K7Q", "en", "Asia/Riyadh"};
    site_ = std::make_unique<StatusSite>(reader_, nullptr, limiter_, clock_, metrics_, SiteOptions{});
    auto server = StatusHttpServer::Start({}, *site_, metrics_);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    client_ = std::make_unique<httplib::Client>("127.0.0.1", server_->port());
  }

  SystemClock clock_;
  testing::FakeStatusReader reader_;
  MissLimiter limiter_{clock_, {.burst = 3, .refill = absl::Seconds(60)}};
  MetricsRegistry metrics_;
  std::unique_ptr<StatusSite> site_;
  std::unique_ptr<StatusHttpServer> server_;
  std::unique_ptr<httplib::Client> client_;
};

TEST_F(StatusServerTest, ServesPagesInTheAcceptedLanguageWithASecurityPolicy) {
  auto res = client_->Get("/", {{"Accept-Language", "ar-SA,ar;q=0.9,en;q=0.5"}});
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_THAT(res->body, HasSubstr("<html lang=\"ar\" dir=\"rtl\">"));
  EXPECT_THAT(res->get_header_value("Content-Security-Policy"), HasSubstr("script-src 'self'"));
  EXPECT_EQ(res->get_header_value("Referrer-Policy"), "no-referrer");
  res = client_->Get("/i/riy-4k7q?lang=en&tz=Europe/London");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_THAT(res->body, HasSubstr("Times in Europe/London"));
  res = client_->Get("/refresh.js");
  ASSERT_TRUE(res);
  EXPECT_THAT(res->body, HasSubstr("location.reload()"));
  EXPECT_THAT(res->get_header_value("Content-Type"), HasSubstr("javascript"));
  res = client_->Get("/status.json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->get_header_value("Content-Type"), "application/json");
  res = client_->Get("/version?ref=RIY-4K7Q");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->body, "2");
}

TEST_F(StatusServerTest, MissesAre404ThenThrottledWithRetryAfter) {
  for (int i = 0; i < 3; ++i) {
    auto res = client_->Get("/n/ZZZZZZZ" + std::to_string(i) + "?lang=en");
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 404);
    EXPECT_THAT(res->body, HasSubstr("could not find"));
  }
  auto res = client_->Get("/n/K7QF2M9X");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 429);
  EXPECT_EQ(res->get_header_value("Retry-After"), "60");
  auto check = client_->Post("/check", "ref=RIY-4K7Q&code=X", "application/x-www-form-urlencoded");
  ASSERT_TRUE(check);
  EXPECT_EQ(check->status, 404);  // no message codes given: the check is off
  auto other = client_->Get("/nothing/here");
  ASSERT_TRUE(other);
  EXPECT_EQ(other->status, 404);
  EXPECT_THAT(other->body, HasSubstr("<html"));
  EXPECT_THAT(metrics_.Render(), HasSubstr("forewarn_status_throttled_total{route=\"link\"} 1"));
}

}  // namespace
}  // namespace forewarn
