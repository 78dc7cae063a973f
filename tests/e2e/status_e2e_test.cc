// forewarn-status end to end: the built forewarn-status over the stack's
// PostgreSQL, incidents made through the intake (gRPC) and changed with the
// built CLI. Pages and feeds over HTTP in Arabic and English, a notice's
// personal link, guessed tokens (404, then 429), the message check with a
// code computed as notices carry it, and the live update; then the same
// pages in headless Chromium (tests/browser/status_pages.mjs).
#include <httplib.h>

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "nlohmann/json.hpp"
#include "services/core/message_code.h"
#include "tests/e2e/stack.h"

namespace forewarn {
namespace {


constexpr char kOperator[] = "ops-token-3b7d9e1f5a";
constexpr char kToken[] = "K7QF2M9X";  // a notice's status link (Arabic, London time)

class StatusE2eTest : public testing::CliStackTest {
 protected:
  void SetUp() override {
    StartCliStack("forewarn-status-", absl::StrCat(kOperator, " operator ops\n"),
                  "INSERT INTO services VALUES ('electricity','Electricity','الكهرباء'),('water','Water','المياه');"
                  "INSERT INTO regions VALUES ('riyadh','Riyadh','الرياض'),('jeddah','Jeddah','جدة');",
                  kOperator, /*notifiers=*/0);
    if (IsSkipped() || HasFatalFailure()) return;
    ASSERT_NO_FATAL_FAILURE(CreateIncidents());
    ASSERT_NO_FATAL_FAILURE(StartStatus());
  }

  void CreateIncidents() {
    v1::Incident outage;
    auto created = stack_.stub().CreateIncident(
        Operator().get(),
        testing::OutageRequest("status-outage", "electricity", "riyadh", "Transformer fault", "عطل في المحول",
                               absl::Hours(3)),
        &outage);
    ASSERT_TRUE(created.ok()) << created.error_message();
    outage_id_ = outage.id();
    v1::ScheduleMaintenanceRequest req;
    req.set_idempotency_key("status-maintenance");
    req.add_services("water");
    req.add_regions("jeddah");
    req.mutable_reason()->set_en("Network maintenance");
    req.mutable_reason()->set_ar("صيانة الشبكة");
    req.mutable_starts_at()->set_seconds(absl::ToUnixSeconds(absl::Now() + absl::Hours(72)));
    req.mutable_ends_at()->set_seconds(absl::ToUnixSeconds(absl::Now() + absl::Hours(76)));
    v1::Incident maintenance;
    auto status = stack_.stub().ScheduleMaintenance(Operator().get(), req, &maintenance);
    ASSERT_TRUE(status.ok()) << status.error_message();
    outage_ref_ = stack_.db().Exec(absl::StrCat("SELECT ref FROM incidents WHERE id = '", outage_id_, "'"));
    maintenance_ref_ = stack_.db().Exec(absl::StrCat("SELECT ref FROM incidents WHERE id = '", maintenance.id(), "'"));
    stack_.db().Exec(absl::StrCat("INSERT INTO status_links (token, incident_id, language, time_zone) VALUES ('",
                                  kToken, "', '", outage_id_, "', 'ar', 'Europe/London')"));
  }

  std::unique_ptr<grpc::ClientContext> Operator() {
    auto ctx = stack_.Ctx();
    ctx->AddMetadata("authorization", absl::StrCat("Bearer ", kOperator));
    return ctx;
  }

  void StartStatus() {
    port_ = StartStatusPages({"--default-language", "en"});
    ASSERT_NE(port_, 0);
    client_ = std::make_unique<httplib::Client>("127.0.0.1", port_);
  }

  httplib::Result Get(const std::string& path, const httplib::Headers& headers = {}) {
    return client_->Get(path, headers);
  }

