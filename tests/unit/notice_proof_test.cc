// Proof of notice's rules (services/core/notice_proof.h) over a scripted
// ProofSource and an injected clock.
#include "services/core/notice_proof.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace forewarn {
namespace {

constexpr char kIncident[] = "3f1c2a5e-0b7d-4c1e-9a8f-2d6b5e4c3a21";

// The rows it is given, in order; records the query it was asked.
class ScriptedProofSource final : public ProofSource {
 public:
  absl::Status Stream(const ProofQuery& query, const std::function<absl::Status(const ProofRow&)>& fn) override {
    asked = query;
    if (!status.ok()) return status;
    for (const ProofRow& r : rows) {
      if (auto s = fn(r); !s.ok()) return s;
    }
    return absl::OkStatus();
  }
  std::vector<ProofRow> rows;
  absl::Status status;
  ProofQuery asked;
};

ProofRequest Req(std::string id, std::string kind = "", std::string occasion = "", bool missed_only = false) {
  return ProofRequest{std::move(id), std::move(kind), std::move(occasion), missed_only};
}

class NoticeProofTest : public ::testing::Test {
 protected:
  ProofRow Row(int64_t customer, Channel channel, NoticeState state, std::optional<absl::Time> receipt = std::nullopt,
               std::optional<Channel> escalated_to = std::nullopt) {
    ProofRow r;
    r.customer_id = customer;
    r.version = 1;
    r.kind = NoticeKind::kMaintenanceReminder;
    r.occasion = "lead-48h";
    r.channel = channel;
    r.state = state;
    r.updated_at = sent_;
    r.deadline = deadline_;
    r.receipt_at = receipt;
    r.escalated_to = escalated_to;
    return r;
  }

  std::vector<NoticeProof> Prove(ProofRequest request, absl::StatusOr<ProofSummary>* summary = nullptr) {
    std::vector<NoticeProof> out;
    auto s = service_.Prove(request, [&](const NoticeProof& p) {
      out.push_back(p);
      return absl::OkStatus();
    });
    if (summary != nullptr) *summary = s;
    return out;
  }

