// The receipt routes of the public endpoint over real HTTP on loopback:
// Kannel's dlr-url callbacks and the generic JSON form, their signatures
// (a forged receipt is refused and counted, and reaches no store), the
// report types, and field-naming errors. The store behind them is a
// recording fake here; PgReceiptStore is tested on the real PostgreSQL
// (tests/integration/pg_receipts_test.cc) and the whole chain in tests/e2e.
#include <gtest/gtest.h>
#include <httplib.h>

#include <atomic>
#include <mutex>
#include <thread>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "services/core/clock.h"
#include "services/public_http/public_server.h"
#include "services/public_http/receipt_requests.h"
#include "tests/http/memory_customer_store.h"

namespace forewarn {
namespace {

const absl::Time kNow = absl::FromUnixSeconds(1798000000);

class RecordingStore final : public ReceiptStore {
 public:
  absl::StatusOr<ReceiptTally> Record(const std::vector<Receipt>& receipts, absl::Time now) override {
    std::lock_guard lock(mu);
    recorded.insert(recorded.end(), receipts.begin(), receipts.end());
    ReceiptTally t;
    t.applied = static_cast<int64_t>(receipts.size());
    return t;
  }
  absl::StatusOr<ReceiptTally> ApplyPending(absl::Time, absl::Duration) override { return ReceiptTally{}; }
  std::mutex mu;
  std::vector<Receipt> recorded;
};

class FixedClock final : public Clock {
 public:
  absl::Time Now() const override { return kNow; }
};

std::string MessageId(int64_t customer) {
  return MessageIdFor(
      NoticeKey{"6f1c1b2e-3a4d-4e5f-8a9b-0c1d2e3f4a5b", 1, NoticeKind::kOutageStarted, "", customer, Channel::kSms});
}

class ReceiptRoutesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto server = PublicHttpServer::Start(PublicHttpOptions{}, nullptr, directory_, metrics_,
                                          PublicReceipts{&store_, &signer_, &clock_});
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    client_ = std::make_unique<httplib::Client>("127.0.0.1", server_->port());
  }
  httplib::Result Kannel(const std::string& ref, const std::string& sig, const std::string& type,
                         const std::string& reply = "") {
    httplib::Params params{{"ref", ref}, {"sig", sig}, {"type", type}, {"at", "1798000100"}, {"reply", reply}};
    return client_->Get("/receipts/kannel", params, httplib::Headers{});
  }
  httplib::Result Json(const std::string& body, const std::string& signature) {
    return client_->Post("/receipts", httplib::Headers{{"X-Forewarn-Signature", signature}}, body,
                         "application/json");
  }
  double Metric(const std::string& line) {
    const std::string text = "\n" + metrics_.Render();
    const size_t at = text.find("\n" + line + " ");
    return at == std::string::npos ? 0 : std::stod(text.substr(at + line.size() + 2));
  }

  ReceiptSigner signer_ = *ReceiptSigner::FromSecret(std::string(40, 'r'));
  RecordingStore store_;
  FixedClock clock_;
  MemoryCustomerStore customers_;
  CustomerDirectoryService directory_{customers_, ContactRules{}};
  MetricsRegistry metrics_;
  std::unique_ptr<PublicHttpServer> server_;
  std::unique_ptr<httplib::Client> client_;
};

TEST_F(ReceiptRoutesTest, KannelDeliveredAndFailedReportsAreRecorded) {
  const std::string a = MessageId(1), b = MessageId(2), c = MessageId(3);
  auto res = Kannel(a, signer_.Sign(a), "1", "id:77 sub:001 dlvrd:001 submit date:2612060910 done date:2612060911 "
                                             "stat:DELIVRD err:000 text:x");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200) << res->body;
  EXPECT_NE(res->body.find("\"applied\":1"), std::string::npos) << res->body;
  ASSERT_EQ(Kannel(b, signer_.Sign(b), "2", "id:78 stat:UNDELIV err:001")->status, 200);
  ASSERT_EQ(Kannel(c, signer_.Sign(c), "2", "id:79 stat:EXPIRED err:000")->status, 200);
  ASSERT_EQ(store_.recorded.size(), 3u);
  EXPECT_EQ(store_.recorded[0].message_id, a);
  EXPECT_EQ(store_.recorded[0].status, ReceiptStatus::kDelivered);
  EXPECT_EQ(store_.recorded[0].reported_at, absl::FromUnixSeconds(1798000100));
  EXPECT_EQ(store_.recorded[0].source, "kannel");
  EXPECT_EQ(store_.recorded[1].status, ReceiptStatus::kUndelivered);
  EXPECT_EQ(store_.recorded[2].status, ReceiptStatus::kExpired);
  EXPECT_EQ(Metric("forewarn_receipts_total{source=\"kannel\",status=\"delivered\"}"), 1);
  EXPECT_EQ(Metric("forewarn_receipt_outcomes_total{outcome=\"applied\"}"), 3);
}

