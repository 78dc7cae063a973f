// End-to-end references, status links and verification codes (issue 19):
// an outage's SMS and emails, as the notifier delivered them to the outbox,
// carry the incident's reference, a status link whose token PostgreSQL holds
// for the customer's language and time zone, and a code MessageCodes accepts
// for the notice; an IBAN notice carries the code but no link; the CLI and
// the gRPC API take the reference wherever they take an id.
#include <gtest/gtest.h>
#include <httplib.h>

#include <regex>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "services/core/incident_ref.h"
#include "services/core/message_code.h"
#include "tests/e2e/stack.h"

namespace forewarn {
namespace {

namespace v1 = forewarn::v1;

constexpr char kToken[] = "links-operator-token";

class NoticeLinksE2eTest : public testing::CliStackTest {
 protected:
  void SetUp() override {
    // 1: English in Riyadh, 2: Arabic in Dubai (SMS and email each); 1 holds
    // the account whose IBAN changes.
    StartCliStack("forewarn-links-", absl::StrCat(kToken, " operator ops\n"),
                  "INSERT INTO services VALUES ('electricity','Electricity','الكهرباء');"
                  "INSERT INTO regions VALUES ('riyadh','Riyadh','الرياض');"
                  "INSERT INTO customers (id, name, locale, time_zone, phone, email, channels_unplanned, "
                  "  channels_maintenance, channels_banking) VALUES "
                  " (1,'Sam','en','Asia/Riyadh','+966512345671','sam@example.com',3,3,3),"
                  " (2,'ليلى','ar','Asia/Dubai','+966512345672','layla@example.com',3,3,3);"
                  "INSERT INTO customer_services VALUES ('electricity','riyadh',1),('electricity','riyadh',2);"
                  "INSERT INTO accounts VALUES ('SA0380000000608010167519',1);",
                  kToken);
    if (IsSkipped()) return;
    // 10:00 UTC tomorrow: daytime for both, so nothing is held for quiet hours.
    const absl::CivilDay today = absl::ToCivilDay(absl::Now(), absl::UTCTimeZone());
    now_ = absl::FromCivil(absl::CivilHour(absl::CivilHour(today + 1) + 10), absl::UTCTimeZone());
    stack_.SetTimeOffset(now_ - absl::Now());
    absl::SleepFor(absl::Milliseconds(300));  // the services re-read the clock file
  }

  std::unique_ptr<grpc::ClientContext> Ctx() {
    auto ctx = stack_.Ctx();
    ctx->AddMetadata("authorization", absl::StrCat("Bearer ", kToken));
    return ctx;
  }

  v1::Incident Outage(const std::string& key) {
    v1::CreateIncidentRequest req = testing::OutageRequest(key, "electricity", "riyadh", "Cable fault",
                                                           "عطل في الكابل", absl::Hours(3));
    req.mutable_expected_restoration_at()->set_seconds(absl::ToUnixSeconds(now_ + absl::Hours(3)));
    v1::Incident incident;
    const grpc::Status s = stack_.stub().CreateIncident(Ctx().get(), req, &incident);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return incident;
  }

  // The notices of `incident` of `kind` once `want` are sent.
  std::vector<testing::Delivered> Delivered(const v1::Incident& incident, const std::string& kind, int want) {
    EXPECT_TRUE(stack_.WaitForCount(absl::StrCat("SELECT count(*) FROM notice_ledger WHERE incident_id = '",
                                                 incident.id(), "' AND notice_kind = '", kind,
                                                 "' AND state = 'sent'"),
                                    want))
        << "logs in " << stack_.dir();
    std::vector<testing::Delivered> out;
    for (auto& d : stack_.ReadOutbox()) {
      if (d.kind == kind && absl::StrContains(d.line.at("message_id").get<std::string>(), incident.id())) {
        out.push_back(std::move(d));
      }
    }
    EXPECT_EQ(out.size(), static_cast<size_t>(want));
    return out;
  }

