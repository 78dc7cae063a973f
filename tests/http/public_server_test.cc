// The public endpoint over real HTTP on loopback (cpp-httplib's client), with
// the real CustomerDirectoryService over an in-memory CustomerStore: the
// HTTP behaviour (routes, status codes, pages, authentication, limits,
// metrics). The PostgreSQL store behind it is tested in tests/e2e.
#include "services/public_http/public_server.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <map>
#include <mutex>
#include <string>

#include "absl/strings/str_cat.h"
#include "notifier/sms/phone.h"
#include "services/directory/directory_service.h"
#include "services/public_http/inbound_sms.h"
#include "tests/http/memory_customer_store.h"

namespace forewarn {
namespace {

const std::string kSecret(40, 'k');
const std::string kGatewayKey = "gateway-shared-secret-0123";

Customer MakeCustomer(int64_t id, std::string phone, std::string email, std::string locale) {
  Customer c;
  c.id = id;
  c.external_id = absl::StrCat("crm-", id);
  c.locale = std::move(locale);
  c.time_zone = "Asia/Riyadh";
  c.phone = std::move(phone);
  c.email = std::move(email);
  return c;
}

class PublicServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_.Add(MakeCustomer(7, "+966501234567", "sara@example.com", "ar"));
    store_.Add(MakeCustomer(8, "+966501234568", "john@example.com", "en"));
    store_.Add(MakeCustomer(9, "", "noor@example.com", "ar"));  // email only
    PublicHttpOptions options;
    options.inbound_sms_secret = kGatewayKey;
    auto server = PublicHttpServer::Start(options, &tokens_, directory_, metrics_);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    client_ = std::make_unique<httplib::Client>("127.0.0.1", server_->port());
    client_->set_read_timeout(5, 0);
  }

  std::string Link(int64_t id, NoticeCategory category = NoticeCategory::kPlannedMaintenance) {
    return absl::StrCat("/u/", tokens_.Sign({id, category, Channel::kEmail}));
  }
  httplib::Result OneClick(const std::string& path) {
    return client_->Post(path, "List-Unsubscribe=One-Click", "application/x-www-form-urlencoded");
  }
  httplib::Result Inbound(const std::string& body, const std::string& type = "application/x-www-form-urlencoded") {
    return client_->Post(absl::StrCat("/sms/inbound?key=", kGatewayKey), body, type);
  }
  double Metric(const std::string& line) {
    const std::string text = "\n" + metrics_.Render();
    const size_t at = text.find("\n" + line + " ");
    return at == std::string::npos ? 0 : std::stod(text.substr(at + line.size() + 2));
  }

  UnsubscribeTokens tokens_ = *UnsubscribeTokens::FromKeys({{1, kSecret}});
  MemoryCustomerStore store_;
  CustomerDirectoryService directory_{
      store_, ContactRules{[](std::string_view p) { return NormalizeE164(p); }, IsPlausibleEmail}};
  MetricsRegistry metrics_;
  std::unique_ptr<PublicHttpServer> server_;
  std::unique_ptr<httplib::Client> client_;
};

TEST_F(PublicServerTest, GetShowsABilingualConfirmationAndChangesNothing) {
  auto res = client_->Get(Link(7));
  ASSERT_TRUE(res) << httplib::to_string(res.error());
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->get_header_value("Content-Type"), "text/html; charset=utf-8");
  EXPECT_NE(res->body.find("<section lang=\"ar\" dir=\"rtl\">"), std::string::npos);
  EXPECT_NE(res->body.find("<section lang=\"en\" dir=\"ltr\">"), std::string::npos);
  EXPECT_NE(res->body.find("Stop these emails?"), std::string::npos);
  EXPECT_NE(res->body.find("إيقاف هذه الرسائل؟"), std::string::npos);
  EXPECT_NE(res->body.find(absl::StrCat("<form method=\"post\" action=\"", Link(7), "\"")), std::string::npos);
  EXPECT_NE(res->body.find("name=\"List-Unsubscribe\" value=\"One-Click\""), std::string::npos);
  EXPECT_EQ(res->get_header_value("Cache-Control"), "no-store");
  EXPECT_EQ(res->get_header_value("Referrer-Policy"), "no-referrer");
  EXPECT_NE(res->get_header_value("Content-Security-Policy").find("default-src 'none'"), std::string::npos);
  EXPECT_EQ(store_.writes(), 0);
  EXPECT_TRUE(store_.At(7).preferences.planned_maintenance.email);
  auto head = client_->Head(Link(7));  // scanners HEAD links too
  ASSERT_TRUE(head);
  EXPECT_EQ(head->status, 200);
  EXPECT_EQ(store_.writes(), 0);
}

