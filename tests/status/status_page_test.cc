// forewarn-status's domain side with fakes: language and zone choice, the
// pages and feeds, the read-through cache, the miss limiter and the site's
// routes (misses, throttling, the message check).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>

#include "services/core/message_code.h"
#include "services/status_page/cached_status_reader.h"
#include "services/status_page/miss_limiter.h"
#include "services/status_page/status_feeds.h"
#include "services/status_page/status_pages.h"
#include "services/status_page/status_site.h"
#include "services/status_page/viewer.h"
#include "tests/status/fake_status_reader.h"

namespace forewarn {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

const absl::Time kNow = absl::FromUnixSeconds(1750766400);  // 2025-06-24 12:00 UTC

TEST(ChooseLanguageTest, QueryThenAcceptLanguageThenFallback) {
  EXPECT_EQ(ChooseLanguage("en", "ar-SA", "ar"), "en");
  EXPECT_EQ(ChooseLanguage("fr", "ar-SA,en;q=0.5", "en"), "ar");
  EXPECT_EQ(ChooseLanguage("", "fr, en;q=0.4, ar;q=0.8", "en"), "ar");
  EXPECT_EQ(ChooseLanguage("", "en-GB,en;q=0.9", "ar"), "en");
  EXPECT_EQ(ChooseLanguage("", "de, fr", "ar"), "ar");
  EXPECT_EQ(ChooseLanguage("", "", "en"), "en");
}

TEST(ViewerTest, FormatsInTheViewersZoneAndLanguage) {
  Viewer en{.language = "en", .zone_name = "Asia/Riyadh", .zone = *LoadViewerZone("Asia/Riyadh", "tz")};
  EXPECT_EQ(FormatLocal(kNow, en), "24 June 2025, 15:00");
  Viewer ar = en;
  ar.language = "ar";
  EXPECT_EQ(FormatLocal(kNow, ar), "24 يونيو 2025، 15:00");
  EXPECT_EQ(FormatUtc(kNow), "2025-06-24T12:00:00Z");
  absl::StatusOr<absl::TimeZone> bad = LoadViewerZone("Mars/Olympus", "tz");
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(bad.status().message(), HasSubstr("tz: 'Mars/Olympus'"));
}

PageContext Context(const std::string& language) {
  PageContext ctx;
  ctx.viewer = {.language = language, .zone_name = "Asia/Riyadh", .zone = *LoadViewerZone("Asia/Riyadh", "tz")};
  ctx.now = kNow;
  ctx.path = "/";
  return ctx;
}

TEST(StatusPagesTest, OverviewListsBySectionInTheViewersLanguage) {
  testing::FakeStatusReader reader;
  testing::AddSampleIncidents(reader, kNow);
  const auto current = *reader.Current(kNow - absl::Hours(24));
  const std::string en = OverviewPage(current, Context("en"), absl::Hours(48), {"/version", "42"});
  EXPECT_THAT(en, HasSubstr("<html lang=\"en\" dir=\"ltr\">"));
  EXPECT_THAT(en, HasSubstr("data-version-url=\"/version\" data-version=\"42\""));
  EXPECT_THAT(en, HasSubstr("<noscript><meta http-equiv=\"refresh\" content=\"30\"></noscript>"));
  EXPECT_THAT(en, HasSubstr("Electricity — Riyadh, Malaz substation"));
  EXPECT_THAT(en, HasSubstr("Transformer fault &lt;b&gt;"));  // escaped
  EXPECT_THAT(en, HasSubstr("Expected restoration: <time datetime=\"2025-06-24T15:00:00Z\">24 June 2025, 18:00"));
  EXPECT_LT(en.find("id=\"outages\""), en.find("RIY-4K7Q"));
  EXPECT_LT(en.find("id=\"maintenance\""), en.find("JED-7M2P"));
  EXPECT_THAT(en, HasSubstr("href=\"/?lang=ar\""));  // the switch
  EXPECT_THAT(en, HasSubstr("<h2>Restored in the last 48 hours</h2>"));  // --restored-hours
  const std::string ar = OverviewPage(current, Context("ar"), absl::Hours(24), {"/version", "42"});
  EXPECT_THAT(ar, HasSubstr("<html lang=\"ar\" dir=\"rtl\">"));
  EXPECT_THAT(ar, HasSubstr("الكهرباء — الرياض، محطة الملز"));
  EXPECT_THAT(ar, HasSubstr("مجدولة"));  // maintenance in two days
  EXPECT_THAT(ar, HasSubstr("<h2>عادت خلال آخر 24 ساعة</h2>"));
}

TEST(StatusPagesTest, IncidentPageShowsFactsAndTimeline) {
  testing::FakeStatusReader reader;
  testing::AddSampleIncidents(reader, kNow);
  PageContext ctx = Context("en");
  ctx.path = "/i/RIY-4K7Q";
  ctx.tz_param = "Europe/London";
  const std::string html = IncidentPage(reader.timelines["RIY-4K7Q"], ctx, {"/version?ref=RIY-4K7Q", "2"});
  EXPECT_THAT(html, HasSubstr("<dt>Reference</dt><dd>RIY-4K7Q</dd>"));
  EXPECT_THAT(html, HasSubstr("<dt>State</dt><dd>Ongoing</dd>"));
  EXPECT_THAT(html, HasSubstr("Outage reported; service expected back 24 June 2025, 17:00"));
  EXPECT_THAT(html, HasSubstr("Expected restoration moved from 24 June 2025, 17:00 to 24 June 2025, 18:00"));
  EXPECT_THAT(html, HasSubstr("href=\"/i/RIY-4K7Q?lang=ar&amp;tz=Europe%2FLondon\""));
  EXPECT_THAT(html, Not(HasSubstr("0190a1b2")));  // the UUID is never shown
}

TEST(StatusFeedsTest, AtomAndJsonCarryTheOverview) {
  testing::FakeStatusReader reader;
  testing::AddSampleIncidents(reader, kNow);
  const auto current = *reader.Current(kNow - absl::Hours(24));
  const std::string atom = AtomFeed(current, Context("en").viewer, "https://status.example", kNow);
  EXPECT_THAT(atom, HasSubstr("<feed xmlns=\"http://www.w3.org/2005/Atom\" xml:lang=\"en\">"));
  EXPECT_THAT(atom, HasSubstr("<id>https://status.example/i/RIY-4K7Q</id>"));
  EXPECT_THAT(atom, HasSubstr("Transformer fault &lt;b&gt;"));
  const std::string json = StatusJson(current, "https://status.example", kNow);
  EXPECT_THAT(json, HasSubstr("\"ref\":\"JED-7M2P\""));
  EXPECT_THAT(json, HasSubstr("\"expected_restoration_at\":\"2025-06-24T15:00:00Z\""));
}

TEST(TtlCacheTest, ReadsOncePerTtlAndKeepsNotFound) {
  FakeClock clock(kNow);
  testing::FakeStatusReader inner;
  testing::AddSampleIncidents(inner, kNow);
  CachedStatusReader cached(inner, clock, absl::Seconds(1));
  for (int i = 0; i < 100; ++i) ASSERT_TRUE(cached.Timeline("RIY-4K7Q").ok());
  for (int i = 0; i < 100; ++i) ASSERT_TRUE(absl::IsNotFound(cached.Timeline("XXX-0000").status()));
  for (int i = 0; i < 100; ++i) ASSERT_TRUE(cached.Current(kNow).ok());
  EXPECT_EQ(inner.reads, 3);
  clock.Advance(absl::Milliseconds(1001));
  ASSERT_TRUE(cached.Timeline("RIY-4K7Q").ok());
  EXPECT_EQ(inner.reads, 4);
  inner.status = absl::UnavailableError("db down");  // errors are not kept
  clock.Advance(absl::Seconds(2));
  EXPECT_FALSE(cached.Current(kNow).ok());
  inner.status = absl::OkStatus();
  EXPECT_TRUE(cached.Current(kNow).ok());
}

TEST(MissLimiterTest, BlocksAfterTheBurstAndRefills) {
  FakeClock clock(kNow);
  MissLimiter limiter(clock, {.burst = 3, .refill = absl::Seconds(10)});
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(limiter.Blocked("10.0.0.1"), absl::ZeroDuration());
    limiter.Miss("10.0.0.1");
  }
  EXPECT_EQ(limiter.Blocked("10.0.0.1"), absl::Seconds(10));
  EXPECT_EQ(limiter.Blocked("10.0.0.2"), absl::ZeroDuration());  // per client
  clock.Advance(absl::Seconds(4));
  EXPECT_EQ(limiter.Blocked("10.0.0.1"), absl::Seconds(6));
  clock.Advance(absl::Seconds(6));
  EXPECT_EQ(limiter.Blocked("10.0.0.1"), absl::ZeroDuration());
}