TEST_F(ReceiptRoutesTest, AForgedReceiptIsRefusedCountedAndRecordsNothing) {
  const std::string a = MessageId(1), b = MessageId(2);
  EXPECT_EQ(Kannel(a, "", "1")->status, 401);
  EXPECT_EQ(Kannel(a, signer_.Sign(b), "1")->status, 401);  // another notice's signature
  auto other = ReceiptSigner::FromSecret(std::string(40, 'x'));
  EXPECT_EQ(Kannel(a, other->Sign(a), "1")->status, 401);  // someone else's key
  const std::string body = absl::StrCat(R"({"message_id":")", a, R"(","status":"delivered"})");
  EXPECT_EQ(Json(body, signer_.Sign(body + " "))->status, 401);
  EXPECT_EQ(Json(body, "")->status, 401);
  EXPECT_TRUE(store_.recorded.empty());
  EXPECT_EQ(Metric("forewarn_public_auth_refused_total{route=\"/receipts/kannel\"}"), 3);
  EXPECT_EQ(Metric("forewarn_public_auth_refused_total{route=\"/receipts\"}"), 2);
}

TEST_F(ReceiptRoutesTest, IntermediateReportsSettleNothing) {
  const std::string a = MessageId(1);
  for (const char* type : {"4", "8"}) {
    auto res = Kannel(a, signer_.Sign(a), type);
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 200);
  }
  EXPECT_EQ(Kannel(a, signer_.Sign(a), "5")->status, 400);
  EXPECT_EQ(Kannel(a, signer_.Sign(a), "%d")->status, 400);
  EXPECT_TRUE(store_.recorded.empty());
  EXPECT_EQ(Metric("forewarn_receipt_outcomes_total{outcome=\"ignored\"}"), 2);
}

TEST_F(ReceiptRoutesTest, TheJsonFormTakesMessageOrProviderIdsAndNamesTheFieldAtFault) {
  const std::string body = absl::StrCat(R"({"receipts":[{"message_id":")", MessageId(4),
                                        R"(","status":"undelivered","at":"2026-12-06T09:30:00Z","detail":"550 full"},)",
                                        R"({"provider_id":"ESP-1","status":"delivered","source":"ses"}]})");
  auto res = Json(body, signer_.Sign(body));
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200) << res->body;
  ASSERT_EQ(store_.recorded.size(), 2u);
  EXPECT_EQ(store_.recorded[0].status, ReceiptStatus::kUndelivered);
  EXPECT_EQ(store_.recorded[0].detail, "550 full");
  EXPECT_EQ(store_.recorded[0].reported_at,
            absl::FromCivil(absl::CivilMinute(2026, 12, 6, 9, 30), absl::UTCTimeZone()));
  EXPECT_EQ(store_.recorded[1].provider_id, "ESP-1");
  EXPECT_EQ(store_.recorded[1].source, "ses");

  for (const auto& [bad, field] : std::vector<std::pair<std::string, std::string>>{
           {R"({"receipts":[{"provider_id":"x","status":"read"}]})", "receipts[0].status"},
           {R"({"receipts":[{"status":"delivered"}]})", "receipts[0]: needs exactly one"},
           {R"({"receipts":[{"message_id":"<x@y>","status":"delivered"}]})", "receipts[0].message_id"},
           {R"({"receipts":[{"provider_id":"x","status":"delivered","at":"yesterday"}]})", "receipts[0].at"},
           {R"({"receipts":[]})", "receipts: must not be empty"},
           {"not json", "body: not JSON"}}) {
    auto r = Json(bad, signer_.Sign(bad));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 400) << bad;
    EXPECT_NE(r->body.find(field), std::string::npos) << r->body;
  }
  EXPECT_EQ(store_.recorded.size(), 2u);
}

// smsbox calls the dlr-urls of a whole fan-out at once: a burst of 200
// connections opened together is answered, every one (with cpp-httplib's
// compiled listen backlog of 5, some hung unanswered).
TEST_F(ReceiptRoutesTest, ABurstOfCallbacksOpenedTogetherIsAnsweredEveryOne) {
  constexpr int kCallbacks = 200;
  std::vector<std::thread> callers;
  std::atomic<int> answered{0};
  for (int i = 0; i < kCallbacks; ++i) {
    callers.emplace_back([&, i] {
      httplib::Client client("127.0.0.1", server_->port());
      client.set_connection_timeout(20, 0);
      client.set_read_timeout(20, 0);
      const std::string id = MessageId(1000 + i);
      httplib::Params params{{"ref", id}, {"sig", signer_.Sign(id)}, {"type", "1"}};
      auto res = client.Get("/receipts/kannel", params, httplib::Headers{});
      if (res && res->status == 200) ++answered;
    });
  }
  for (auto& t : callers) t.join();
  EXPECT_EQ(answered.load(), kCallbacks);
  EXPECT_EQ(store_.recorded.size(), static_cast<size_t>(kCallbacks));
}

TEST(ReceiptRoutesOff, WithoutASignerTheRoutesAreNotThere) {
  MemoryCustomerStore customers;
  CustomerDirectoryService directory(customers, ContactRules{});
  MetricsRegistry metrics;
  auto server = PublicHttpServer::Start(PublicHttpOptions{}, nullptr, directory, metrics);
  ASSERT_TRUE(server.ok());
  httplib::Client client("127.0.0.1", (*server)->port());
  EXPECT_EQ(client.Get("/receipts/kannel?ref=x&sig=y&type=1")->status, 404);
  EXPECT_EQ(client.Post("/receipts", "{}", "application/json")->status, 404);
}

}  // namespace
}  // namespace forewarn
