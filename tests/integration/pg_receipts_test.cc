// Delivery receipts and escalation timers on the real PostgreSQL: each
// receipt counts once, one that comes before its notice is settled waits,
// a late one still settles its notice, a second final state conflicts, and
// the escalation timer finds exactly the notices that need the other channel.
#include "services/pg/pg_receipts.h"

#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "tests/integration/pg_fixture.h"

namespace forewarn::testing {
namespace {

const absl::Time kNow = absl::FromUnixSeconds(1798000000);
constexpr char kIncident[] = "6f1c1b2e-3a4d-4e5f-8a9b-0c1d2e3f4a5b";

NoticeKey Key(int64_t customer, Channel channel = Channel::kSms) {
  return NoticeKey{kIncident, 1, NoticeKind::kOutageStarted, "", customer, channel};
}

Receipt ByMessageId(int64_t customer, ReceiptStatus status, Channel channel = Channel::kSms) {
  Receipt r;
  r.message_id = MessageIdFor(Key(customer, channel));
  r.status = status;
  r.source = "kannel";
  return r;
}

class PgReceiptsTest : public PgTest {
 protected:
  void SetUp() override {
    SetUpDatabase(
        "INSERT INTO customers (id, name, locale, time_zone, phone, email) VALUES "
        "  (1, 'A', 'en', 'UTC', '+966512345671', 'a@example.com'), "
        "  (2, 'B', 'ar', 'Asia/Riyadh', '+966512345672', NULL), "
        "  (3, 'C', 'en', 'UTC', '+966512345673', 'c@example.com')");
    if (IsSkipped() || HasFatalFailure()) return;
    receipts_ = std::make_unique<PgReceiptStore>(PgDatabase(db_->uri(), 2));
    escalations_ = std::make_unique<PgEscalationStore>(PgDatabase(db_->uri(), 2));
  }
  // A ledger row of Key(customer, channel) in `state`, sent at kNow with an
  // escalation timer `due_in` from kNow (none when zero).
  void Ledger(int64_t customer, const std::string& state, Channel channel = Channel::kSms,
              absl::Duration due_in = absl::ZeroDuration(), const std::string& provider_id = "") {
    const std::string due =
        due_in == absl::ZeroDuration()
            ? "NULL"
            : absl::StrCat("to_timestamp(", absl::ToUnixSeconds(kNow + due_in), ")");
    db_->Exec(absl::StrCat(
        "INSERT INTO notice_ledger (incident_id, incident_version, notice_kind, occasion, customer_id, channel, "
        "  state, provider_id, claimed_at, updated_at, receipt_due_at, incident_epoch) VALUES ('", kIncident, "', 1, "
        "'outage_started', '', ", customer, ", '", ToString(channel), "', '", state, "', ",
        provider_id.empty() ? "NULL" : absl::StrCat("'", provider_id, "'"), ", to_timestamp(",
        absl::ToUnixSeconds(kNow), "), to_timestamp(", absl::ToUnixSeconds(kNow), "), ", due,
        ", forewarn_incident_epoch('", kIncident, "'))"));
  }
  std::string Column(int64_t customer, const std::string& column, Channel channel = Channel::kSms) {
    return db_->Exec(absl::StrCat("SELECT coalesce(", column, "::text, 'NULL') FROM notice_ledger WHERE customer_id = ",
                                  customer, " AND channel = '", ToString(channel), "'"));
  }

