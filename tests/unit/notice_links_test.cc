// NoticeLinks: the status link and the verification code of each notice,
// the link policy per kind, one token lookup per (incident, language, zone).
#include "services/core/notice_links.h"

#include <gtest/gtest.h>

#include <map>
#include <tuple>

#include "absl/strings/match.h"
#include "services/runtime/notice_link_flags.h"

namespace forewarn {
namespace {

constexpr char kIncident[] = "11111111-2222-3333-4444-555555555555";
const std::string kSecret(40, 's');

// Hands out T0, T1, ... per new combination, counting the calls.
class CountingStatusLinks final : public StatusLinks {
 public:
  absl::StatusOr<std::string> TokenFor(const std::string& incident_id, const std::string& language,
                                       const std::string& time_zone) override {
    ++calls;
    if (fail) return absl::UnavailableError("database down");
    auto [it, fresh] = tokens.try_emplace({incident_id, language, time_zone}, "");
    if (fresh) it->second = "TOKEN00" + std::to_string(tokens.size() - 1);
    return it->second;
  }
  std::map<std::tuple<std::string, std::string, std::string>, std::string> tokens;
  int calls = 0;
  bool fail = false;
};

NoticeJob Job(NoticeKind kind, const std::string& zone = "Asia/Riyadh", Channel channel = Channel::kSms) {
  NoticeJob job;
  job.incident_id = kIncident;
  job.version = 3;
  job.kind = kind;
  job.recipient.channel = channel;
  job.recipient.time_zone = zone;
  return job;
}

Incident TheIncident() {
  Incident i;
  i.id = kIncident;
  i.ref = "RIY-4K7Q";
  i.version = 3;
  return i;
}

NoticeLinkSettings Settings(std::string base = "https://status.example.com/") {
  auto codes = MessageCodes::FromSecret(kSecret);
  EXPECT_TRUE(codes.ok());
  auto settings = NoticeLinkSettings::Create(std::move(base), *codes);
  EXPECT_TRUE(settings.ok()) << settings.status();
  return *settings;
}

TEST(NoticeLinks, GivesEachNoticeItsLinkAndACodeTheStatusPageRecomputes) {
  CountingStatusLinks store;
  NoticeLinks links(Settings(), store);
  auto marks = links.For(Job(NoticeKind::kOutageStarted), TheIncident(), "ar");
  ASSERT_TRUE(marks.ok()) << marks.status();
  EXPECT_EQ(marks->status_url, "https://status.example.com/n/TOKEN000");
  ASSERT_EQ(marks->check_code.size(), 8u);
  auto codes = MessageCodes::FromSecret(kSecret);
  EXPECT_TRUE(codes->Matches(marks->check_code, {kIncident, 3, "outage_started"}));
  EXPECT_FALSE(codes->Matches(marks->check_code, {kIncident, 2, "outage_started"}));
  EXPECT_FALSE(codes->Matches(marks->check_code, {kIncident, 3, "outage_updated"}));
}

TEST(NoticeLinks, AsksTheStoreOncePerIncidentLanguageAndZone) {
  CountingStatusLinks store;
  NoticeLinks links(Settings(), store);
  for (int i = 0; i < 100; ++i) {
    ASSERT_TRUE(links.For(Job(NoticeKind::kOutageStarted), TheIncident(), "ar").ok());
    ASSERT_TRUE(links.For(Job(NoticeKind::kOutageStarted, "Asia/Riyadh", Channel::kEmail), TheIncident(), "ar").ok());
  }
  EXPECT_EQ(store.calls, 1);
  auto en = links.For(Job(NoticeKind::kOutageStarted), TheIncident(), "en");
  auto dubai = links.For(Job(NoticeKind::kOutageUpdated, "Asia/Dubai"), TheIncident(), "ar");
  EXPECT_EQ(store.calls, 3);
  EXPECT_NE(en->status_url, dubai->status_url);
}

TEST(NoticeLinks, IbanNoticesCarryTheCodeButNoLinkByDefault) {
  CountingStatusLinks store;
  NoticeLinks links(Settings(), store);
  for (NoticeKind kind : {NoticeKind::kIbanChangeHolder, NoticeKind::kIbanChangeBeneficiary}) {
    auto marks = links.For(Job(kind), TheIncident(), "en");
    ASSERT_TRUE(marks.ok());
    EXPECT_EQ(marks->status_url, "") << ToString(kind);
    EXPECT_EQ(marks->check_code.size(), 8u) << ToString(kind);
  }
  EXPECT_EQ(store.calls, 0);
  EXPECT_EQ(DefaultStatusLinkKinds().size(), AllNoticeKinds().size() - 2);
}

TEST(NoticeLinks, WithoutABaseUrlNoLinkAndWithoutASecretNoCode) {
  CountingStatusLinks store;
  auto settings = NoticeLinkSettings::Create("", std::nullopt);
  ASSERT_TRUE(settings.ok());
  NoticeLinks links(*settings, store);
  auto marks = links.For(Job(NoticeKind::kOutageStarted), TheIncident(), "en");
  ASSERT_TRUE(marks.ok());
  EXPECT_EQ(marks->status_url, "");
  EXPECT_EQ(marks->check_code, "");
  EXPECT_EQ(store.calls, 0);
}

TEST(NoticeLinks, PassesTheStoresErrorsOn) {
  CountingStatusLinks store;
  store.fail = true;
  NoticeLinks links(Settings(), store);
  auto marks = links.For(Job(NoticeKind::kOutageStarted), TheIncident(), "en");
  EXPECT_EQ(marks.status().code(), absl::StatusCode::kUnavailable);
  store.fail = false;
  EXPECT_TRUE(links.For(Job(NoticeKind::kOutageStarted), TheIncident(), "en").ok()) << "a failure is not cached";
}

TEST(NoticeLinks, LongestMarksHaveTheRealLengths) {
  const NoticeLinkSettings settings = Settings("https://status.example.com");
  const NoticeMarks longest = settings.Longest(NoticeKind::kOutageStarted);
  EXPECT_EQ(longest.status_url.size(), std::string("https://status.example.com/n/").size() + 8);
  EXPECT_EQ(longest.check_code.size(), 8u);
  EXPECT_EQ(settings.Longest(NoticeKind::kIbanChangeHolder).status_url, "");
}

TEST(NoticeLinkSettings, RefusesABaseUrlThatIsNotHttpsOffLoopback) {
  for (const char* good : {"https://status.example.com", "https://status.example.com/", "http://127.0.0.1:8080",
                           "http://localhost/status/", ""}) {
    EXPECT_TRUE(NoticeLinkSettings::Create(good, std::nullopt).ok()) << good;
  }
  for (const char* bad : {"http://status.example.com", "ftp://x", "https://", "https://x.example/?a=1",
                          "https://x.example/#f", "https://x .example"}) {
    EXPECT_EQ(NoticeLinkSettings::Create(bad, std::nullopt).status().code(), absl::StatusCode::kInvalidArgument)
        << bad;
  }
}

TEST(NoticeLinkFlags, NameTheFlagAtFault) {
  NoticeLinkFlags flags;
  auto missing = ToNoticeLinkSettings(flags, /*code_required=*/true);
  EXPECT_TRUE(absl::StrContains(missing.status().message(), "--message-code-secret-file")) << missing.status();
  EXPECT_TRUE(ToNoticeLinkSettings(flags, /*code_required=*/false).ok());
  flags.message_code_secret_file = "/nonexistent/secret";
  auto unreadable = ToNoticeLinkSettings(flags, false);
  EXPECT_TRUE(absl::StrContains(unreadable.status().message(), "--message-code-secret-file")) << unreadable.status();
  flags.message_code_secret_file.clear();
  flags.status_base_url = "http://status.example.com";
  auto url = ToNoticeLinkSettings(flags, false);
  EXPECT_TRUE(absl::StrContains(url.status().message(), "--status-base-url")) << url.status();
  flags.status_base_url = "https://status.example.com";
  flags.status_link_kinds = "outage_started,outage_exploded";
  auto kinds = ToNoticeLinkSettings(flags, false);
  EXPECT_TRUE(absl::StrContains(kinds.status().message(), "--status-link-kinds")) << kinds.status();
  flags.status_link_kinds = "none";
  auto none = ToNoticeLinkSettings(flags, false);
  ASSERT_TRUE(none.ok()) << none.status();
  EXPECT_TRUE(none->link_kinds.empty());
  flags.status_link_kinds = NoticeLinkFlags::DefaultStatusLinkKindsText();
  EXPECT_EQ(ToNoticeLinkSettings(flags, false)->link_kinds, DefaultStatusLinkKinds());
}

}  // namespace
}  // namespace forewarn