TEST(MissLimiterTest, ForgetsFullBucketsFirstWhenFull) {
  FakeClock clock(kNow);
  MissLimiter limiter(clock, {.burst = 2, .refill = absl::Seconds(1), .max_clients = 2});
  limiter.Miss("a");
  limiter.Miss("a");
  limiter.Miss("b");
  clock.Advance(absl::Seconds(5));  // b refilled; a too, but a misses again
  limiter.Miss("a");
  limiter.Miss("a");
  limiter.Miss("c");  // over the limit: b (full) goes
  EXPECT_EQ(limiter.clients(), 2u);
  EXPECT_GT(limiter.Blocked("a"), absl::ZeroDuration());
}

class StatusSiteTest : public ::testing::Test {
 protected:
  StatusSiteTest() {
    testing::AddSampleIncidents(reader_, kNow);
    reader_.links["K7QF2M9X"] = {"RIY-4K7Q", "ar", "Europe/London"};
    codes_path_ = ::testing::TempDir() + "/message-codes";
    std::ofstream(codes_path_) << "1 0123456789abcdef0123456789abcdef\n";
    codes_ = std::make_unique<MessageCodes>(*MessageCodes::FromFile(codes_path_));
    site_ = std::make_unique<StatusSite>(reader_, codes_.get(), limiter_, clock_, metrics_, SiteOptions{});
  }
  SiteRequest Req(const std::string& lang = "en") {
    return {.client = "192.0.2.7", .lang = lang, .accept_language = "", .tz = "", .base_url = "http://s"};
  }

