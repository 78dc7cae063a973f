#include "notifier/render/template_renderer.h"

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"

#ifndef FOREWARN_TEMPLATES_DIR
#error "FOREWARN_TEMPLATES_DIR must point at the repository's templates/ folder"
#endif

namespace forewarn {
namespace {

namespace fs = std::filesystem;

absl::Time At(const char* rfc3339) {
  absl::Time t;
  std::string err;
  EXPECT_TRUE(absl::ParseTime(absl::RFC3339_full, rfc3339, &t, &err)) << err;
  return t;
}

// 12:00Z start, 15:30Z expected, resolved 15:10Z.
// Asia/Riyadh (UTC+3, no DST): 15:00, 18:30, 18:10.
// America/New_York (EST, UTC-5 in January): 07:00, 10:30, 10:10.
Incident MakeIncident() {
  Incident i;
  i.id = "0b9f3c2e-5d1a-4c7e-9f00-123456789abc";
  i.version = 3;
  i.services = {"ELEC", "WATER"};
  i.regions = {"RUH-N"};
  i.reason = {"عطل في محطة التحويل الرئيسية", "a fault at the main substation"};
  i.starts_at = At("2026-01-10T12:00:00Z");
  i.expected_restoration_at = At("2026-01-10T15:30:00Z");
  i.resolved_at = At("2026-01-10T15:10:00Z");
  return i;
}

NoticeJob MakeJob(NoticeKind kind, Channel channel, std::string locale, std::string tz) {
  NoticeJob job;
  job.incident_id = "0b9f3c2e-5d1a-4c7e-9f00-123456789abc";
  job.version = 3;
  job.kind = kind;
  job.recipient.customer_id = 42;
  job.recipient.channel = channel;
  job.recipient.address = channel == Channel::kSms ? "+966500000001" : "a@example.com";
  job.recipient.locale = std::move(locale);
  job.recipient.time_zone = std::move(tz);
  job.recipient.name = "Sara";
  return job;
}

std::unique_ptr<TemplateRenderer> LoadRepoTemplates() {
  auto r = TemplateRenderer::Load(FOREWARN_TEMPLATES_DIR);
  EXPECT_TRUE(r.ok()) << r.status();
  return r.ok() ? std::move(*r) : nullptr;
}

// A writable copy of the repository's templates, to break on purpose.
fs::path CopyTemplates(const std::string& name) {
  const fs::path dir = fs::path(::testing::TempDir()) / ("forewarn_render_" + name);
  fs::remove_all(dir);
  fs::copy(FOREWARN_TEMPLATES_DIR, dir, fs::copy_options::recursive);
  return dir;
}

void WriteFile(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
}

::testing::AssertionResult Contains(absl::string_view haystack, absl::string_view needle) {
  if (absl::StrContains(haystack, needle)) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "\"" << needle << "\" not found in:\n" << haystack;
}

// Code points (UTF-16 units for the BMP text used here).
size_t CodePoints(const std::string& s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

constexpr NoticeKind kAllKinds[] = {NoticeKind::kOutageStarted, NoticeKind::kOutageUpdated,
                                    NoticeKind::kOutageRestored};

TEST(TemplateRenderer, RendersEveryKindInArabicAndEnglishOnBothChannels) {
  auto renderer = LoadRepoTemplates();
  ASSERT_NE(renderer, nullptr);
  const Incident incident = MakeIncident();
  for (NoticeKind kind : kAllKinds) {
    for (Channel channel : {Channel::kSms, Channel::kEmail}) {
      for (const char* locale : {"ar", "en"}) {
        SCOPED_TRACE(std::string(ToString(kind)) + " " + std::string(ToString(channel)) + " " + locale);
        const NoticeJob job = MakeJob(kind, channel, locale, "Asia/Riyadh");
        auto notice = renderer->Render(job, incident);
        ASSERT_TRUE(notice.ok()) << notice.status();
        EXPECT_EQ(notice->message_id, MessageIdFor(KeyOf(job)));
        const std::string& reason = std::string(locale) == "ar" ? incident.reason.ar : incident.reason.en;
        EXPECT_TRUE(Contains(notice->text, reason));
        EXPECT_TRUE(Contains(notice->text, "ELEC"));
        EXPECT_TRUE(Contains(notice->text, "RUH-N"));
        EXPECT_TRUE(Contains(notice->text, "15:00"));  // start, Riyadh time
        if (kind == NoticeKind::kOutageRestored) {
          EXPECT_TRUE(Contains(notice->text, "18:10"));  // resolved
        } else {
          EXPECT_TRUE(Contains(notice->text, "18:30"));  // expected restoration
        }
        EXPECT_FALSE(absl::StrContains(notice->text, "{{"));
        if (channel == Channel::kSms) {
          EXPECT_TRUE(notice->subject.empty());
          EXPECT_TRUE(notice->html.empty());
        } else {
          EXPECT_FALSE(notice->subject.empty());
          EXPECT_FALSE(absl::StrContains(notice->subject, "\n"));
          EXPECT_TRUE(Contains(notice->html, reason));
          EXPECT_TRUE(Contains(notice->html, kind == NoticeKind::kOutageRestored ? "18:10" : "18:30"));
          EXPECT_TRUE(Contains(notice->text, "Sara"));
        }
      }
    }
  }
}

TEST(TemplateRenderer, FormatsTimesInTheCustomersZoneAndLocale) {
  auto renderer = LoadRepoTemplates();
  ASSERT_NE(renderer, nullptr);
  const Incident incident = MakeIncident();

  auto en = renderer->Render(MakeJob(NoticeKind::kOutageStarted, Channel::kEmail, "en", "America/New_York"), incident);
  ASSERT_TRUE(en.ok()) << en.status();
  EXPECT_TRUE(Contains(en->text, "Saturday, January 10, 2026 at 10:30 Eastern Standard Time"));
  EXPECT_TRUE(Contains(en->text, "07:00"));
  EXPECT_FALSE(absl::StrContains(en->text, "18:30"));

  auto en_sms = renderer->Render(MakeJob(NoticeKind::kOutageStarted, Channel::kSms, "en", "America/New_York"), incident);
  ASSERT_TRUE(en_sms.ok()) << en_sms.status();
  EXPECT_TRUE(Contains(en_sms->text, "Jan 10, 10:30 EST"));

  auto ar = renderer->Render(MakeJob(NoticeKind::kOutageStarted, Channel::kEmail, "ar", "Asia/Riyadh"), incident);
  ASSERT_TRUE(ar.ok()) << ar.status();
  EXPECT_TRUE(Contains(ar->text, "يناير"));  // Arabic month name, Gregorian calendar
  EXPECT_TRUE(Contains(ar->text, "السبت"));  // Arabic day name
  EXPECT_TRUE(Contains(ar->text, "2026"));   // Latin digits, Gregorian year
  EXPECT_TRUE(Contains(ar->html, "dir=\"rtl\""));
  EXPECT_TRUE(Contains(ar->html, "lang=\"ar\""));
  EXPECT_TRUE(Contains(en->html, "lang=\"en\""));

  // A region subtag is accepted.
  auto ar_sa = renderer->Render(MakeJob(NoticeKind::kOutageStarted, Channel::kSms, "ar-SA", "Asia/Riyadh"), incident);
  ASSERT_TRUE(ar_sa.ok()) << ar_sa.status();
  EXPECT_TRUE(Contains(ar_sa->text, "يناير"));
}

TEST(TemplateRenderer, UpdateSaysTheEstimateChangedAndRestoredSaysServiceIsBack) {
  auto renderer = LoadRepoTemplates();
  ASSERT_NE(renderer, nullptr);
  const Incident incident = MakeIncident();
  auto render = [&](NoticeKind kind, Channel channel, const char* locale) {
    auto n = renderer->Render(MakeJob(kind, channel, locale, "Asia/Riyadh"), incident);
    EXPECT_TRUE(n.ok()) << n.status();
    return n.ok() ? n->text : "";
  };
  EXPECT_TRUE(Contains(render(NoticeKind::kOutageUpdated, Channel::kSms, "en"), "has changed"));
  EXPECT_TRUE(Contains(render(NoticeKind::kOutageUpdated, Channel::kEmail, "en"), "has changed"));
  EXPECT_TRUE(Contains(render(NoticeKind::kOutageUpdated, Channel::kSms, "ar"), "تغيّر"));
  EXPECT_TRUE(Contains(render(NoticeKind::kOutageUpdated, Channel::kEmail, "ar"), "تغيّر"));
  EXPECT_TRUE(Contains(render(NoticeKind::kOutageRestored, Channel::kSms, "en"), "Service is back"));
  EXPECT_TRUE(Contains(render(NoticeKind::kOutageRestored, Channel::kEmail, "en"), "back to normal"));
  EXPECT_TRUE(Contains(render(NoticeKind::kOutageRestored, Channel::kSms, "ar"), "عادت خدمة"));
  EXPECT_TRUE(Contains(render(NoticeKind::kOutageRestored, Channel::kEmail, "ar"), "بعودة خدمة"));
}

TEST(TemplateRenderer, EscapesHtmlOnlyInTheHtmlBody) {
  auto renderer = LoadRepoTemplates();
  ASSERT_NE(renderer, nullptr);
  Incident incident = MakeIncident();
  incident.reason.en = "<script>alert('x')</script> & more";

  auto sms = renderer->Render(MakeJob(NoticeKind::kOutageStarted, Channel::kSms, "en", "UTC"), incident);
  ASSERT_TRUE(sms.ok()) << sms.status();
  EXPECT_TRUE(Contains(sms->text, "<script>alert('x')</script> & more"));

  auto email = renderer->Render(MakeJob(NoticeKind::kOutageStarted, Channel::kEmail, "en", "UTC"), incident);
  ASSERT_TRUE(email.ok()) << email.status();
  EXPECT_TRUE(Contains(email->text, "<script>alert('x')</script> & more"));
  EXPECT_TRUE(Contains(email->html, "&lt;script&gt;alert(&apos;x&apos;)&lt;/script&gt; &amp; more"));
  EXPECT_FALSE(absl::StrContains(email->html, "<script>"));
}

TEST(TemplateRenderer, UsesTheGenericGreetingWithoutAName) {
  auto renderer = LoadRepoTemplates();
  ASSERT_NE(renderer, nullptr);
  NoticeJob job = MakeJob(NoticeKind::kOutageStarted, Channel::kEmail, "en", "UTC");
  job.recipient.name.clear();
  auto n = renderer->Render(job, MakeIncident());
  ASSERT_TRUE(n.ok()) << n.status();
  EXPECT_TRUE(absl::StartsWith(n->text, "Dear customer,")) << n->text;
}

TEST(TemplateRenderer, KeepsSmsWithinTheSegmentBudget) {
  auto renderer = LoadRepoTemplates();
  ASSERT_NE(renderer, nullptr);
  const Incident incident = MakeIncident();
  for (NoticeKind kind : kAllKinds) {
    auto en = renderer->Render(MakeJob(kind, Channel::kSms, "en", "Asia/Riyadh"), incident);
    auto ar = renderer->Render(MakeJob(kind, Channel::kSms, "ar", "Asia/Riyadh"), incident);
    ASSERT_TRUE(en.ok() && ar.ok());
    std::cout << "[ sms      ] " << ToString(kind) << " en=" << CodePoints(en->text)
              << " ar=" << CodePoints(ar->text) << " chars\n";
    EXPECT_LE(CodePoints(en->text), 306u) << en->text;  // 2 GSM-7 parts
    // Plain ASCII without GSM-7 extension characters, so it stays GSM-7.
    for (char c : en->text) {
      EXPECT_TRUE(c >= ' ' && c <= '~' && std::string_view("[]{}^~\\|").find(c) == std::string_view::npos)
          << "not GSM-7 basic: " << c << " in " << en->text;
    }
    EXPECT_LE(CodePoints(ar->text), 201u) << ar->text;  // 3 UCS-2 parts
  }
}

TEST(TemplateRenderer, FailsRenderForAnUnknownTimeZoneOrLocale) {
  auto renderer = LoadRepoTemplates();
  ASSERT_NE(renderer, nullptr);
  const Incident incident = MakeIncident();
  auto bad_tz = renderer->Render(MakeJob(NoticeKind::kOutageStarted, Channel::kSms, "en", "Mars/Olympus_Mons"), incident);
  EXPECT_EQ(bad_tz.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(Contains(std::string(bad_tz.status().message()), "Mars/Olympus_Mons"));
  auto empty_tz = renderer->Render(MakeJob(NoticeKind::kOutageStarted, Channel::kSms, "en", ""), incident);
  EXPECT_EQ(empty_tz.status().code(), absl::StatusCode::kInvalidArgument);
  auto bad_locale = renderer->Render(MakeJob(NoticeKind::kOutageStarted, Channel::kSms, "fr", "UTC"), incident);
  EXPECT_EQ(bad_locale.status().code(), absl::StatusCode::kInvalidArgument);
  // The renderer stays usable.
  EXPECT_TRUE(renderer->Render(MakeJob(NoticeKind::kOutageStarted, Channel::kSms, "en", "UTC"), incident).ok());
}

TEST(TemplateRenderer, FailsRestoredNoticeWithoutResolvedTime) {
  auto renderer = LoadRepoTemplates();
  ASSERT_NE(renderer, nullptr);
  Incident incident = MakeIncident();
  incident.resolved_at.reset();
  auto n = renderer->Render(MakeJob(NoticeKind::kOutageRestored, Channel::kSms, "en", "UTC"), incident);
  EXPECT_EQ(n.status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST(TemplateRenderer, LoadFailsNamingAMissingTemplate) {
  const fs::path dir = CopyTemplates("missing");
  fs::remove(dir / "outage_updated" / "email.ar.html.mustache");
  auto r = TemplateRenderer::Load(dir.string());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(Contains(std::string(r.status().message()), "outage_updated/email.ar.html.mustache"));
}

TEST(TemplateRenderer, LoadFailsOnAnUnknownVariable) {
  const fs::path dir = CopyTemplates("unknown_var");
  WriteFile(dir / "outage_started" / "sms.en.mustache", "Outage: {{reason}}. Call {{support_phone}}.\n");
  auto r = TemplateRenderer::Load(dir.string());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(Contains(std::string(r.status().message()), "support_phone"));
  EXPECT_TRUE(Contains(std::string(r.status().message()), "outage_started/sms.en.mustache"));
}

TEST(TemplateRenderer, LoadFailsOnUnknownSectionsUnescapedHtmlPartialsAndParseErrors) {
  const std::pair<const char*, const char*> cases[] = {
      {"sms.en.mustache", "{{#vip}}Hello{{/vip}} {{reason}}"},
      {"sms.en.mustache", "{{{ reason }}} {{& customer }}"},
      {"email.en.html.mustache", "<p>{{{reason}}}</p>"},
      {"email.en.html.mustache", "<p>{{&reason}}</p>"},
      {"email.en.txt.mustache", "{{> footer}}"},
      {"email.en.txt.mustache", "{{=<% %>=}}<% reason %>"},
      {"email.en.subject.mustache", "{{#reason}}unclosed"},
      {"email.en.subject.mustache", "{{reason"},
      {"email.en.subject.mustache", ""},
      {"sms.ar.mustache", " \n"},
  };
  for (const auto& [file, text] : cases) {
    SCOPED_TRACE(text);
    const fs::path dir = CopyTemplates("bad");
    WriteFile(dir / "outage_restored" / file, text);
    auto r = TemplateRenderer::Load(dir.string());
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition);
    EXPECT_TRUE(Contains(std::string(r.status().message()), std::string("outage_restored/") + file));
  }
  // Comments and sections over known names are fine.
  const fs::path dir = CopyTemplates("good");
  WriteFile(dir / "outage_restored" / "sms.en.mustache", "{{! note }}{{#name}}{{name}}: {{/name}}{{{reason}}}");
  EXPECT_TRUE(TemplateRenderer::Load(dir.string()).ok());
}

TEST(TemplateRenderer, IsSafeToShareBetweenThreads) {
  auto renderer = LoadRepoTemplates();
  ASSERT_NE(renderer, nullptr);
  const Incident incident = MakeIncident();
  const char* zones[] = {"Asia/Riyadh", "America/New_York", "Europe/London", "Asia/Dubai", "UTC"};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 200; ++i) {
        const NoticeJob job = MakeJob(kAllKinds[i % 3], i % 2 ? Channel::kSms : Channel::kEmail,
                                      (i + t) % 2 ? "ar" : "en", zones[(i + t) % 5]);
        auto n = renderer->Render(job, incident);
        ASSERT_TRUE(n.ok()) << n.status();
        ASSERT_TRUE(Contains(n->text, "15:00") || Contains(n->text, "07:00") || Contains(n->text, "12:00") ||
                    Contains(n->text, "16:00"));
      }
    });
  }
  for (auto& t : threads) t.join();
}

TEST(TemplateRenderer, ShowsServiceAndRegionNamesInTheCustomersLanguage) {
  auto renderer = LoadRepoTemplates();
  ASSERT_NE(renderer, nullptr);
  Incident incident = MakeIncident();
  incident.service_names.assign(incident.services.size(), LocalizedText{"الكهرباء", "Electricity"});
  incident.region_names.assign(incident.regions.size(), LocalizedText{"الرياض", "Riyadh"});
  auto ar = renderer->Render(MakeJob(NoticeKind::kOutageStarted, Channel::kSms, "ar", "Asia/Riyadh"), incident);
  auto en = renderer->Render(MakeJob(NoticeKind::kOutageStarted, Channel::kSms, "en", "Asia/Riyadh"), incident);
  ASSERT_TRUE(ar.ok() && en.ok());
  EXPECT_NE(ar->text.find("الكهرباء"), std::string::npos) << ar->text;
  EXPECT_NE(ar->text.find("الرياض"), std::string::npos) << ar->text;
  EXPECT_NE(en->text.find("Electricity"), std::string::npos) << en->text;
  EXPECT_EQ(en->text.find("الكهرباء"), std::string::npos) << en->text;
}

}  // namespace
}  // namespace forewarn
