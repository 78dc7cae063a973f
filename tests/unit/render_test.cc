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
#include "services/core/mask.h"
#include "services/core/message_code.h"
#include "services/core/notice_links.h"
#include "services/preview/sms_budget_check.h"

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

// "Now" for the renderer: the incidents below happen this day.
const Clock& TestClock() {
  static const FakeClock clock(At("2026-01-10T12:05:00Z"));
  return clock;
}

// 12:00Z start, 15:30Z expected, resolved 15:10Z.
// Asia/Riyadh (UTC+3, no DST): 15:00, 18:30, 18:10.
// America/New_York (EST, UTC-5 in January): 07:00, 10:30, 10:10.
Incident MakeIncident() {
  Incident i;
  i.id = "0b9f3c2e-5d1a-4c7e-9f00-123456789abc";
  i.ref = "RUH-4K7Q";
  i.version = 3;
  i.services = {"ELEC", "WATER"};
  i.regions = {"RUH-N"};
  i.reason = {"عطل في محطة التحويل الرئيسية", "a fault at the main substation"};
  i.starts_at = At("2026-01-10T12:00:00Z");
  i.expected_restoration_at = At("2026-01-10T15:30:00Z");
  i.resolved_at = At("2026-01-10T15:10:00Z");
  return i;
}