  FakeClock clock_{kNow};
  testing::FakeStatusReader reader_;
  MissLimiter limiter_{clock_, {.burst = 10, .refill = absl::Seconds(10)}};
  MetricsRegistry metrics_;
  std::string codes_path_;
  std::unique_ptr<MessageCodes> codes_;
  std::unique_ptr<StatusSite> site_;
};

TEST_F(StatusSiteTest, LinkOpensTheIncidentInTheLinksLanguageAndZone) {
  SiteResponse res = site_->Link(Req(""), "k7qf2m9x");
  ASSERT_EQ(res.status, 200);
  EXPECT_THAT(res.body, HasSubstr("<html lang=\"ar\" dir=\"rtl\">"));
  EXPECT_THAT(res.body, HasSubstr("الأوقات بتوقيت Europe/London"));
  EXPECT_THAT(res.body, HasSubstr("href=\"/n/K7QF2M9X?lang=en\""));
  EXPECT_EQ(site_->Link(Req("en"), "K7QF2M9X").status, 200);
}

TEST_F(StatusSiteTest, GuessedTokensAre404ThenThrottled) {
  for (int i = 0; i < 10; ++i) ASSERT_EQ(site_->Link(Req(), absl::StrCat("AAAAAA", 10 + i)).status, 404) << i;
  SiteResponse res = site_->Link(Req(), "K7QF2M9X");  // even a real one now
  EXPECT_EQ(res.status, 429);
  EXPECT_EQ(res.retry_after_seconds, 10);
  EXPECT_EQ(site_->Incident(Req(), "RIY-4K7Q").status, 429);
  EXPECT_EQ(site_->Overview(Req()).status, 200);  // the overview cannot miss
  clock_.Advance(absl::Seconds(10));
  EXPECT_EQ(site_->Link(Req(), "K7QF2M9X").status, 200);
  EXPECT_EQ(metrics_.counter("forewarn_status_misses_total", "", {{"route", "link"}}).value(), 10);
}

TEST_F(StatusSiteTest, IbanChangesAreNeverShown) {
  IncidentTimeline iban = reader_.timelines["RIY-4K7Q"];
  iban.incident.kind = IncidentKind::kIbanChange;
  iban.incident.ref = "BNK-2X9R";
  reader_.timelines["BNK-2X9R"] = iban;
  EXPECT_EQ(site_->Incident(Req(), "BNK-2X9R").status, 404);
  EXPECT_EQ(site_->Version(Req(), "BNK-2X9R").status, 404);
}

TEST_F(StatusSiteTest, CheckConfirmsARealCodeAndRejectsOthersAlike) {
  const std::string code = codes_->Code({"0190a1b2-0000-7000-8000-000000000001", 2, "outage_updated"});
  SiteResponse ok = site_->Check(Req(), "riy-4k7q", code);
  ASSERT_EQ(ok.status, 200);
  EXPECT_THAT(ok.body, HasSubstr("Genuine: this is the outage update notice of RIY-4K7Q, update 2."));
  SiteResponse wrong = site_->Check(Req(), "RIY-4K7Q", "ZZZZZZ");
  SiteResponse unknown = site_->Check(Req(), "ABC-1234", code);
  EXPECT_THAT(wrong.body, HasSubstr("Not confirmed"));
  EXPECT_EQ(wrong.body, unknown.body);  // nothing tells a known reference from an unknown one
  // A maintenance code does not match the outage (kinds of its category only).
  EXPECT_THAT(site_->Check(Req(), "RIY-4K7Q",
                           codes_->Code({"0190a1b2-0000-7000-8000-000000000001", 1, "maintenance_started"}))
                  .body,
              HasSubstr("Not confirmed"));
}

TEST_F(StatusSiteTest, VersionFollowsTheIncidentAndBadZonesAre400) {
  EXPECT_EQ(site_->Version(Req(), "RIY-4K7Q").body, "2");
  const std::string before = site_->Version(Req(), "").body;
  reader_.timelines["JED-7M2P"].incident.version = 2;
  EXPECT_NE(site_->Version(Req(), "").body, before);
  SiteRequest bad = Req();
  bad.tz = "Nowhere/Else";
  SiteResponse res = site_->Overview(bad);
  EXPECT_EQ(res.status, 400);
  EXPECT_THAT(res.body, HasSubstr("tz: &#39;Nowhere/Else&#39; is not an IANA time zone"));
}

TEST_F(StatusSiteTest, UnavailableDatabaseIs503) {
  reader_.status = absl::UnavailableError("connection refused");
  EXPECT_EQ(site_->Overview(Req()).status, 503);
  EXPECT_EQ(site_->Incident(Req(), "RIY-4K7Q").status, 503);
}

}  // namespace
}  // namespace forewarn
