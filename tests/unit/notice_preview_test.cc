#include "services/preview/notice_preview.h"

#include <gtest/gtest.h>

#include "tests/unit/fakes.h"

namespace forewarn {
namespace {

const absl::Time kNow = absl::FromUnixSeconds(1'790'000'000);

Recipient Member(int64_t id, const std::string& locale, Channel channel) {
  Recipient r;
  r.customer_id = id;
  r.locale = locale;
  r.channel = channel;
  r.address = channel == Channel::kSms ? "+966500000001" : "c@example.com";
  return r;
}

class NoticePreviewTest : public ::testing::Test {
 protected:
  void SetUp() override {
    NewIncident r;
    r.idempotency_key = "k1";
    r.services = {"electricity"};
    r.regions = {"riyadh"};
    r.reason = {"عطل", "Substation fault"};
    r.expected_restoration_at = kNow + absl::Hours(2);
    auto created = store_.Create(r, kNow, testing::NoPlan);
    ASSERT_TRUE(created.ok()) << created.status();
    id_ = created->id;
    audience_.recipients = {Member(1, "ar", Channel::kSms), Member(1, "ar", Channel::kEmail),
                            Member(2, "ar", Channel::kSms), Member(3, "en", Channel::kEmail)};
    auto budgets = SmsBudgets::Load(std::string(FOREWARN_TEMPLATES_DIR) + "/sms_budgets.json");
    ASSERT_TRUE(budgets.ok()) << budgets.status();
    previewer_ = std::make_unique<NoticePreviewer>(store_, store_, audience_, renderer_, *budgets,
                                                   NoticePreviewer::Rates{1, 0.5});
  }
  testing::FakeIncidentStore store_;
  testing::FakeAudience audience_;
  testing::FakeRenderer renderer_;
  std::unique_ptr<NoticePreviewer> previewer_;
  std::string id_;
};

TEST_F(NoticePreviewTest, OneSamplePerLocaleAndChannelWithSmsCostAndEta) {
  auto p = previewer_->Run(id_, 0, std::nullopt);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->kind, NoticeKind::kOutageStarted);  // what version 1 of an open outage sends
  EXPECT_EQ(p->version, 1);
  EXPECT_EQ(p->sms_recipients, 2);
  EXPECT_EQ(p->email_recipients, 2);
  ASSERT_EQ(p->items.size(), 3u);  // ar/sms, ar/email, en/email
  const PreviewItem& sms = p->items[0];
  EXPECT_EQ(sms.recipient.channel, Channel::kSms);
  EXPECT_EQ(sms.notice.text, "عطل");
  EXPECT_EQ(sms.sms_encoding, "ucs2");
  EXPECT_EQ(sms.sms_segments, 1);
  EXPECT_EQ(sms.sms_budget, 5);  // outage_started (the default), UCS-2
  EXPECT_EQ(p->items[2].notice.text, "Substation fault");
  EXPECT_EQ(p->items[2].sms_segments, 0);  // email: no SMS cost
  // 2 SMS at 1/s, 2 emails at 0.5/s: the slower channel decides.
  ASSERT_TRUE(p->estimated_completion.has_value());
  EXPECT_EQ(*p->estimated_completion, absl::Seconds(4));
}

TEST_F(NoticePreviewTest, OneCustomerOrAClearError) {
  auto p = previewer_->Run(id_, 3, NoticeKind::kOutageRestored);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->kind, NoticeKind::kOutageRestored);
  ASSERT_EQ(p->items.size(), 1u);
  EXPECT_EQ(p->items[0].recipient.customer_id, 3);
  EXPECT_EQ(previewer_->Run(id_, 99, std::nullopt).status().code(), absl::StatusCode::kNotFound);
  auto bad = previewer_->Run(id_, -1, std::nullopt);
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("customer_id"), std::string::npos);
  EXPECT_EQ(previewer_->Run("nope", 0, std::nullopt).status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace forewarn