  std::string outage_id_, outage_ref_, maintenance_ref_;
  int port_ = 0;
  std::unique_ptr<httplib::Client> client_;
};

TEST_F(StatusE2eTest, PagesFeedsLinksChecksAndLiveUpdates) {
  auto en = Get("/", {{"Accept-Language", "en-GB,en;q=0.9"}});
  ASSERT_TRUE(en);
  EXPECT_EQ(en->status, 200);
  EXPECT_TRUE(absl::StrContains(en->body, "<html lang=\"en\" dir=\"ltr\">"));
  EXPECT_TRUE(absl::StrContains(en->body, "Electricity — Riyadh")) << en->body;
  EXPECT_TRUE(absl::StrContains(en->body, "Water — Jeddah"));
  auto ar = Get("/?lang=ar");
  ASSERT_TRUE(ar);
  EXPECT_TRUE(absl::StrContains(ar->body, "<html lang=\"ar\" dir=\"rtl\">"));
  EXPECT_TRUE(absl::StrContains(ar->body, "الكهرباء — الرياض"));
  auto page = Get("/i/" + outage_ref_ + "?lang=en&tz=Asia/Riyadh");
  ASSERT_TRUE(page);
  EXPECT_EQ(page->status, 200);
  EXPECT_TRUE(absl::StrContains(page->body, "Transformer fault"));
  EXPECT_TRUE(absl::StrContains(page->body, "Outage reported"));
  EXPECT_FALSE(absl::StrContains(page->body, outage_id_));  // references only, never the UUID

  auto json = Get("/status.json");
  ASSERT_TRUE(json);
  const auto doc = nlohmann::json::parse(json->body);
  ASSERT_EQ(doc["incidents"].size(), 2u);
  auto atom = Get("/feed.atom?lang=ar");
  ASSERT_TRUE(atom);
  const std::string atom_file = Write("feed.atom", atom->body);
  EXPECT_EQ(testing::RunCommand("python3 -c 'import sys, xml.etree.ElementTree as E; "
                                "r = E.parse(sys.argv[1]).getroot(); "
                                "print(len(r.findall(\"{http://www.w3.org/2005/Atom}entry\")))' " + atom_file),
            "2\n");

  // The notice's link: Arabic, London time; guessed tokens are 404, then throttled.
  auto link = Get(absl::StrCat("/n/", kToken));
  ASSERT_TRUE(link);
  EXPECT_EQ(link->status, 200);
  EXPECT_TRUE(absl::StrContains(link->body, "<html lang=\"ar\" dir=\"rtl\">"));
  EXPECT_TRUE(absl::StrContains(link->body, "عطل في المحول"));
  EXPECT_TRUE(absl::StrContains(link->body, "Europe/London"));
  for (int i = 0; i < 10; ++i) {
    auto guess = Get(absl::StrCat("/n/GUESS", 100 + i));
    ASSERT_TRUE(guess);
    EXPECT_EQ(guess->status, 404) << i;
  }
  auto throttled = Get(absl::StrCat("/n/", kToken));
  ASSERT_TRUE(throttled);
  EXPECT_EQ(throttled->status, 429);
  EXPECT_EQ(throttled->get_header_value("Retry-After"), "10");
}

TEST_F(StatusE2eTest, ChecksCodesAndFollowsAnUpdate) {
  absl::StatusOr<MessageCodes> codes = MessageCodes::FromSecret(testing::ServiceStack::kMessageCodeSecret);
  ASSERT_TRUE(codes.ok()) << codes.status();
  const std::string code = codes->Code({outage_id_, 1, "outage_started"});
  auto genuine = client_->Post("/check?lang=en", absl::StrCat("ref=", outage_ref_, "&code=", code),
                               "application/x-www-form-urlencoded");
  ASSERT_TRUE(genuine);
  EXPECT_TRUE(absl::StrContains(genuine->body, absl::StrCat("the outage started notice of ", outage_ref_, ", update 1")))
      << genuine->body;
  auto made_up = client_->Post("/check?lang=en", absl::StrCat("ref=", outage_ref_, "&code=ABCD2345"),
                               "application/x-www-form-urlencoded");
  ASSERT_TRUE(made_up);
  EXPECT_TRUE(absl::StrContains(made_up->body, "Not confirmed"));

  ASSERT_EQ(Get("/version?ref=" + outage_ref_)->body, "1");
  testing::CliRun update = Forewarn({"incident", "update", outage_id_, "--restore-in", "5h"});
  ASSERT_EQ(update.exit_code, 0) << update.err;
  const absl::Time deadline = absl::Now() + absl::Seconds(5);
  std::string version;
  while (absl::Now() < deadline && (version = Get("/version?ref=" + outage_ref_)->body) != "2") {
    absl::SleepFor(absl::Milliseconds(100));
  }
  EXPECT_EQ(version, "2");
  EXPECT_TRUE(absl::StrContains(Get("/i/" + outage_ref_ + "?lang=en")->body, "Expected restoration moved from"));
}

// The browser test: tests/browser/status_pages.mjs with playwright-core
// (scripts/playwright.sh; FOREWARN_PLAYWRIGHT_MODULES) and Debian's
// chromium. Screenshots in BUILD/test-output/status-browser.
TEST_F(StatusE2eTest, BrowserShowsBothLanguagesAndUpdatesLive) {
  const char* modules = std::getenv("FOREWARN_PLAYWRIGHT_MODULES");
  const std::string chromium = std::getenv("FOREWARN_CHROMIUM") ? std::getenv("FOREWARN_CHROMIUM") : "/usr/bin/chromium";
  if (modules == nullptr || !std::filesystem::exists(chromium)) {
    GTEST_SKIP() << "no FOREWARN_PLAYWRIGHT_MODULES or " << chromium << " (scripts/test.sh installs both)";
  }
  const std::string out_dir = absl::StrCat(FOREWARN_BIN_DIR, "/test-output/status-browser");
  std::filesystem::create_directories(out_dir);
  const std::vector<std::string> update = {absl::StrCat(FOREWARN_BIN_DIR, "/services/cmd/cli/forewarn"), "--target",
                                           stack_.intake_target(), "--token", kOperator, "incident", "update",
                                           outage_id_, "--restore-in", "6h"};
  const nlohmann::json config = {
      {"base", absl::StrCat("http://127.0.0.1:", port_)}, {"chromium", chromium}, {"out_dir", out_dir},
      {"ref", outage_ref_}, {"maintenance_ref", maintenance_ref_},
      {"overview", {{"en", {"Electricity — Riyadh", "Water — Jeddah", "Transformer fault"}},
                    {"ar", {"الكهرباء — الرياض", "المياه — جدة", "عطل في المحول"}}}},
      {"incident", {{"en", {outage_ref_, "Transformer fault", "Outage reported"}},
                    {"ar", {outage_ref_, "عطل في المحول", "الإبلاغ عن الانقطاع"}}}},
      {"update", {{"argv", update}, {"expect", "Expected restoration moved from"}}}};
  const std::string config_file = Write("browser.json", config.dump());
  const std::string log = dir_ + "/browser.log";
  const std::string cmd = absl::StrCat("FOREWARN_PLAYWRIGHT_MODULES='", modules, "' timeout 120 node '",
                                       FOREWARN_SOURCE_DIR, "/tests/browser/status_pages.mjs' '", config_file,
                                       "' >'", log, "' 2>&1");
  const int rc = std::system(cmd.c_str());
  EXPECT_EQ(rc, 0) << testing::ReadFile(log);
  for (const char* shot : {"overview-en.png", "overview-ar.png", "incident-en.png", "incident-ar.png",
                           "incident-updated.png"}) {
    EXPECT_TRUE(std::filesystem::exists(absl::StrCat(out_dir, "/", shot))) << shot;
  }
}

}  // namespace
}  // namespace forewarn