TEST_F(PublicServerTest, OneClickTurnsEmailOffForTheCategoryOnlyAndIsIdempotent) {
  for (int i = 0; i < 2; ++i) {
    auto res = OneClick(Link(7));
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 200) << res->body;
    EXPECT_NE(res->body.find("You will no longer receive emails about planned maintenance"), std::string::npos);
  }
  const Preferences p = store_.At(7).preferences;
  EXPECT_FALSE(p.planned_maintenance.email);
  EXPECT_TRUE(p.planned_maintenance.sms);
  EXPECT_TRUE(p.unplanned_outages.email);
  EXPECT_TRUE(store_.At(8).preferences.planned_maintenance.email);  // nobody else
  EXPECT_EQ(Metric("forewarn_unsubscribes_total{category=\"planned_maintenance\",outcome=\"unsubscribed\"}"), 2);
}

TEST_F(PublicServerTest, OneClickAcceptsMultipartFormData) {
  httplib::MultipartFormDataItems items = {{"List-Unsubscribe", "One-Click", "", ""}};
  auto res = client_->Post(Link(8), items);
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200) << res->body;
  EXPECT_FALSE(store_.At(8).preferences.planned_maintenance.email);
}

TEST_F(PublicServerTest, PostWithoutOneClickIsABadRequest) {
  for (const std::string& body : {std::string(), std::string("List-Unsubscribe=Maybe")}) {
    auto res = client_->Post(Link(7), body, "application/x-www-form-urlencoded");
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 400) << body;
  }
  EXPECT_EQ(store_.writes(), 0);
}

TEST_F(PublicServerTest, TamperedTruncatedOrForeignTokensAre404AndCounted) {
  std::string tampered = Link(7);
  tampered[5] = tampered[5] == 'A' ? 'B' : 'A';
  const UnsubscribeTokens other = *UnsubscribeTokens::FromKeys({{1, std::string(40, 'o')}});
  const std::string foreign = absl::StrCat("/u/", other.Sign({7, NoticeCategory::kPlannedMaintenance, Channel::kEmail}));
  const std::string truncated = Link(7).substr(0, 20);
  for (const std::string& path : {tampered, foreign, truncated}) {
    auto get = client_->Get(path);
    ASSERT_TRUE(get);
    EXPECT_EQ(get->status, 404) << path;
    EXPECT_NE(get->body.find("This link is not valid"), std::string::npos);
    auto post = OneClick(path);
    ASSERT_TRUE(post);
    EXPECT_EQ(post->status, 404) << path;
  }
  EXPECT_EQ(store_.writes(), 0);
  EXPECT_EQ(Metric("forewarn_unsubscribe_invalid_tokens_total"), 6);
  auto odd = client_->Get("/u/not a token");
  ASSERT_TRUE(odd);
  EXPECT_EQ(odd->status, 404);
}

TEST_F(PublicServerTest, EmailOffForAnUnsilenceableCategoryWhileSmsRemains) {
  auto res = OneClick(Link(7, NoticeCategory::kUnplannedOutages));
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200) << res->body;
  EXPECT_FALSE(store_.At(7).preferences.unplanned_outages.email);
  EXPECT_TRUE(store_.At(7).preferences.unplanned_outages.sms);
}

TEST_F(PublicServerTest, RefusedByPolicyIs409WithAPageSayingSo) {
  Customer only_email = store_.At(9);
  only_email.preferences.unplanned_outages.sms = false;  // email is all that is left
  store_.Add(only_email);
  auto res = OneClick(Link(9, NoticeCategory::kUnplannedOutages));
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 409) << res->body;
  EXPECT_NE(res->body.find("These notices cannot be turned off"), std::string::npos);
  EXPECT_TRUE(store_.At(9).preferences.unplanned_outages.email);
  EXPECT_EQ(Metric("forewarn_unsubscribes_total{category=\"unplanned_outages\",outcome=\"refused_by_policy\"}"), 1);
}

TEST_F(PublicServerTest, ErasedCustomerIs404AndAStoreOutage503) {
  store_.Erase(8);
  auto gone = OneClick(Link(8));
  ASSERT_TRUE(gone);
  EXPECT_EQ(gone->status, 404);
  store_.set_down(true);
  auto down = OneClick(Link(7));
  ASSERT_TRUE(down);
  EXPECT_EQ(down->status, 503);
}

