// Escalation: where a notice that was not delivered goes (DecideEscalation)
// and one round of the scheduler's escalations (Escalator) over fakes.
#include "services/core/escalation.h"

#include <gtest/gtest.h>

namespace forewarn {
namespace {

const absl::Time kNow = absl::FromUnixSeconds(1798000000);

EscalationCandidate Candidate(Channel channel, int64_t customer = 7) {
  EscalationCandidate c;
  c.key = NoticeKey{"6f1c1b2e-3a4d-4e5f-8a9b-0c1d2e3f4a5b", 2, NoticeKind::kMaintenanceReminder, "lead-48h", customer,
                    channel};
  c.state = NoticeState::kUndelivered;
  c.name = "Sara";
  c.locale = "ar";
  c.time_zone = "Asia/Riyadh";
  c.phone = "+966512345678";
  c.email = "sara@example.com";
  return c;
}

TEST(DecideEscalation, SmsGoesToEmailWithTheSameNotice) {
  const EscalationDecision d = DecideEscalation(Candidate(Channel::kSms));
  ASSERT_EQ(d.action, EscalationDecision::Action::kEscalate);
  EXPECT_EQ(d.to, Channel::kEmail);
  EXPECT_EQ(d.job.incident_id, d.key.incident_id);
  EXPECT_EQ(d.job.version, 2);
  EXPECT_EQ(d.job.kind, NoticeKind::kMaintenanceReminder);
  EXPECT_EQ(d.job.occasion, "lead-48h");
  EXPECT_EQ(d.job.recipient.channel, Channel::kEmail);
  EXPECT_EQ(d.job.recipient.address, "sara@example.com");
  EXPECT_EQ(d.job.recipient.locale, "ar");
  EXPECT_EQ(d.job.recipient.time_zone, "Asia/Riyadh");
  EXPECT_EQ(KeyOf(d.job).channel, Channel::kEmail);
}

TEST(DecideEscalation, EmailGoesToSms) {
  const EscalationDecision d = DecideEscalation(Candidate(Channel::kEmail));
  ASSERT_EQ(d.action, EscalationDecision::Action::kEscalate);
  EXPECT_EQ(d.job.recipient.channel, Channel::kSms);
  EXPECT_EQ(d.job.recipient.address, "+966512345678");
}

TEST(DecideEscalation, OnceTheOtherChannelHasItOnlyTheTimerStops) {
  EscalationCandidate c = Candidate(Channel::kSms);
  c.other_channel_noticed = true;
  EXPECT_EQ(DecideEscalation(c).action, EscalationDecision::Action::kOtherHasIt);
}

TEST(DecideEscalation, NoOtherAddressOrAnOptOutIsUndeliverable) {
  EscalationCandidate c = Candidate(Channel::kSms);
  c.email.clear();
  EXPECT_EQ(DecideEscalation(c).action, EscalationDecision::Action::kNoOtherChannel);
  c = Candidate(Channel::kSms);
  c.opted_out = 1 << (2 * static_cast<int>(NoticeCategory::kPlannedMaintenance) + 1);  // maintenance email
  EXPECT_EQ(DecideEscalation(c).action, EscalationDecision::Action::kNoOtherChannel);
  c.opted_out = 1 << 1;  // outage email: another category
  EXPECT_EQ(DecideEscalation(c).action, EscalationDecision::Action::kEscalate);
}

class FakeStore : public EscalationStore {
 public:
  absl::StatusOr<std::vector<EscalationCandidate>> FetchDue(absl::Time now, int limit) override {
    fetched_at = now;
    return due;
  }
  absl::Status Settle(const std::vector<EscalationDecision>& decisions, absl::Time now) override {
    settled = decisions;
    return absl::OkStatus();
  }
  std::vector<EscalationCandidate> due;
  std::vector<EscalationDecision> settled;
  absl::Time fetched_at;
};

class FakeSink : public NoticeSink {
 public:
  absl::Status Enqueue(const NoticeJob& job) override {
    queued.push_back(job);
    return absl::OkStatus();
  }
  absl::Status Flush() override {
    if (!flush_status.ok()) return flush_status;
    flushed = queued;
    return absl::OkStatus();
  }
  std::vector<NoticeJob> queued, flushed;
  absl::Status flush_status = absl::OkStatus();
};

TEST(Escalator, PublishesThenStopsTheTimers) {
  FakeStore store;
  FakeSink sink;
  EscalationCandidate other = Candidate(Channel::kSms, 8);
  other.other_channel_noticed = true;
  EscalationCandidate none = Candidate(Channel::kSms, 9);
  none.email.clear();
  store.due = {Candidate(Channel::kSms), other, none};
  Escalator escalator(store, sink, 10);
  auto round = escalator.RunOnce(kNow);
  ASSERT_TRUE(round.ok()) << round.status();
  EXPECT_EQ(round->escalated, 1);
  EXPECT_EQ(round->other_has_it, 1);
  EXPECT_EQ(round->undeliverable, 1);
  EXPECT_FALSE(round->full);
  ASSERT_EQ(sink.flushed.size(), 1u);
  EXPECT_EQ(sink.flushed[0].recipient.customer_id, 7);
  EXPECT_EQ(store.settled.size(), 3u);
  EXPECT_EQ(store.fetched_at, kNow);
}

TEST(Escalator, ABrokerFailureStopsNoTimer) {
  FakeStore store;
  FakeSink sink;
  sink.flush_status = absl::UnavailableError("broker down");
  store.due = {Candidate(Channel::kSms)};
  Escalator escalator(store, sink, 1);
  EXPECT_EQ(escalator.RunOnce(kNow).status().code(), absl::StatusCode::kUnavailable);
  EXPECT_TRUE(store.settled.empty());
}

}  // namespace
}  // namespace forewarn