  const absl::Time sent_ = absl::FromUnixSeconds(1'800'000'000);
  const absl::Time deadline_ = sent_ + absl::Hours(1);
  FakeClock clock_{deadline_ + absl::Minutes(5)};  // the deadline has passed
  ScriptedProofSource source_;
  NoticeProofService service_{source_, clock_};
};

TEST(ProofRule, MetWhenDeliveredMissedOnlyOnceTheDeadlinePassedElsePending) {
  const absl::Time deadline = absl::FromUnixSeconds(1'800'000'000);
  EXPECT_EQ(JudgeNotice(true, deadline, deadline + absl::Hours(5)), ProofOutcome::kMet);
  EXPECT_EQ(JudgeNotice(false, deadline, deadline + absl::Seconds(1)), ProofOutcome::kMissed);
  EXPECT_EQ(JudgeNotice(false, deadline, deadline), ProofOutcome::kPending);  // not passed at the deadline itself
  EXPECT_EQ(JudgeNotice(false, deadline, deadline - absl::Hours(1)), ProofOutcome::kPending);
  EXPECT_STREQ(ToString(ProofOutcome::kMissed), "missed");
}

TEST_F(NoticeProofTest, AChannelMeetsTheDeadlineOnlyWhenDeliveredAtOrBeforeIt) {
  source_.rows = {Row(1, Channel::kSms, NoticeState::kDelivered, deadline_),
                  Row(2, Channel::kSms, NoticeState::kDelivered, deadline_ + absl::Seconds(1)),
                  Row(3, Channel::kSms, NoticeState::kSent)};
  const auto proofs = Prove(Req(kIncident));
  ASSERT_EQ(proofs.size(), 3u);
  EXPECT_TRUE(proofs[0].met);
  EXPECT_EQ(proofs[0].channels[0].delivered_at, deadline_);
  EXPECT_EQ(proofs[0].channels[0].sent_at, sent_);
  EXPECT_FALSE(proofs[1].met);
  EXPECT_FALSE(proofs[1].channels[0].met);
  EXPECT_EQ(proofs[1].channels[0].delivered_at, deadline_ + absl::Seconds(1));
  EXPECT_FALSE(proofs[2].met);
  EXPECT_EQ(proofs[2].channels[0].sent_at, sent_);
  EXPECT_FALSE(proofs[2].channels[0].delivered_at.has_value());
}

TEST_F(NoticeProofTest, SentAtOnlyOnceTheProviderAcceptedItAndDeliveredAtOnlyWhenDelivered) {
  source_.rows = {Row(1, Channel::kSms, NoticeState::kUndelivered, sent_ + absl::Minutes(1)),
                  Row(2, Channel::kSms, NoticeState::kExpired, sent_ + absl::Minutes(1)),
                  Row(3, Channel::kSms, NoticeState::kHeld), Row(4, Channel::kSms, NoticeState::kFailed),
                  Row(5, Channel::kSms, NoticeState::kClaimed), Row(6, Channel::kSms, NoticeState::kRetrying),
                  Row(7, Channel::kSms, NoticeState::kDead)};
  const auto proofs = Prove(Req(kIncident));
  ASSERT_EQ(proofs.size(), 7u);
  for (const auto& p : proofs) {
    SCOPED_TRACE(p.customer_id);
    ASSERT_EQ(p.channels.size(), 1u);
    EXPECT_EQ(p.channels[0].sent_at.has_value(), p.customer_id <= 2);
    EXPECT_FALSE(p.channels[0].delivered_at.has_value());
    EXPECT_FALSE(p.met);
  }
}

TEST_F(NoticeProofTest, OneProofPerNoticeWithItsChannelsAndTheEscalationMarkedOnTheChannelEscalatedTo) {
  source_.rows = {Row(1, Channel::kSms, NoticeState::kUndelivered, sent_ + absl::Minutes(1), Channel::kEmail),
                  Row(1, Channel::kEmail, NoticeState::kDelivered, sent_ + absl::Minutes(10)),
                  Row(2, Channel::kSms, NoticeState::kDelivered, sent_ + absl::Minutes(2)),
                  Row(2, Channel::kEmail, NoticeState::kSent)};
  ProofRow later = Row(2, Channel::kSms, NoticeState::kSent);
  later.occasion = "lead-2h";  // the same customer's next reminder: another notice
  source_.rows.push_back(later);
  const auto proofs = Prove(Req(kIncident));
  ASSERT_EQ(proofs.size(), 3u);
  ASSERT_EQ(proofs[0].channels.size(), 2u);
  EXPECT_EQ(proofs[0].channels[0].channel, Channel::kSms);
  EXPECT_FALSE(proofs[0].channels[0].escalation);
  EXPECT_FALSE(proofs[0].channels[0].met);
  EXPECT_EQ(proofs[0].channels[1].channel, Channel::kEmail);
  EXPECT_TRUE(proofs[0].channels[1].escalation);
  EXPECT_TRUE(proofs[0].channels[1].met);
  EXPECT_TRUE(proofs[0].met);
  EXPECT_EQ(proofs[1].customer_id, 2);
  EXPECT_EQ(proofs[1].channels.size(), 2u);
  EXPECT_FALSE(proofs[1].channels[1].escalation);
  EXPECT_TRUE(proofs[1].met);
  EXPECT_EQ(proofs[2].occasion, "lead-2h");
  EXPECT_EQ(proofs[2].channels.size(), 1u);
}

TEST_F(NoticeProofTest, TheSummaryCountsMetMissedAndPendingAgainstTheClock) {
  ProofRow pending = Row(3, Channel::kSms, NoticeState::kSent);
  pending.deadline = clock_.Now() + absl::Hours(1);
  source_.rows = {Row(1, Channel::kSms, NoticeState::kDelivered, sent_), Row(2, Channel::kSms, NoticeState::kSent),
                  pending};
  absl::StatusOr<ProofSummary> summary;
  EXPECT_EQ(Prove(Req(kIncident), &summary).size(), 3u);
  ASSERT_TRUE(summary.ok()) << summary.status();
  EXPECT_EQ(summary->customers, 3);
  EXPECT_EQ(summary->met, 1);
  EXPECT_EQ(summary->missed, 1);
  EXPECT_EQ(summary->pending, 1);
  // An hour and a half later the pending one is missed too.
  clock_.Advance(absl::Minutes(90));
  Prove(Req(kIncident), &summary);
  EXPECT_EQ(summary->missed, 2);
  EXPECT_EQ(summary->pending, 0);
}

TEST_F(NoticeProofTest, MissedOnlyListsTheMissedButTheSummaryCountsEveryNotice) {
  ProofRow pending = Row(3, Channel::kSms, NoticeState::kSent);
  pending.deadline = clock_.Now() + absl::Hours(1);
  source_.rows = {Row(1, Channel::kSms, NoticeState::kDelivered, sent_), Row(2, Channel::kSms, NoticeState::kSent),
                  pending, Row(4, Channel::kSms, NoticeState::kExpired, sent_)};
  absl::StatusOr<ProofSummary> summary;
  const auto proofs = Prove(Req(kIncident, "", "", /*missed_only=*/true), &summary);
  ASSERT_EQ(proofs.size(), 2u);
  EXPECT_EQ(proofs[0].customer_id, 2);
  EXPECT_EQ(proofs[1].customer_id, 4);
  ASSERT_TRUE(summary.ok());
  EXPECT_EQ(summary->customers, 4);
  EXPECT_EQ(summary->met, 1);
  EXPECT_EQ(summary->missed, 2);
  EXPECT_EQ(summary->pending, 1);
}

TEST_F(NoticeProofTest, PassesTheFiltersAndRefusesAMalformedIdOrAnUnknownKindNamingTheField) {
  EXPECT_TRUE(Prove(Req(kIncident, "maintenance_reminder", "lead-48h")).empty());
  EXPECT_EQ(source_.asked.incident_id, kIncident);
  EXPECT_EQ(source_.asked.notice_kind, "maintenance_reminder");
  EXPECT_EQ(source_.asked.occasion, "lead-48h");
  absl::StatusOr<ProofSummary> summary;
  Prove(Req("not-a-uuid"), &summary);
  EXPECT_EQ(summary.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(summary.status().message(), "incident_id: must be a UUID");
  Prove(Req(""), &summary);
  EXPECT_EQ(summary.status().message(), "incident_id: is required");
  Prove(Req(kIncident, "reminder"), &summary);
  EXPECT_EQ(summary.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(summary.status().message(), "notice_kind: unknown notice kind 'reminder'");
}

TEST_F(NoticeProofTest, TheSourcesErrorAndTheEmittersStopAreReturned) {
  source_.status = absl::NotFoundError("incident x not found");
  absl::StatusOr<ProofSummary> summary;
  Prove(Req(kIncident), &summary);
  EXPECT_EQ(summary.status().code(), absl::StatusCode::kNotFound);
  source_.status = absl::OkStatus();
  source_.rows = {Row(1, Channel::kSms, NoticeState::kSent), Row(2, Channel::kSms, NoticeState::kSent),
                  Row(3, Channel::kSms, NoticeState::kSent)};
  int emitted = 0;
  auto stopped = service_.Prove(Req(kIncident), [&](const NoticeProof&) {
    ++emitted;
    return absl::CancelledError("the caller went away");
  });
  EXPECT_EQ(stopped.status().code(), absl::StatusCode::kCancelled);
  EXPECT_EQ(emitted, 1);
}

}  // namespace
}  // namespace forewarn