TEST_F(PublicServerTest, InboundSmsNeedsTheSharedSecret) {
  for (const std::string& path : {std::string("/sms/inbound"), std::string("/sms/inbound?key=wrong")}) {
    auto res = client_->Post(path, "from=%2B966501234567&text=STOP", "application/x-www-form-urlencoded");
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 401) << path;
  }
  httplib::Headers wrong_bearer = {{"Authorization", "Bearer nope"}};
  auto res = client_->Post("/sms/inbound", wrong_bearer, "from=%2B966501234567&text=STOP",
                           "application/x-www-form-urlencoded");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 401);
  EXPECT_EQ(store_.writes(), 0);
  EXPECT_EQ(Metric("forewarn_public_auth_refused_total{route=\"/sms/inbound\"}"), 3);

  httplib::Headers bearer = {{"Authorization", "Bearer " + kGatewayKey}};
  auto ok = client_->Post("/sms/inbound", bearer, "from=%2B966501234568&text=STOP", "application/x-www-form-urlencoded");
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200);
  EXPECT_FALSE(store_.At(8).preferences.planned_maintenance.sms);
}

TEST_F(PublicServerTest, StopAndStartInEitherLanguageAnsweredInTheCustomersLanguage) {
  auto stop = Inbound("from=%2B966501234567&text=+stop+");  // Arabic-speaking customer, English keyword
  ASSERT_TRUE(stop);
  EXPECT_EQ(stop->status, 200);
  EXPECT_NE(stop->body.find("أرسل بدء"), std::string::npos) << stop->body;
  Preferences p = store_.At(7).preferences;
  EXPECT_FALSE(p.planned_maintenance.sms);
  EXPECT_FALSE(p.unplanned_outages.sms);  // email remains for outages
  EXPECT_TRUE(p.planned_maintenance.email);

  auto start = Inbound(R"({"from":"+966501234567","text":"بدء"})", "application/json");
  ASSERT_TRUE(start);
  EXPECT_EQ(start->status, 200);
  EXPECT_TRUE(store_.At(7).preferences.planned_maintenance.sms);

  auto arabic_stop = Inbound(R"({"from":"966501234568","text":"إيقاف"})", "application/json");  // no '+'
  ASSERT_TRUE(arabic_stop);
  EXPECT_EQ(arabic_stop->status, 200);
  EXPECT_NE(arabic_stop->body.find("Reply START"), std::string::npos) << arabic_stop->body;  // English customer
  EXPECT_FALSE(store_.At(8).preferences.planned_maintenance.sms);
  EXPECT_EQ(Metric("forewarn_inbound_sms_total{keyword=\"stop\"}"), 2);
  EXPECT_EQ(Metric("forewarn_inbound_sms_total{keyword=\"start\"}"), 1);
}

TEST_F(PublicServerTest, OtherTextsAndUnknownNumbersGet200WithoutRevealingAnything) {
  auto chat = Inbound("from=%2B966501234567&text=when+is+power+back%3F");
  ASSERT_TRUE(chat);
  EXPECT_EQ(chat->status, 200);
  EXPECT_EQ(chat->body, "");
  auto stranger = Inbound("from=%2B966501239999&text=STOP");
  auto customer = Inbound("from=%2B966501234568&text=STOP");
  ASSERT_TRUE(stranger);
  ASSERT_TRUE(customer);
  EXPECT_EQ(stranger->status, 200);
  EXPECT_EQ(stranger->body, customer->body);
  auto not_a_number = Inbound("from=hello&text=STOP");
  ASSERT_TRUE(not_a_number);
  EXPECT_EQ(not_a_number->status, 200);
  EXPECT_EQ(Metric("forewarn_inbound_sms_total{keyword=\"other\"}"), 1);
  auto no_sender = Inbound("text=STOP");
  ASSERT_TRUE(no_sender);
  EXPECT_EQ(no_sender->status, 400);
}

TEST_F(PublicServerTest, BodiesOver64KiBAreRefused) {
  const std::string big = "List-Unsubscribe=One-Click&pad=" + std::string(70 * 1024, 'x');
  auto res = client_->Post(Link(7), big, "application/x-www-form-urlencoded");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 413);
  EXPECT_EQ(store_.writes(), 0);
}

TEST_F(PublicServerTest, UnknownPathsAre404) {
  auto res = client_->Get("/metrics");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 404);
}