  std::unique_ptr<PgReceiptStore> receipts_;
  std::unique_ptr<PgEscalationStore> escalations_;
};

TEST_F(PgReceiptsTest, ADeliveredReceiptSettlesTheNoticeAndStopsItsTimer) {
  Ledger(1, "sent", Channel::kSms, absl::Minutes(30));
  Receipt r = ByMessageId(1, ReceiptStatus::kDelivered);
  r.reported_at = kNow + absl::Seconds(40);
  auto tally = receipts_->Record({r}, kNow + absl::Minutes(1));
  ASSERT_TRUE(tally.ok()) << tally.status();
  EXPECT_EQ(tally->applied, 1);
  EXPECT_EQ(Column(1, "state"), "delivered");
  EXPECT_EQ(Column(1, "receipt_due_at"), "NULL");
  EXPECT_EQ(Column(1, "extract(epoch from receipt_at)::bigint"), absl::StrCat(absl::ToUnixSeconds(kNow) + 40));
  // The send time stays the send time.
  EXPECT_EQ(Column(1, "extract(epoch from updated_at)::bigint"), absl::StrCat(absl::ToUnixSeconds(kNow)));
}

TEST_F(PgReceiptsTest, TheSameReceiptTwiceChangesNothing) {
  Ledger(1, "sent");
  ASSERT_EQ(receipts_->Record({ByMessageId(1, ReceiptStatus::kUndelivered)}, kNow)->applied, 1);
  const std::string due = Column(1, "receipt_due_at");
  auto again = receipts_->Record({ByMessageId(1, ReceiptStatus::kUndelivered)}, kNow + absl::Hours(1));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->duplicate, 1);
  EXPECT_EQ(again->applied, 0);
  EXPECT_EQ(Column(1, "state"), "undelivered");
  EXPECT_EQ(Column(1, "receipt_due_at"), due);
  EXPECT_EQ(db_->Exec("SELECT count(*) FROM notice_receipts"), "1");
}

TEST_F(PgReceiptsTest, AReceiptBeforeItsNoticeWaitsAndIsAppliedOnceTheNoticeIsSettled) {
  auto early = receipts_->Record({ByMessageId(2, ReceiptStatus::kDelivered)}, kNow);
  ASSERT_TRUE(early.ok());
  EXPECT_EQ(early->pending, 1);
  Ledger(2, "claimed");  // in flight: still not settled
  EXPECT_EQ(receipts_->ApplyPending(kNow, absl::Hours(24))->pending, 1);
  db_->Exec("UPDATE notice_ledger SET state = 'sent' WHERE customer_id = 2");
  auto applied = receipts_->ApplyPending(kNow + absl::Seconds(1), absl::Hours(24));
  ASSERT_TRUE(applied.ok());
  EXPECT_EQ(applied->applied, 1);
  EXPECT_EQ(Column(2, "state"), "delivered");
  EXPECT_EQ(db_->Exec("SELECT outcome FROM notice_receipts"), "applied");
  EXPECT_EQ(receipts_->ApplyPending(kNow + absl::Seconds(2), absl::Hours(24))->applied, 0);
}

TEST_F(PgReceiptsTest, AReceiptThatNeverFindsItsNoticeIsGivenUpOnLater) {
  Receipt r;
  r.provider_id = "SMSC-77";
  r.status = ReceiptStatus::kDelivered;
  ASSERT_EQ(receipts_->Record({r}, kNow)->pending, 1);
  EXPECT_EQ(receipts_->ApplyPending(kNow + absl::Hours(1), absl::Hours(24))->pending, 1);
  EXPECT_EQ(receipts_->ApplyPending(kNow + absl::Hours(25), absl::Hours(24))->pending, 0);
  EXPECT_EQ(db_->Exec("SELECT outcome FROM notice_receipts"), "orphaned");
}

TEST_F(PgReceiptsTest, AProviderIdReceiptFindsItsNotice) {
  Ledger(3, "sent", Channel::kSms, absl::Minutes(30), "SMSC-9");
  Receipt r;
  r.provider_id = "SMSC-9";
  r.status = ReceiptStatus::kExpired;
  r.source = "smpp";
  ASSERT_EQ(receipts_->Record({r}, kNow)->applied, 1);
  EXPECT_EQ(Column(3, "state"), "expired");
  // Not delivered: the escalation timer is due at once.
  EXPECT_EQ(Column(3, "extract(epoch from receipt_due_at)::bigint"), absl::StrCat(absl::ToUnixSeconds(kNow)));
}

TEST_F(PgReceiptsTest, ALateReceiptSettlesAnEscalatedNoticeWithoutEscalatingAgain) {
  Ledger(1, "sent");
  db_->Exec("UPDATE notice_ledger SET escalated_at = now(), escalated_to = 'email'");
  ASSERT_EQ(receipts_->Record({ByMessageId(1, ReceiptStatus::kUndelivered)}, kNow)->applied, 1);
  EXPECT_EQ(Column(1, "state"), "undelivered");
  EXPECT_EQ(Column(1, "receipt_due_at"), "NULL");
}

TEST_F(PgReceiptsTest, ASecondFinalStatusConflictsAndTheFirstStands) {
  Ledger(1, "sent");
  ASSERT_EQ(receipts_->Record({ByMessageId(1, ReceiptStatus::kDelivered)}, kNow)->applied, 1);
  auto second = receipts_->Record({ByMessageId(1, ReceiptStatus::kUndelivered)}, kNow);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->conflicting, 1);
  EXPECT_EQ(Column(1, "state"), "delivered");
}

TEST_F(PgReceiptsTest, AMessageIdThatIsNotOursStoresNothing) {
  Receipt bad;
  bad.message_id = "<not-ours@example.com>";
  EXPECT_EQ(receipts_->Record({ByMessageId(1, ReceiptStatus::kDelivered), bad}, kNow).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(db_->Exec("SELECT count(*) FROM notice_receipts"), "0");
}

TEST_F(PgReceiptsTest, TheTimerFindsDueNoticesWithTheCustomersAddresses) {
  Ledger(1, "sent", Channel::kSms, absl::Minutes(1));     // due
  Ledger(2, "sent", Channel::kSms, absl::Minutes(1));     // due, no email
  Ledger(3, "sent", Channel::kSms, absl::Minutes(1));     // due, has the email notice already
  Ledger(3, "sent", Channel::kEmail);
  Ledger(4, "sent", Channel::kSms, absl::Hours(2));       // not due yet
  auto due = escalations_->FetchDue(kNow + absl::Minutes(5), 10);
  ASSERT_TRUE(due.ok()) << due.status();
  ASSERT_EQ(due->size(), 3u);
  EXPECT_EQ((*due)[0].key.customer_id, 1);
  EXPECT_EQ((*due)[0].email, "a@example.com");
  EXPECT_EQ((*due)[0].phone, "+966512345671");
  EXPECT_EQ((*due)[1].email, "");
  EXPECT_EQ((*due)[1].locale, "ar");
  EXPECT_TRUE((*due)[2].other_channel_noticed);
  EXPECT_FALSE((*due)[0].other_channel_noticed);

  std::vector<EscalationDecision> decisions;
  for (const auto& c : *due) decisions.push_back(DecideEscalation(c));
  ASSERT_TRUE(escalations_->Settle(decisions, kNow + absl::Minutes(5)).ok());
  EXPECT_EQ(Column(1, "escalated_to"), "email");
  EXPECT_NE(Column(1, "escalated_at"), "NULL");
  EXPECT_EQ(Column(2, "escalated_to"), "NULL");  // undeliverable: escalated, to nowhere
  EXPECT_NE(Column(2, "escalated_at"), "NULL");
  EXPECT_EQ(Column(3, "escalated_at"), "NULL");  // the email has it: only the timer stopped
  EXPECT_EQ(db_->Exec("SELECT count(*) FROM notice_ledger WHERE receipt_due_at IS NOT NULL"), "1");
  EXPECT_TRUE(escalations_->FetchDue(kNow + absl::Minutes(5), 10)->empty());
}

}  // namespace
}  // namespace forewarn::testing
