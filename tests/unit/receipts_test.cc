// Delivery receipts in the domain: message ids back to notice keys, SMPP
// receipt texts, the receipt signature, deadlines and escalation timers.
#include "services/core/receipts.h"

#include <gtest/gtest.h>

#include "services/core/notice_policy.h"

namespace forewarn {
namespace {

const absl::Time kStart = absl::FromUnixSeconds(1798000000);

NoticeKey Key(std::string occasion = "lead-48h") {
  return NoticeKey{"6f1c1b2e-3a4d-4e5f-8a9b-0c1d2e3f4a5b", 3, NoticeKind::kMaintenanceReminder, std::move(occasion),
                   42, Channel::kSms};
}

TEST(ParseMessageId, IsTheInverseOfMessageIdFor) {
  for (const NoticeKey& key : {Key(), Key(""), Key("joined")}) {
    auto parsed = ParseMessageId(MessageIdFor(key));
    ASSERT_TRUE(parsed.ok()) << parsed.status();
    EXPECT_EQ(*parsed, key);
  }
}

TEST(ParseMessageId, RefusesAnythingElse) {
  const std::string id = MessageIdFor(Key());
  for (const std::string& bad :
       {std::string(""), std::string("abc"), id.substr(1), id.substr(0, id.size() - 1),
        std::string("<x.v1.outage_started.c1.sms@forewarn>") + "x", std::string("<6f1c.vX.outage_started.c1.sms@forewarn>"),
        std::string("<6f1c.v1.no_such_kind.c1.sms@forewarn>"), std::string("<6f1c.v1.outage_started.c1.fax@forewarn>"),
        std::string("<6f1c.v01.outage_started.c1.sms@forewarn>")}) {
    EXPECT_EQ(ParseMessageId(bad).status().code(), absl::StatusCode::kInvalidArgument) << bad;
  }
}

TEST(ParseDlrText, ReadsIdStatErrorAndDoneDate) {
  auto t = ParseDlrText("id:0A1B sub:001 dlvrd:001 submit date:2612060910 done date:2612060911 stat:DELIVRD err:000 "
                        "text:Power back at 5");
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(t->id, "0A1B");
  EXPECT_EQ(t->stat, "DELIVRD");
  EXPECT_EQ(t->err, "000");
  ASSERT_TRUE(t->done.has_value());
  EXPECT_EQ(*t->done, absl::FromCivil(absl::CivilMinute(2026, 12, 6, 9, 11), absl::UTCTimeZone()));
  EXPECT_FALSE(ParseDlrText("no receipt here").has_value());
  EXPECT_FALSE(ParseDlrText("id:1 stat:").has_value());
  // A bad date leaves it unknown, not wrong.
  EXPECT_FALSE(ParseDlrText("id:1 done date:2613999999 stat:UNDELIV")->done.has_value());
}

TEST(StatusOfStat, MapsFinalStatesOnly) {
  EXPECT_EQ(StatusOfStat("DELIVRD"), ReceiptStatus::kDelivered);
  EXPECT_EQ(StatusOfStat("EXPIRED"), ReceiptStatus::kExpired);
  for (const char* s : {"UNDELIV", "REJECTD", "DELETED", "UNKNOWN"}) {
    EXPECT_EQ(StatusOfStat(s), ReceiptStatus::kUndelivered) << s;
  }
  EXPECT_EQ(StatusOfStat("ACCEPTD"), std::nullopt);
  EXPECT_EQ(StatusOfStat("ENROUTE"), std::nullopt);
}

TEST(ReceiptSigner, SignsAndVerifiesAndRefusesShortSecrets) {
  auto signer = ReceiptSigner::FromSecret(std::string(32, 'k'));
  ASSERT_TRUE(signer.ok());
  const std::string id = MessageIdFor(Key());
  const std::string sig = signer->Sign(id);
  EXPECT_EQ(sig.size(), 22u);
  EXPECT_TRUE(signer->Verify(id, sig));
  EXPECT_FALSE(signer->Verify(MessageIdFor(Key("")), sig));  // another notice
  EXPECT_FALSE(signer->Verify(id, sig.substr(1)));
  EXPECT_FALSE(signer->Verify(id, ""));
  auto other = ReceiptSigner::FromSecret(std::string(32, 'j'));
  EXPECT_FALSE(other->Verify(id, sig));
  EXPECT_EQ(ReceiptSigner::FromSecret("short").status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(NoticeDeadline, IsTheStartMinusTheLeadForLeadOccasions) {
  Incident m;
  m.kind = IncidentKind::kPlannedMaintenance;
  m.starts_at = kStart;
  NoticePolicy policy;
  EXPECT_EQ(NoticeDeadline(NoticeKind::kMaintenanceReminder, "lead-48h", m, policy), kStart - absl::Hours(48));
  EXPECT_EQ(NoticeDeadline(NoticeKind::kMaintenanceStarted, "", m, policy), std::nullopt);
  Incident iban;
  iban.kind = IncidentKind::kIbanChange;
  iban.starts_at = kStart;
  EXPECT_EQ(NoticeDeadline(NoticeKind::kIbanChangeHolder, "lead-720h", iban, policy), kStart - absl::Hours(720));
  // Announced inside the notice period: sent at once, late by its nature.
  EXPECT_EQ(NoticeDeadline(NoticeKind::kIbanChangeBeneficiary, "", iban, policy), kStart - policy.iban_lead);
}

TEST(LeadRelease, GoesTheMarginBeforeTheDeadlineAtMostAQuarterOfTheLead) {
  NoticePolicy policy;  // 12h margin
  const absl::Time now = kStart - absl::Hours(24 * 7);
  EXPECT_EQ(LeadRelease(kStart, absl::Hours(48), now, policy), kStart - absl::Hours(60));
  EXPECT_EQ(LeadRelease(kStart, absl::Hours(2), now, policy), kStart - absl::Minutes(150));
  // Inside the margin: at once; past the deadline: none.
  EXPECT_EQ(LeadRelease(kStart, absl::Hours(48), kStart - absl::Hours(50), policy), kStart - absl::Hours(50));
  EXPECT_EQ(LeadRelease(kStart, absl::Hours(48), kStart - absl::Hours(48), policy), std::nullopt);
  policy.lead_margin = absl::ZeroDuration();
  EXPECT_EQ(LeadRelease(kStart, absl::Hours(48), now, policy), kStart - absl::Hours(48));
}

TEST(ReceiptDue, IsTheTimeoutOrEarlierForADeadline) {
  const absl::Time sent = kStart;
  EXPECT_EQ(ReceiptDue(sent, absl::Minutes(30), std::nullopt), sent + absl::Minutes(30));
  EXPECT_EQ(ReceiptDue(sent, absl::Minutes(30), sent + absl::Hours(12)), sent + absl::Minutes(30));
  // The other channel gets as long before the deadline.
  EXPECT_EQ(ReceiptDue(sent, absl::Minutes(30), sent + absl::Minutes(45)), sent + absl::Minutes(15));
  EXPECT_EQ(ReceiptDue(sent, absl::Minutes(30), sent + absl::Minutes(10)), sent);
}

}  // namespace
}  // namespace forewarn