// A store the test must not reach.
class UnusedStore final : public CustomerStore {
 public:
  absl::StatusOr<Catalog> LoadCatalog() override { return Fail(); }
  absl::StatusOr<std::vector<UpsertRow>> Upsert(const std::vector<Customer>&, bool) override { return Fail(); }
  absl::Status MarkSeen(const std::string&, const std::vector<std::string>&) override { return Fail(); }
  absl::StatusOr<int64_t> EraseUnseen(const std::string&, bool) override { return Fail(); }
  absl::Status ForgetSync(const std::string&) override { return Fail(); }
  absl::StatusOr<Customer> Get(std::string_view) override { return Fail(); }
  absl::StatusOr<Erasure> Erase(std::string_view) override { return Fail(); }
  absl::StatusOr<CustomerPage> List(const CustomerFilter&) override { return Fail(); }
  absl::StatusOr<std::vector<Customer>> ModifyPreferences(
      const CustomerSelector&, PreferenceSource,
      const std::function<absl::StatusOr<Preferences>(const Customer&)>&) override {
    return Fail();
  }

 private:
  static absl::Status Fail() { return absl::InternalError("must not be called"); }
};

TEST(PublicServer, WithoutTokensOrGatewaySecretThoseRoutesAre404) {
  MetricsRegistry metrics;
  UnusedStore store;
  CustomerDirectoryService directory(store, ContactRules{});
  auto server = PublicHttpServer::Start(PublicHttpOptions{}, nullptr, directory, metrics);
  ASSERT_TRUE(server.ok()) << server.status();
  httplib::Client client("127.0.0.1", (*server)->port());
  const std::string token = UnsubscribeTokens::FromKeys({{1, kSecret}})->Sign({1, NoticeCategory::kPlannedMaintenance,
                                                                                Channel::kEmail});
  auto link = client.Post("/u/" + token, "List-Unsubscribe=One-Click", "application/x-www-form-urlencoded");
  ASSERT_TRUE(link);
  EXPECT_EQ(link->status, 404);
  auto sms = client.Post("/sms/inbound?key=x", "from=1&text=STOP", "application/x-www-form-urlencoded");
  ASSERT_TRUE(sms);
  EXPECT_EQ(sms->status, 404);
}

TEST(PublicServer, BadListenAddressIsInvalidArgument) {
  MetricsRegistry metrics;
  UnusedStore store;
  CustomerDirectoryService directory(store, ContactRules{});
  PublicHttpOptions options;
  options.listen = "no-port";
  auto server = PublicHttpServer::Start(options, nullptr, directory, metrics);
  ASSERT_FALSE(server.ok());
  EXPECT_EQ(server.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(server.status().message().find("--public-listen"), std::string::npos);
}

TEST(SmsKeyword, RecognisesTheCommandsInBothLanguagesAndNothingElse) {
  for (const char* stop : {"STOP", "stop", " Stop.", "STOP  ALL", "stop all!", "Unsubscribe", "إيقاف", "ايقاف",
                           " إيقاف\n"}) {
    EXPECT_EQ(ParseSmsKeyword(stop), SmsKeyword::kStop) << stop;
  }
  for (const char* start : {"START", "start", "Unstop", "بدء", "بدء."}) {
    EXPECT_EQ(ParseSmsKeyword(start), SmsKeyword::kStart) << start;
  }
  for (const char* other : {"", "please stop texting me", "STOPP", "STAR", "stop stop", "إيقاف الآن"}) {
    EXPECT_EQ(ParseSmsKeyword(other), SmsKeyword::kNone) << other;
  }
  EXPECT_EQ(KeywordLocale("إيقاف"), "ar");
  EXPECT_EQ(KeywordLocale("STOP"), "en");
}

TEST(SmsKeyword, SenderGetsItsPlusBack) {
  EXPECT_EQ(GatewaySender(" 966501234567"), "+966501234567");  // '+' read as a space in a form
  EXPECT_EQ(GatewaySender("966501234567"), "+966501234567");
  EXPECT_EQ(GatewaySender("+966501234567"), "+966501234567");
  EXPECT_EQ(GatewaySender("0501234567"), "0501234567");  // national: libphonenumber reads it in SA
  EXPECT_EQ(GatewaySender("501234"), "501234");
}

TEST(SmsKeyword, RepliesInTheRequestedLanguage) {
  EXPECT_NE(SmsReply(SmsKeyword::kStop, "ar").find("أرسل بدء"), std::string::npos);
  EXPECT_NE(SmsReply(SmsKeyword::kStop, "en").find("Reply START"), std::string::npos);
  EXPECT_NE(SmsReply(SmsKeyword::kStart, "ar-SA").find("إيقاف"), std::string::npos);
  EXPECT_NE(SmsReply(SmsKeyword::kStart, "fr").find("Reply STOP"), std::string::npos);
  EXPECT_EQ(SmsReply(SmsKeyword::kNone, "en"), "");
}

}  // namespace
}  // namespace forewarn