// Notice marks that are always `marks`.
NoticeMarkFn FixedMarks(NoticeMarks marks) {
  return [marks](const NoticeJob&, const Incident&, const std::string&) { return absl::StatusOr<NoticeMarks>(marks); };
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
  auto r = TemplateRenderer::Load(FOREWARN_TEMPLATES_DIR, TestClock());
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

// An SMS pair within budget: English in 2 GSM-7 parts of plain ASCII without
// GSM-7 extension characters (so it stays GSM-7), Arabic within `ar_max` code
// points. Prints the lengths after `label`.
void ExpectSmsWithinBudget(const char* label, NoticeKind kind, const std::string& en, const std::string& ar,
                           size_t ar_max) {
  SCOPED_TRACE(label + ToString(kind));
  std::cout << label << ToString(kind) << " en=" << CodePoints(en) << " ar=" << CodePoints(ar) << " chars\n";
  EXPECT_LE(CodePoints(en), 306u) << en;  // 2 GSM-7 parts
  for (char c : en) {
    EXPECT_TRUE(c >= ' ' && c <= '~' && std::string_view("[]{}^~\\|").find(c) == std::string_view::npos)
        << "not GSM-7 basic: " << c << " in " << en;
  }
  EXPECT_LE(CodePoints(ar), ar_max) << ar;
}

constexpr NoticeKind kOutageKinds[] = {NoticeKind::kOutageStarted, NoticeKind::kOutageUpdated,
                                       NoticeKind::kOutageRestored};

// Every notice kind, outages, maintenance and IBAN changes.
constexpr NoticeKind kEveryKind[] = {
    NoticeKind::kOutageStarted,          NoticeKind::kOutageUpdated,          NoticeKind::kOutageRestored,
    NoticeKind::kOutageOverdue,          NoticeKind::kMaintenanceScheduled,   NoticeKind::kMaintenanceReminder,
    NoticeKind::kMaintenanceStarted,     NoticeKind::kMaintenanceCompleted,   NoticeKind::kMaintenanceRescheduled,
    NoticeKind::kMaintenanceCancelled,   NoticeKind::kIbanChangeHolder,       NoticeKind::kIbanChangeBeneficiary,
};

constexpr const char* kOldIban = "SA0380000000608010167519";
constexpr const char* kOldIbanGrouped = "SA03 8000 0000 6080 1016 7519";
constexpr const char* kNewIban = "SA4420000001234567891234";
constexpr const char* kNewIbanGrouped = "SA44 2000 0001 2345 6789 1234";

bool IsMaintenance(NoticeKind kind) {
  switch (kind) {
    case NoticeKind::kMaintenanceScheduled:
    case NoticeKind::kMaintenanceReminder:
    case NoticeKind::kMaintenanceStarted:
    case NoticeKind::kMaintenanceCompleted:
    case NoticeKind::kMaintenanceRescheduled:
    case NoticeKind::kMaintenanceCancelled:
      return true;
    default:
      return false;
  }
}

bool IsIban(NoticeKind kind) {
  return kind == NoticeKind::kIbanChangeHolder || kind == NoticeKind::kIbanChangeBeneficiary;
}

// The incident a notice of `kind` describes: MakeIncident() as an outage; a
// maintenance planned 15:00-18:30 Riyadh (completed 18:10); an IBAN change
// effective 15:00 Riyadh.
Incident MakeIncidentFor(NoticeKind kind) {
  Incident i = MakeIncident();
  if (IsMaintenance(kind)) {
    i.kind = IncidentKind::kPlannedMaintenance;
    if (kind == NoticeKind::kMaintenanceCompleted) {
      i.state = IncidentState::kResolved;
    } else {
      i.resolved_at.reset();
    }
    if (kind == NoticeKind::kMaintenanceCancelled) i.state = IncidentState::kCancelled;
  } else if (IsIban(kind)) {
    i.kind = IncidentKind::kIbanChange;
    i.services.clear();
    i.regions.clear();
    i.reason = {"اندماج فرعين من فروع البنك", "two bank branches are merging"};
    i.expected_restoration_at = i.starts_at;
    i.resolved_at.reset();
    i.old_iban = kOldIban;
    i.new_iban = kNewIban;
  } else if (kind != NoticeKind::kOutageRestored) {
    i.resolved_at.reset();
  }
  return i;
}

// A job for `kind` with the occasion the resolver would give it.
NoticeJob MakeJobFor(NoticeKind kind, Channel channel, std::string locale, std::string tz = "Asia/Riyadh") {
  NoticeJob job = MakeJob(kind, channel, std::move(locale), std::move(tz));
  if (kind == NoticeKind::kMaintenanceReminder) job.occasion = "lead-48h";
  if (IsIban(kind)) job.occasion = "lead-720h";
  return job;
}

TEST(TemplateRenderer, RendersEveryKindInArabicAndEnglishOnBothChannels) {
  auto renderer = LoadRepoTemplates();
  ASSERT_NE(renderer, nullptr);
  const Incident incident = MakeIncident();
  for (NoticeKind kind : kOutageKinds) {
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

TEST(TemplateRenderer, CustomersDroppedFromAnOpenOutageAreToldServiceIsBackAsOfTheUpdateAtTheirPlace) {
  auto renderer = LoadRepoTemplates();
  ASSERT_NE(renderer, nullptr);
  Incident incident = MakeIncident();
  incident.resolved_at.reset();  // still open for the others
  incident.updated_at = At("2026-01-10T13:20:00Z");  // 16:20 in Riyadh
  incident.asset_codes = {"F-2"};
  incident.place_names = {{"حي الورود", "Al Wurud"}};
  NoticeJob job = MakeJob(NoticeKind::kOutageRestored, Channel::kSms, "en", "Asia/Riyadh");
  EXPECT_EQ(renderer->Render(job, incident).status().code(), absl::StatusCode::kFailedPrecondition);
  job.occasion = "left";
  auto n = renderer->Render(job, incident);
  ASSERT_TRUE(n.ok()) << n.status();
  EXPECT_TRUE(Contains(n->text, "Service is back")) << n->text;
  EXPECT_TRUE(Contains(n->text, "16:20")) << n->text;
  EXPECT_TRUE(Contains(n->text, "Al Wurud")) << n->text;
  job.recipient.locale = "ar";
  auto ar = renderer->Render(job, incident);
  ASSERT_TRUE(ar.ok()) << ar.status();
  EXPECT_TRUE(Contains(ar->text, "حي الورود")) << ar->text;
  // An incident that names no place at all (an uploaded list alone).
  incident.regions.clear();
  incident.asset_codes.clear();
  incident.place_names.clear();
  job.recipient.locale = "en";
  EXPECT_TRUE(Contains(renderer->Render(job, incident)->text, "your area"));
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

// The SMS of the outage kinds for an ordinary incident, with the status link
// and the code: English in 2 GSM-7 parts, Arabic in 4 UCS-2 parts.
TEST(TemplateRenderer, KeepsSmsWithinTheSegmentBudget) {
  auto renderer = LoadRepoTemplates();
  ASSERT_NE(renderer, nullptr);
  renderer->set_notice_marks(FixedMarks({"https://status.forewarn.example/n/7H3K9QX2", "K7QF2M9X"}));
  const Incident incident = MakeIncident();
  for (NoticeKind kind : kOutageKinds) {
    auto en = renderer->Render(MakeJob(kind, Channel::kSms, "en", "Asia/Riyadh"), incident);
    auto ar = renderer->Render(MakeJob(kind, Channel::kSms, "ar", "Asia/Riyadh"), incident);
    ASSERT_TRUE(en.ok() && ar.ok());
    ExpectSmsWithinBudget("[ sms      ] ", kind, en->text, ar->text, 268u);  // Arabic: 4 UCS-2 parts
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
  auto r = TemplateRenderer::Load(dir.string(), TestClock());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(Contains(std::string(r.status().message()), "outage_updated/email.ar.html.mustache"));
}

TEST(TemplateRenderer, LoadFailsOnAnUnknownVariable) {
  const fs::path dir = CopyTemplates("unknown_var");
  WriteFile(dir / "outage_started" / "sms.en.mustache", "Outage: {{reason}}. Call {{support_phone}}.\n");
  auto r = TemplateRenderer::Load(dir.string(), TestClock());
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
    auto r = TemplateRenderer::Load(dir.string(), TestClock());
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition);
    EXPECT_TRUE(Contains(std::string(r.status().message()), std::string("outage_restored/") + file));
  }
  // Comments and sections over known names are fine.
  const fs::path dir = CopyTemplates("good");
  WriteFile(dir / "outage_restored" / "sms.en.mustache", "{{! note }}{{#name}}{{name}}: {{/name}}{{{reason}}}");
  EXPECT_TRUE(TemplateRenderer::Load(dir.string(), TestClock()).ok());
}

TEST(TemplateRenderer, RequiresTemplatesForEveryNoticeKind) {
  const auto kinds = TemplateRenderer::NoticeKinds();
  ASSERT_EQ(kinds.size(), std::size(kEveryKind));
  for (size_t i = 0; i < kinds.size(); ++i) EXPECT_EQ(kinds[i], kEveryKind[i]) << i;
  for (NoticeKind kind : kEveryKind) {
    SCOPED_TRACE(ToString(kind));
    EXPECT_TRUE(fs::is_directory(fs::path(FOREWARN_TEMPLATES_DIR) / ToString(kind)));
  }
  // A kind without its folder stops Load, naming it.
  const fs::path dir = CopyTemplates("missing_kind");
  fs::remove_all(dir / "maintenance_reminder");
  auto r = TemplateRenderer::Load(dir.string(), TestClock());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(Contains(std::string(r.status().message()), "maintenance_reminder/"));
}

TEST(TemplateRenderer, RendersEveryKindOfEveryIncidentKindInBothLocalesOnBothChannels) {
  auto renderer = LoadRepoTemplates();
  ASSERT_NE(renderer, nullptr);
  for (NoticeKind kind : kEveryKind) {
    const Incident incident = MakeIncidentFor(kind);
    for (Channel channel : {Channel::kSms, Channel::kEmail}) {
      for (const char* locale : {"ar", "en"}) {
        SCOPED_TRACE(std::string(ToString(kind)) + " " + std::string(ToString(channel)) + " " + locale);
        const NoticeJob job = MakeJobFor(kind, channel, locale);
        auto notice = renderer->Render(job, incident);
        ASSERT_TRUE(notice.ok()) << notice.status();
        EXPECT_EQ(notice->message_id, MessageIdFor(KeyOf(job)));
        const bool ar = std::string(locale) == "ar";
        const std::string& reason = ar ? incident.reason.ar : incident.reason.en;
        const bool sms = channel == Channel::kSms;
        // Completion and cancellation SMS need no reason; everything else says why.
        if (!(sms && (kind == NoticeKind::kMaintenanceCompleted || kind == NoticeKind::kMaintenanceCancelled))) {
          EXPECT_TRUE(Contains(notice->text, reason));
        }
        if (!IsIban(kind)) {
          EXPECT_TRUE(Contains(notice->text, "ELEC"));
          EXPECT_TRUE(Contains(notice->text, "RUH-N"));
        }
        switch (kind) {
          case NoticeKind::kOutageRestored:
          case NoticeKind::kMaintenanceCompleted:
            EXPECT_TRUE(Contains(notice->text, "18:10"));  // resolved
            break;
          case NoticeKind::kOutageStarted:
          case NoticeKind::kOutageUpdated:
          case NoticeKind::kMaintenanceScheduled:
          case NoticeKind::kMaintenanceReminder:
          case NoticeKind::kMaintenanceRescheduled:
            EXPECT_TRUE(Contains(notice->text, "15:00"));  // start
            EXPECT_TRUE(Contains(notice->text, "18:30"));  // (expected) end
            break;
          case NoticeKind::kOutageOverdue:
          case NoticeKind::kMaintenanceStarted:
            EXPECT_TRUE(Contains(notice->text, "18:30"));  // expected end
            break;
          case NoticeKind::kMaintenanceCancelled:
          case NoticeKind::kIbanChangeHolder:
          case NoticeKind::kIbanChangeBeneficiary:
            EXPECT_TRUE(Contains(notice->text, "15:00"));  // planned start / effective date
            break;
        }
        if (IsIban(kind)) {
          EXPECT_TRUE(Contains(notice->text, MaskIban(kOldIban)));
          EXPECT_FALSE(absl::StrContains(notice->text, "18:30"));  // no meaningless "end"
        }
        EXPECT_FALSE(absl::StrContains(notice->text, "{{"));
        EXPECT_FALSE(absl::StrContains(notice->text, "}}"));
        if (sms) {
          EXPECT_TRUE(notice->subject.empty());
          EXPECT_TRUE(notice->html.empty());
          EXPECT_FALSE(absl::StrContains(notice->text, "\n"));
        } else {
          EXPECT_FALSE(notice->subject.empty());
          EXPECT_FALSE(absl::StrContains(notice->subject, "\n"));
          EXPECT_FALSE(absl::StrContains(notice->subject, "{{"));
          EXPECT_TRUE(Contains(notice->html, reason));
          EXPECT_FALSE(absl::StrContains(notice->html, "{{"));
          EXPECT_TRUE(Contains(notice->text, "Sara"));
          EXPECT_TRUE(Contains(notice->html, "Sara"));
          EXPECT_TRUE(Contains(notice->html, ar ? "<html lang=\"ar\" dir=\"rtl\">" : "<html lang=\"en\" dir=\"ltr\">"));
        }
      }
    }
  }
}

TEST(TemplateRenderer, MaintenanceReminderSaysHowLongUntilTheStart) {
  auto renderer = LoadRepoTemplates();
  ASSERT_NE(renderer, nullptr);
  const Incident incident = MakeIncidentFor(NoticeKind::kMaintenanceReminder);
  auto render = [&](const std::string& occasion, Channel channel, const char* locale) -> RenderedNotice {
    NoticeJob job = MakeJob(NoticeKind::kMaintenanceReminder, channel, locale, "Asia/Riyadh");
    job.occasion = occasion;
    auto n = renderer->Render(job, incident);
    EXPECT_TRUE(n.ok()) << occasion << ": " << n.status();
    return n.ok() ? *n : RenderedNotice{};
  };
  const struct {
    const char* occasion;
    const char* en;
    const char* ar;
  } cases[] = {
      {"lead-48h", "2 days", "يومان"},
      {"lead-2h", "2 hours", "ساعتان"},
      {"lead-720h", "30 days", "30 يومًا"},
      {"lead-36h", "36 hours", "36 ساعة"},
      {"lead-90m", "90 minutes", "90 دقيقة"},
      {"lead-1h30m", "90 minutes", "90 دقيقة"},  // as LeadOccasion writes it
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.occasion);
    for (Channel channel : {Channel::kSms, Channel::kEmail}) {
      const RenderedNotice en = render(c.occasion, channel, "en");
      const RenderedNotice ar = render(c.occasion, channel, "ar");
      EXPECT_TRUE(Contains(en.text, absl::StrCat("starts in ", c.en, ", on ")));
      EXPECT_TRUE(Contains(ar.text, absl::StrCat("بقي ", c.ar, " على بدء")));
      if (channel == Channel::kEmail) {
        EXPECT_TRUE(Contains(en.subject, absl::StrCat(" in ", c.en)));
        EXPECT_TRUE(Contains(en.html, c.en));
        EXPECT_TRUE(Contains(ar.html, c.ar));
      }
    }
  }
  // Without a lead occasion the reminder still reads well.
  const RenderedNotice en = render("", Channel::kSms, "en");
  EXPECT_TRUE(Contains(en.text, "starts on "));
  const RenderedNotice ar = render("", Channel::kSms, "ar");
  EXPECT_TRUE(Contains(ar.text, "تبدأ الصيانة المخططة"));
  EXPECT_FALSE(absl::StrContains(ar.text, "بقي"));
  // A malformed lead is refused rather than sent as "starts in , on".
  for (const char* bad : {"lead-soon", "lead-", "lead-0s", "lead--2h"}) {
    NoticeJob job = MakeJob(NoticeKind::kMaintenanceReminder, Channel::kSms, "en", "UTC");
    job.occasion = bad;
    EXPECT_EQ(renderer->Render(job, incident).status().code(), absl::StatusCode::kInvalidArgument) << bad;
  }
}

// Every rendered part of an email or SMS, for "appears nowhere" checks.
std::string AllParts(const RenderedNotice& n) { return absl::StrCat(n.subject, "\n", n.text, "\n", n.html); }

TEST(TemplateRenderer, IbanHolderSeesTheNewIbanInFullAndTheOldOneMasked) {
  auto renderer = LoadRepoTemplates();
  ASSERT_NE(renderer, nullptr);
  const Incident incident = MakeIncidentFor(NoticeKind::kIbanChangeHolder);
  for (Channel channel : {Channel::kSms, Channel::kEmail}) {
    for (const char* locale : {"ar", "en"}) {
      SCOPED_TRACE(std::string(ToString(channel)) + " " + locale);
      auto n = renderer->Render(MakeJobFor(NoticeKind::kIbanChangeHolder, channel, locale), incident);
      ASSERT_TRUE(n.ok()) << n.status();
      EXPECT_TRUE(Contains(n->text, kNewIbanGrouped));
      EXPECT_TRUE(Contains(n->text, "SA03 **** 7519"));
      if (channel == Channel::kEmail) {
        EXPECT_TRUE(Contains(n->html, kNewIbanGrouped));
        EXPECT_TRUE(Contains(n->html, "SA03 **** 7519"));
      }
      const std::string all = AllParts(*n);
      EXPECT_FALSE(absl::StrContains(all, kOldIban)) << all;
      EXPECT_FALSE(absl::StrContains(all, kOldIbanGrouped)) << all;
      EXPECT_FALSE(absl::StrContains(all, "8000 0000 6080 1016")) << all;
    }
  }
  // Announced inside the lead time: no occasion, no "(in ...)".
  NoticeJob late = MakeJobFor(NoticeKind::kIbanChangeHolder, Channel::kEmail, "en");
  late.occasion.clear();
  auto short_notice = renderer->Render(late, incident);
  ASSERT_TRUE(short_notice.ok()) << short_notice.status();
  EXPECT_TRUE(Contains(short_notice->text, kNewIbanGrouped));
  EXPECT_FALSE(absl::StrContains(short_notice->text, "(in ")) << short_notice->text;
  // Spaced or lower-case input is shown the same way.
  Incident spaced = incident;
  spaced.new_iban = "sa44 2000 0001 2345 6789 1234";
  auto n = renderer->Render(MakeJobFor(NoticeKind::kIbanChangeHolder, Channel::kSms, "en"), spaced);
  ASSERT_TRUE(n.ok()) << n.status();
  EXPECT_TRUE(Contains(n->text, kNewIbanGrouped));
}

TEST(TemplateRenderer, IbanBeneficiarySeesBothIbansMasked) {
  auto renderer = LoadRepoTemplates();
  ASSERT_NE(renderer, nullptr);
  const Incident incident = MakeIncidentFor(NoticeKind::kIbanChangeBeneficiary);
  for (Channel channel : {Channel::kSms, Channel::kEmail}) {
    for (const char* locale : {"ar", "en"}) {
      SCOPED_TRACE(std::string(ToString(channel)) + " " + locale);
      auto n = renderer->Render(MakeJobFor(NoticeKind::kIbanChangeBeneficiary, channel, locale), incident);
      ASSERT_TRUE(n.ok()) << n.status();
      EXPECT_TRUE(Contains(n->text, "SA03 **** 7519"));
      EXPECT_TRUE(Contains(n->text, "SA44 **** 1234"));
      if (channel == Channel::kEmail) {
        EXPECT_TRUE(Contains(n->html, "SA03 **** 7519"));
        EXPECT_TRUE(Contains(n->html, "SA44 **** 1234"));
      }
      const std::string all = AllParts(*n);
      for (const char* secret : {kNewIban, kNewIbanGrouped, kOldIban, kOldIbanGrouped, "2000 0001 2345 6789",
                                 "20000001234567891234"}) {
        EXPECT_FALSE(absl::StrContains(all, secret)) << secret << " in:\n" << all;
      }
    }
  }
}

TEST(TemplateRenderer, EachCustomerOfAFanOutGetsTheirOwnNameEscapedForHtml) {
  // The templates are rendered once per incident, language, channel and
  // zone; the name is filled in per customer.
  auto renderer = LoadRepoTemplates();
  ASSERT_NE(renderer, nullptr);
  const Incident incident = MakeIncident();
  NoticeJob job = MakeJobFor(NoticeKind::kOutageStarted, Channel::kEmail, "en");
  std::vector<std::string> html;
  for (const char* name : {"Sara <Ops> & Co", "Omar", ""}) {
    job.recipient.name = name;
    job.recipient.customer_id++;
    auto n = renderer->Render(job, incident);
    ASSERT_TRUE(n.ok()) << n.status();
    EXPECT_EQ(n->message_id, MessageIdFor(KeyOf(job)));
    html.push_back(n->html);
    if (*name) {
      EXPECT_TRUE(absl::StrContains(n->text, name)) << n->text;
    }
  }
  EXPECT_TRUE(absl::StrContains(html[0], "Dear Sara &lt;Ops&gt; &amp; Co,")) << html[0];
  EXPECT_TRUE(absl::StrContains(html[1], "Dear Omar,"));
  EXPECT_TRUE(absl::StrContains(html[2], "Dear customer,"));
  EXPECT_FALSE(absl::StrContains(html[2], "Dear ,"));
  // A different incident text under the same id and version is not served
  // from what was rendered before.
  Incident changed = incident;
  changed.reason.en = "A different reason";
  job.recipient.name = "Omar";
  auto n = renderer->Render(job, changed);
  ASSERT_TRUE(n.ok()) << n.status();
  EXPECT_TRUE(absl::StrContains(n->text, "A different reason"));
}

TEST(TemplateRenderer, MaintenanceCompletedRendersWithOrWithoutAResolvedTime) {
  auto renderer = LoadRepoTemplates();
  ASSERT_NE(renderer, nullptr);
  Incident incident = MakeIncidentFor(NoticeKind::kMaintenanceCompleted);
  incident.resolved_at.reset();
  for (Channel channel : {Channel::kSms, Channel::kEmail}) {
    for (const char* locale : {"ar", "en"}) {
      SCOPED_TRACE(std::string(ToString(channel)) + " " + locale);
      auto n = renderer->Render(MakeJobFor(NoticeKind::kMaintenanceCompleted, channel, locale), incident);
      ASSERT_TRUE(n.ok()) << n.status();
      const bool ar = std::string(locale) == "ar";
      const bool sms = channel == Channel::kSms;
      EXPECT_TRUE(Contains(n->text, ar ? (sms ? "اكتملت الصيانة" : "باكتمال الصيانة") : "is complete"));
      EXPECT_FALSE(absl::StrContains(n->text, "18:10"));
      EXPECT_FALSE(absl::StrContains(n->text, "Completed:"));
      EXPECT_FALSE(absl::StrContains(n->text, "اكتمال الصيانة:"));
      EXPECT_FALSE(absl::StrContains(n->text, "  "));      // no hole where the time would be
      EXPECT_FALSE(absl::StrContains(n->text, "\n\n\n"));  // nor an empty line
    }
  }
  auto en = renderer->Render(MakeJobFor(NoticeKind::kMaintenanceCompleted, Channel::kSms, "en"),
                             MakeIncidentFor(NoticeKind::kMaintenanceCompleted));
  ASSERT_TRUE(en.ok()) << en.status();
  EXPECT_TRUE(Contains(en->text, "was completed on Jan 10, 18:10"));
}

// What the notifier checks at start-up (CheckSmsBudgets), with a realistic
// status base URL: every kind's SMS at its longest (a 60-character reason,
// dates with the year, the longest reference, the link and the code) within
// its budget in templates/sms_budgets.json. Prints the lengths.
TEST(TemplateRenderer, KeepsEverySmsAtItsLongestWithinItsBudget) {
  auto renderer = LoadRepoTemplates();
  ASSERT_NE(renderer, nullptr);
  auto codes = MessageCodes::FromSecret(std::string(32, 'c'));
  ASSERT_TRUE(codes.ok());
  auto settings = NoticeLinkSettings::Create("https://status.forewarn.example", *codes);
  ASSERT_TRUE(settings.ok());
  renderer->set_notice_marks([&settings](const NoticeJob& job, const Incident&, const std::string&) {
    return absl::StatusOr<NoticeMarks>(settings->Longest(job.kind));
  });
  auto budgets = SmsBudgets::Load(std::string(FOREWARN_TEMPLATES_DIR) + "/sms_budgets.json");
  ASSERT_TRUE(budgets.ok()) << budgets.status();
  auto uses = MeasureSms(*renderer, *budgets);
  ASSERT_TRUE(uses.ok()) << uses.status();
  for (const SmsBudgetUse& use : *uses) {
    std::cout << "[ sms long ] " << ToString(use.kind) << " " << use.language << "=" << CodePoints(use.text)
              << " chars, " << use.segments << "/" << use.budget << " " << use.encoding << " parts\n";
    EXPECT_LE(use.segments, use.budget) << ToString(use.kind) << " " << use.language << ": " << use.text;
    EXPECT_TRUE(absl::StrContains(use.text, "RIY-WWWWWW")) << use.text;
    EXPECT_TRUE(absl::StrContains(use.text, "WWWWWWWW")) << "the code: " << use.text;
    if (use.language == "en") {
      EXPECT_EQ(use.encoding, "gsm7") << "English must stay GSM-7: " << use.text;
    }
  }
  EXPECT_TRUE(CheckSmsBudgets(*renderer, *budgets).ok());
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
        const NoticeJob job = MakeJob(kOutageKinds[i % 3], i % 2 ? Channel::kSms : Channel::kEmail,
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

// New Year comes three hours earlier in Riyadh (UTC+3) than in UTC. At
// 21:30Z on 31 December it is already 2027 in Riyadh and still 2026 in UTC:
// an SMS date shows its year exactly when that differs from the current
// year in the customer's own zone.
TEST(TemplateRenderer, SmsDatesShowTheYearOnlyWhenItIsNotTheCurrentOneInTheCustomersZone) {
  FakeClock clock(At("2026-12-31T21:30:00Z"));
  auto loaded = TemplateRenderer::Load(FOREWARN_TEMPLATES_DIR, clock);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  TemplateRenderer& renderer = **loaded;
  Incident incident = MakeIncident();
  incident.starts_at = At("2026-12-31T22:00:00Z");                // Riyadh: 1 Jan 2027 01:00
  incident.expected_restoration_at = At("2027-01-01T03:00:00Z");  // Riyadh: 1 Jan 2027 06:00
  auto sms = [&](const char* locale, const char* tz) {
    auto n = renderer.Render(MakeJob(NoticeKind::kOutageStarted, Channel::kSms, locale, tz), incident);
    EXPECT_TRUE(n.ok()) << n.status();
    return n.ok() ? n->text : "";
  };
  for (const char* locale : {"en", "ar"}) {
    SCOPED_TRACE(locale);
    // Riyadh: both dates are in 2027, the current year there.
    const std::string riyadh = sms(locale, "Asia/Riyadh");
    EXPECT_FALSE(absl::StrContains(riyadh, "2027")) << riyadh;
    EXPECT_FALSE(absl::StrContains(riyadh, "2026")) << riyadh;
    EXPECT_TRUE(Contains(riyadh, "01:00"));
    EXPECT_TRUE(Contains(riyadh, "06:00"));
    // UTC: the start is in 2026 (current), the estimate in 2027 (next year).
    const std::string utc = sms(locale, "UTC");
    EXPECT_FALSE(absl::StrContains(utc, "2026")) << utc;
    EXPECT_TRUE(Contains(utc, "2027"));
    EXPECT_TRUE(Contains(utc, "22:00"));
    EXPECT_TRUE(Contains(utc, "03:00"));
  }
  EXPECT_TRUE(Contains(sms("en", "UTC"), "Jan 1, 2027, 03:00")) << "the year sits in the date";
  EXPECT_TRUE(Contains(sms("en", "UTC"), "Dec 31, 22:00"));

  // A year on, in the same renderer (its cache knows the year changed), the
  // Riyadh customer reads both years too.
  clock.Set(At("2028-03-01T12:00:00Z"));
  for (const char* locale : {"en", "ar"}) {
    const std::string riyadh = sms(locale, "Asia/Riyadh");
    EXPECT_TRUE(Contains(riyadh, "2027"));
    EXPECT_EQ(absl::StrContains(riyadh, "2028"), false) << riyadh;
  }
  // Email dates always carry the year.
  clock.Set(At("2026-12-31T21:30:00Z"));
  auto email = renderer.Render(MakeJob(NoticeKind::kOutageStarted, Channel::kEmail, "en", "Asia/Riyadh"), incident);
  ASSERT_TRUE(email.ok()) << email.status();
  EXPECT_TRUE(Contains(email->text, "January 1, 2027"));
}

TEST(TemplateRenderer, AnOutageThatStartedLastYearSaysWhichYear) {
  FakeClock clock(At("2026-01-01T09:00:00Z"));
  auto loaded = TemplateRenderer::Load(FOREWARN_TEMPLATES_DIR, clock);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  Incident incident = MakeIncident();
  incident.starts_at = At("2025-01-01T00:00:00Z");
  incident.expected_restoration_at = At("2026-01-01T12:00:00Z");
  for (const char* locale : {"en", "ar"}) {
    auto n = (*loaded)->Render(MakeJob(NoticeKind::kOutageUpdated, Channel::kSms, locale, "Asia/Riyadh"), incident);
    ASSERT_TRUE(n.ok()) << n.status();
    EXPECT_TRUE(Contains(n->text, "2025"));           // "since 1 Jan 2025, 03:00", not "since 1 Jan, 03:00"
    EXPECT_FALSE(absl::StrContains(n->text, "2026")) << n->text;  // the estimate is this year
  }
}

// The message id (the SMTP Message-ID and the gateway's idempotency key)
// comes from the notice key alone: every attempt of a notice carries it.
TEST(TemplateRenderer, EveryAttemptOfANoticeHasTheSameMessageId) {
  auto renderer = LoadRepoTemplates();
  ASSERT_NE(renderer, nullptr);
  const NoticeJob first = MakeJob(NoticeKind::kOutageStarted, Channel::kSms, "en", "Asia/Riyadh");
  NoticeJob retry = first;
  retry.attempt = 4;
  retry.last_error = "sms: send to +9665*****001 failed: timed out";
  retry.not_before = At("2026-01-10T13:00:00Z");
  retry.revive = true;
  auto a = renderer->Render(first, MakeIncident());
  auto b = renderer->Render(retry, MakeIncident());
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->message_id, b->message_id);
  EXPECT_EQ(a->message_id, "<0b9f3c2e-5d1a-4c7e-9f00-123456789abc.v3.outage_started.c42.sms@forewarn>");
}

TEST(TemplateRenderer, EmailFooterCarriesTheCustomersOwnUnsubscribeLink) {
  auto renderer = TemplateRenderer::Load(FOREWARN_TEMPLATES_DIR, TestClock(), [](const NoticeJob& job) {
    return job.recipient.customer_id == 42 ? std::string("https://forewarn.example/u/tok&42") : std::string();
  });
  ASSERT_TRUE(renderer.ok()) << renderer.status();
  for (const char* locale : {"en", "ar"}) {
    NoticeJob job = MakeJob(NoticeKind::kMaintenanceReminder, Channel::kEmail, locale, "Asia/Riyadh");
    job.occasion = "lead-48h";
    auto with = (*renderer)->Render(job, MakeIncident());
    ASSERT_TRUE(with.ok()) << with.status();
    EXPECT_EQ(with->unsubscribe_url, "https://forewarn.example/u/tok&42");
    EXPECT_TRUE(absl::StrContains(with->text, "https://forewarn.example/u/tok&42")) << with->text;
    EXPECT_TRUE(absl::StrContains(with->html, "href=\"https://forewarn.example/u/tok&amp;42\"")) << with->html;
    // Another customer of the same render (cached parts): no link, no footer.
    job.recipient.customer_id = 43;
    auto without = (*renderer)->Render(job, MakeIncident());
    ASSERT_TRUE(without.ok()) << without.status();
    EXPECT_EQ(without->unsubscribe_url, "");
    EXPECT_FALSE(absl::StrContains(without->text, "forewarn.example/u/")) << without->text;
    EXPECT_FALSE(absl::StrContains(without->html, "<a href")) << without->html;
    // Without links the email is exactly what it was before links existed.
    auto plain = LoadRepoTemplates()->Render(job, MakeIncident());
    ASSERT_TRUE(plain.ok());
    EXPECT_EQ(plain->text, without->text);
    EXPECT_EQ(plain->html, without->html);
    // Back to customer 42: the link again (not a cached "no link").
    job.recipient.customer_id = 42;
    EXPECT_EQ((*renderer)->Render(job, MakeIncident())->unsubscribe_url, "https://forewarn.example/u/tok&42");
  }
  NoticeJob sms = MakeJob(NoticeKind::kMaintenanceReminder, Channel::kSms, "en", "Asia/Riyadh");
  sms.occasion = "lead-48h";
  auto text = (*renderer)->Render(sms, MakeIncident());
  ASSERT_TRUE(text.ok());
  EXPECT_EQ(text->unsubscribe_url, "");
  EXPECT_FALSE(absl::StrContains(text->text, "forewarn.example"));
}

TEST(TemplateRenderer, ShowsTheReferenceTheStatusLinkAndTheCodeInEveryPart) {
  auto renderer = LoadRepoTemplates();
  ASSERT_NE(renderer, nullptr);
  std::vector<std::string> languages;
  renderer->set_notice_marks([&languages](const NoticeJob&, const Incident&, const std::string& language) {
    languages.push_back(language);
    return absl::StatusOr<NoticeMarks>(NoticeMarks{"https://status.example.com/n/K7QF2M9X", "7H3K9QX2"});
  });
  for (NoticeKind kind : kEveryKind) {
    for (const char* locale : {"en", "ar-SA"}) {
      SCOPED_TRACE(absl::StrCat(ToString(kind), " ", locale));
      auto sms = renderer->Render(MakeJobFor(kind, Channel::kSms, locale), MakeIncidentFor(kind));
      auto email = renderer->Render(MakeJobFor(kind, Channel::kEmail, locale), MakeIncidentFor(kind));
      ASSERT_TRUE(sms.ok()) << sms.status();
      ASSERT_TRUE(email.ok()) << email.status();
      for (const std::string* part : {&sms->text, &email->text, &email->html}) {
        EXPECT_TRUE(Contains(*part, "RUH-4K7Q"));
        EXPECT_TRUE(Contains(*part, "https://status.example.com/n/K7QF2M9X"));
        EXPECT_TRUE(Contains(*part, "7H3K9QX2"));
        EXPECT_FALSE(absl::StrContains(*part, "0b9f3c2e-5d1a")) << "no UUID in a notice: " << *part;
      }
    }
  }
  EXPECT_EQ(languages.front(), "en");
  EXPECT_EQ(languages.back(), "ar") << "the marks get the language, not the locale";
  auto en = renderer->Render(MakeJob(NoticeKind::kOutageStarted, Channel::kSms, "en", "Asia/Riyadh"), MakeIncident());
  EXPECT_TRUE(Contains(en->text, "Ref RUH-4K7Q https://status.example.com/n/K7QF2M9X Code 7H3K9QX2"));
}

TEST(TemplateRenderer, LeavesTheLinkOutWhenANoticeHasNoneAndTheCodeWhenThereIsNone) {
  auto renderer = LoadRepoTemplates();
  ASSERT_NE(renderer, nullptr);
  renderer->set_notice_marks(FixedMarks({"", "7H3K9QX2"}));
  const NoticeKind kind = NoticeKind::kIbanChangeHolder;
  for (const char* locale : {"en", "ar"}) {
    auto sms = renderer->Render(MakeJobFor(kind, Channel::kSms, locale), MakeIncidentFor(kind));
    auto email = renderer->Render(MakeJobFor(kind, Channel::kEmail, locale), MakeIncidentFor(kind));
    ASSERT_TRUE(sms.ok() && email.ok());
    for (const std::string* part : {&sms->text, &email->text, &email->html}) {
      EXPECT_FALSE(absl::StrContains(*part, "http")) << *part;
      EXPECT_TRUE(Contains(*part, "7H3K9QX2"));
    }
    EXPECT_FALSE(absl::StrContains(email->text, "\n\n\n")) << email->text;
    EXPECT_FALSE(absl::StrContains(sms->text, "  ")) << sms->text;
  }
  renderer->set_notice_marks(nullptr);  // a preview without the code secret
  auto plain = renderer->Render(MakeJobFor(kind, Channel::kSms, "en"), MakeIncidentFor(kind));
  ASSERT_TRUE(plain.ok());
  EXPECT_FALSE(absl::StrContains(plain->text, "Code")) << plain->text;
  EXPECT_TRUE(absl::EndsWith(plain->text, "Ref RUH-4K7Q")) << plain->text;
}

TEST(TemplateRenderer, FailsTheRenderWithTheMarksError) {
  auto renderer = LoadRepoTemplates();
  ASSERT_NE(renderer, nullptr);
  renderer->set_notice_marks([](const NoticeJob&, const Incident&, const std::string&) -> absl::StatusOr<NoticeMarks> {
    return absl::UnavailableError("status links: database unavailable");
  });
  auto n = renderer->Render(MakeJob(NoticeKind::kOutageStarted, Channel::kSms, "en", "UTC"), MakeIncident());
  EXPECT_EQ(n.status().code(), absl::StatusCode::kUnavailable) << "retryable: nothing was sent";
  // Marks set later replace what was rendered with the earlier ones.
  renderer->set_notice_marks(FixedMarks({"https://s.example/n/AAAAAAAA", "BBBBBBBB"}));
  auto first = renderer->Render(MakeJob(NoticeKind::kOutageStarted, Channel::kSms, "en", "UTC"), MakeIncident());
  renderer->set_notice_marks(FixedMarks({"https://s.example/n/CCCCCCCC", "DDDDDDDD"}));
  auto second = renderer->Render(MakeJob(NoticeKind::kOutageStarted, Channel::kSms, "en", "UTC"), MakeIncident());
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_TRUE(Contains(first->text, "AAAAAAAA"));
  EXPECT_TRUE(Contains(second->text, "CCCCCCCC"));
}

}  // namespace
}  // namespace forewarn