  // The first capture of `re` in the notice's text ("" when none).
  static std::string Find(const testing::Delivered& d, const std::string& re) {
    std::smatch m;
    const std::string text = d.line.at("text").get<std::string>();
    return std::regex_search(text, m, std::regex(re)) ? m[1].str() : "";
  }
  static std::string CodeIn(const testing::Delivered& d) {
    return Find(d, "(?:Code|code:|رمز التحقق:?) ([0-9A-HJKMNP-TV-Z]{8})");
  }

  absl::Time now_;
};

TEST_F(NoticeLinksE2eTest, OutageNoticesCarryTheReferenceAStatusLinkAndACheckableCode) {
  const v1::Incident incident = Outage("links-outage");
  EXPECT_TRUE(IsIncidentRef(incident.ref())) << incident.ref();
  EXPECT_TRUE(absl::StartsWith(incident.ref(), "RIY-")) << incident.ref();
  auto codes = MessageCodes::FromSecret(testing::ServiceStack::kMessageCodeSecret);
  ASSERT_TRUE(codes.ok());
  for (const testing::Delivered& d : Delivered(incident, "outage_started", 4)) {
    const std::string what = absl::StrCat(d.channel, " to customer ", d.customer_id, ": ", d.line.dump());
    EXPECT_TRUE(absl::StrContains(d.line.at("text").get<std::string>(), incident.ref())) << what;
    EXPECT_FALSE(absl::StrContains(d.line.at("text").get<std::string>(), incident.id())) << what;
    const std::string token = Find(d, absl::StrCat(testing::ServiceStack::kStatusBaseUrl, "/n/([0-9A-Z]{8})"));
    ASSERT_FALSE(token.empty()) << what;
    EXPECT_EQ(stack_.db().Exec(absl::StrCat("SELECT language || ' ' || time_zone FROM status_links WHERE token = '",
                                            token, "' AND incident_id = '", incident.id(), "'")),
              d.customer_id == 1 ? "en Asia/Riyadh" : "ar Asia/Dubai")
        << what;
    const std::string code = CodeIn(d);
    EXPECT_TRUE(codes->Matches(code, {incident.id(), d.version, d.kind})) << code << " in " << what;
    EXPECT_FALSE(codes->Matches(code, {incident.id(), d.version, "outage_restored"})) << what;
  }
  // One token per language and zone: the SMS and the email share it.
  EXPECT_EQ(stack_.db().Exec(absl::StrCat("SELECT count(*) FROM status_links WHERE incident_id = '", incident.id(),
                                          "'")),
            "2");

  // On the status page, each SMS's link opens the incident in its customer's
  // language, and the code it carries is confirmed for its reference.
  const int port = StartStatusPages();
  ASSERT_NE(port, 0);
  httplib::Client status("127.0.0.1", port);
  for (const testing::Delivered& d : Delivered(incident, "outage_started", 4)) {
    if (d.channel != "sms") continue;
    const std::string token = Find(d, absl::StrCat(testing::ServiceStack::kStatusBaseUrl, "/n/([0-9A-Z]{8})"));
    auto page = status.Get("/n/" + token);
    ASSERT_TRUE(page) << token;
    EXPECT_EQ(page->status, 200) << page->body;
    EXPECT_TRUE(absl::StrContains(page->body, d.customer_id == 1 ? "lang=\"en\" dir=\"ltr\"" : "lang=\"ar\" dir=\"rtl\""))
        << "customer " << d.customer_id << ": " << page->body;
    EXPECT_TRUE(absl::StrContains(page->body, incident.ref())) << page->body;
    auto check = status.Post("/check?lang=en", absl::StrCat("ref=", incident.ref(), "&code=", CodeIn(d)),
                             "application/x-www-form-urlencoded");
    ASSERT_TRUE(check);
    EXPECT_TRUE(absl::StrContains(check->body, absl::StrCat("notice of ", incident.ref(), ", update 1")))
        << check->body;
  }
}

TEST_F(NoticeLinksE2eTest, AnIbanNoticeCarriesACodeButNoLink) {
  v1::AnnounceIbanChangeRequest req;
  req.set_idempotency_key("links-iban");
  req.set_old_iban("SA03 8000 0000 6080 1016 7519");
  req.set_new_iban("SA44 2000 0001 2345 6789 1234");
  req.mutable_effective_at()->set_seconds(absl::ToUnixSeconds(now_ + absl::Hours(24 * 10)));
  req.mutable_reason()->set_en("Branch merger");
  req.mutable_reason()->set_ar("دمج الفروع");
  v1::Incident incident;
  const grpc::Status s = stack_.stub().AnnounceIbanChange(Ctx().get(), req, &incident);
  ASSERT_TRUE(s.ok()) << s.error_message();
  auto codes = MessageCodes::FromSecret(testing::ServiceStack::kMessageCodeSecret);
  ASSERT_TRUE(codes.ok());
  for (const testing::Delivered& d : Delivered(incident, "iban_change_holder", 2)) {
    const std::string what = d.line.dump();
    EXPECT_FALSE(absl::StrContains(d.line.at("text").get<std::string>(), "/n/")) << what;
    EXPECT_FALSE(absl::StrContains(d.line.value("html", ""), "/n/")) << what;
    EXPECT_TRUE(absl::StrContains(d.line.at("text").get<std::string>(), incident.ref())) << what;
    EXPECT_TRUE(codes->Matches(CodeIn(d), {incident.id(), d.version, d.kind})) << what;
  }
  EXPECT_EQ(stack_.db().Exec(absl::StrCat("SELECT count(*) FROM status_links WHERE incident_id = '", incident.id(),
                                          "'")),
            "0");
}

TEST_F(NoticeLinksE2eTest, TheCliAndTheApiTakeTheReferenceWhereverTheyTakeAnId) {
  const v1::Incident incident = Outage("links-ref");
  // As typed from an SMS: lower case, and o for 0, l for 1 where they occur.
  std::string typed = absl::AsciiStrToLower(incident.ref());
  for (char& c : typed) {
    if (c == '0') c = 'o';
    if (c == '1') c = 'l';
  }
  testing::CliRun show = Forewarn({"incident", "show", typed});
  EXPECT_EQ(show.exit_code, 0) << show.err;
  EXPECT_TRUE(absl::StrContains(show.out, incident.id())) << show.out;
  EXPECT_TRUE(absl::StrContains(show.out, incident.ref())) << show.out;

  v1::UpdateIncidentRequest update;
  update.set_id(typed);
  update.mutable_expected_restoration_at()->set_seconds(absl::ToUnixSeconds(now_ + absl::Hours(5)));
  v1::Incident updated;
  grpc::Status s = stack_.stub().UpdateIncident(Ctx().get(), update, &updated);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(updated.id(), incident.id());
  EXPECT_EQ(updated.version(), 2);

  v1::GetIncidentRequest get;
  get.set_id("RIY-!!");
  v1::Incident got;
  s = stack_.stub().GetIncident(Ctx().get(), get, &got);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << s.error_message();
  EXPECT_TRUE(absl::StartsWith(s.error_message(), "id: ")) << s.error_message();
  get.set_id("ZZZ-0000");
  s = stack_.stub().GetIncident(Ctx().get(), get, &got);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND) << s.error_message();
  EXPECT_TRUE(absl::StrContains(s.error_message(), "ZZZ-0000")) << s.error_message();

  testing::CliRun bad = Forewarn({"incident", "report", "not-an-incident"});
  EXPECT_EQ(bad.exit_code, 1) << bad.out;
  EXPECT_TRUE(absl::StrContains(bad.err, "incident_id")) << bad.err;
}

}  // namespace
}  // namespace forewarn
