#include "services/core/dead_letters.h"

#include <gtest/gtest.h>

#include "tests/unit/fakes.h"

namespace forewarn {
namespace {

constexpr char kIncident[] = "3f1c2a5e-0b7d-4c1e-9a8f-2d6b5e4c3a21";
constexpr char kOther[] = "7a9e4c1d-2b3f-4e5a-8c6d-1f0e9d8c7b6a";

NoticeJob Dead(const std::string& incident, int64_t customer, absl::Time at) {
  NoticeJob job;
  job.incident_id = incident;
  job.version = 1;
  job.recipient.customer_id = customer;
  job.recipient.channel = Channel::kSms;
  job.recipient.address = "+966500000001";
  job.attempt = 5;
  job.last_error = "gateway 503";
  job.dead_at = at;
  return job;
}

class DeadLetterServiceTest : public ::testing::Test {
 protected:
  void MarkDead(const NoticeJob& job) { ledger_.rows[testing::Tuple(KeyOf(job))] = NoticeState::kDead; }
  const absl::Time t0_ = absl::FromUnixSeconds(1'800'000'000);
  testing::FakeLedger ledger_;
  testing::FakeDeadLetters dlq_{ledger_};
  testing::FakeSink notices_;
  DeadLetterService service_{dlq_, dlq_, notices_};
};

TEST_F(DeadLetterServiceTest, ListsOnlyNoticesStillDeadOldestFirstOnceEach) {
  const NoticeJob a = Dead(kIncident, 1, t0_ + absl::Seconds(2));
  const NoticeJob b = Dead(kIncident, 2, t0_ + absl::Seconds(1));
  const NoticeJob c = Dead(kOther, 3, t0_);
  const NoticeJob replayed = Dead(kIncident, 4, t0_);
  dlq_.topic = {a, b, a, c, replayed};  // a twice: died, replayed, died again
  MarkDead(a);
  MarkDead(b);
  MarkDead(c);
  ledger_.rows[testing::Tuple(KeyOf(replayed))] = NoticeState::kSent;  // a replay delivered it

  auto all = service_.List("", 100);
  ASSERT_TRUE(all.ok()) << all.status();
  EXPECT_EQ(all->pending, 3);
  ASSERT_EQ(all->listed.size(), 3u);
  EXPECT_EQ(all->listed[0].recipient.customer_id, 3);
  EXPECT_EQ(all->listed[1].recipient.customer_id, 2);
  EXPECT_EQ(all->listed[2].recipient.customer_id, 1);

  auto one = service_.List(kIncident, 1);
  ASSERT_TRUE(one.ok());
  EXPECT_EQ(one->pending, 2);
  ASSERT_EQ(one->listed.size(), 1u);
  EXPECT_EQ(one->listed[0].recipient.customer_id, 2);
}

TEST_F(DeadLetterServiceTest, ReplayPutsFreshRevivingJobsOnTheNoticesTopic) {
  const NoticeJob a = Dead(kIncident, 1, t0_);
  const NoticeJob c = Dead(kOther, 3, t0_);
  dlq_.topic = {a, c};
  MarkDead(a);
  MarkDead(c);
  auto replay = service_.ReplayAll(kIncident);
  ASSERT_TRUE(replay.ok()) << replay.status();
  EXPECT_EQ(replay->replayed, 1);
  ASSERT_EQ(notices_.acked.size(), 1u);
  const NoticeJob& job = notices_.acked[0];
  EXPECT_EQ(job.recipient.customer_id, 1);
  EXPECT_EQ(job.attempt, 0);
  EXPECT_TRUE(job.revive);
  EXPECT_TRUE(job.last_error.empty());
  EXPECT_EQ(job.recipient.address, "+966500000001");
}

TEST_F(DeadLetterServiceTest, AFailedFlushIsReported) {
  dlq_.topic = {Dead(kIncident, 1, t0_)};
  MarkDead(dlq_.topic[0]);
  notices_.flush_error = absl::UnavailableError("broker down");
  EXPECT_EQ(service_.ReplayAll("").status().code(), absl::StatusCode::kUnavailable);
}

TEST_F(DeadLetterServiceTest, BadArgumentsNameTheField) {
  auto bad = service_.List("not-a-uuid", 10);
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("incident_id"), std::string::npos) << bad.status();
  EXPECT_EQ(service_.ReplayAll("nope").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(service_.List("", -1).status().code(), absl::StatusCode::kInvalidArgument);
}

// Retention dropped the incident's ledger: its dead letters can no longer be
// told from delivered ones, so listing and replaying it say why.
class DroppedLedgers final : public LedgerRetentionLog {
 public:
  absl::StatusOr<IncidentLedger> LedgerOf(const std::string& id) override {
    if (id != kIncident) return IncidentLedger{absl::FromUnixSeconds(1'800'000'000), std::nullopt};
    return IncidentLedger{absl::FromUnixSeconds(1'700'000'000),
                          LedgerDrop{absl::FromUnixSeconds(1'800'000'000), kDefaultLedgerRetention}};
  }
};

TEST_F(DeadLetterServiceTest, AnIncidentWhoseLedgerWasDroppedIsFailedPreconditionNamingTheRetention) {
  DroppedLedgers log;
  service_.set_ledger_retention(&log);
  const NoticeJob other = Dead(kOther, 3, t0_);
  dlq_.topic = {Dead(kIncident, 1, t0_), other};
  MarkDead(other);
  auto listed = service_.List(kIncident, 10);
  EXPECT_EQ(listed.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(listed.status().message().find("notices are kept 400 days (--ledger-retention)"), std::string::npos)
      << listed.status();
  EXPECT_EQ(service_.ReplayAll(kIncident).status().code(), absl::StatusCode::kFailedPrecondition);
  auto kept = service_.List(kOther, 10);
  ASSERT_TRUE(kept.ok()) << kept.status();
  EXPECT_EQ(kept->pending, 1);
}

}  // namespace
}  // namespace forewarn
