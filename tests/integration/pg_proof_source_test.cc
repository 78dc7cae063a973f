// Proof of notice over the real notice ledger: PgProofSource (server-side
// cursor) and the NoticeProofService rules, on rows written directly as the
// worker, the receipts and the escalation leave them (migration 13).
#include "services/pg/pg_proof_source.h"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "services/core/notice_proof.h"
#include "services/pg/pg_pooling.h"
#include "tests/integration/pg_fixture.h"

namespace forewarn {
namespace {

// The maintenance reminder's deadline, and times around it.
const absl::Time kDeadline = absl::FromUnixSeconds(1'796'097'600);  // 2026-12-01T04:00:00Z
const absl::Time kSent = kDeadline - absl::Hours(1);

std::string At(absl::Time t) { return absl::StrCat("'", absl::FormatTime(absl::RFC3339_full, t, absl::UTCTimeZone()), "'"); }
std::string At(absl::Duration from_deadline) { return At(kDeadline + from_deadline); }

class PgProofSourceTest : public testing::PgTest {
 protected:
  void SetUp() override {
    SetUpDatabase();
    if (IsSkipped() || HasFatalFailure()) return;
    incident_ = db_->Exec(
        "INSERT INTO incidents (version, kind, state, services, regions, reason_ar, reason_en, starts_at, "
        "expected_restoration_at, idempotency_key, request_hash, created_at, updated_at) VALUES (2, "
        "'planned_maintenance', 'open', '{electricity}', '{riyadh}', 'ع', 'r', now(), now(), 'm1', 'h', now(), "
        "now()) RETURNING id");
  }

  // One ledger row of incident_; `deadline`, `receipt`, `escalated_to` are SQL ("NULL" for none).
  void Ledger(int64_t customer, int64_t version, const std::string& kind, const std::string& occasion,
              const std::string& channel, const std::string& state, const std::string& deadline,
              const std::string& receipt = "NULL", const std::string& escalated_to = "NULL") {
    const std::string escalated_at = escalated_to == "NULL" ? "NULL" : At(absl::Minutes(-49));
    db_->Exec(absl::StrCat(
        "INSERT INTO notice_ledger (incident_id, incident_version, notice_kind, occasion, customer_id, channel, "
        "state, claimed_at, updated_at, deadline_at, receipt_at, escalated_at, escalated_to, incident_epoch) "
        "VALUES ('",
        incident_, "', ", version, ", '", kind, "', '", occasion, "', ", customer, ", '", channel, "', '", state,
        "', ", At(kSent - absl::Seconds(5)), ", ", At(kSent), ", ", deadline, ", ", receipt, ", ", escalated_at,
        ", ", escalated_to, ", forewarn_incident_epoch('", incident_, "'))"));
  }

  // The scenario of the issue, inserted out of order.
  void SeedScenario() {
    const std::string d = At(absl::ZeroDuration());
    const char* r = "maintenance_reminder";
    Ledger(4, 2, r, "lead-48h", "sms", "sent", d);                                          // no receipt, past it
    Ledger(2, 2, r, "lead-48h", "sms", "delivered", d, At(absl::Minutes(10)));              // delivered late
    Ledger(3, 2, r, "lead-48h", "email", "delivered", d, At(absl::Minutes(-20)));           // the escalation
    Ledger(3, 2, r, "lead-48h", "sms", "undelivered", d, At(absl::Minutes(-50)), "'email'");
    Ledger(1, 2, r, "lead-48h", "sms", "delivered", d, At(absl::Minutes(-30)));             // in time
    Ledger(1, 2, r, "lead-48h", "email", "sent", d);                                        // no receipts by email
    Ledger(5, 2, r, "lead-2h", "sms", "sent", At(absl::Hours(3)));                          // deadline to come
    Ledger(6, 1, r, "lead-48h", "sms", "superseded", d);                                    // replaced by v2
    Ledger(6, 2, r, "lead-48h", "sms", "delivered", d, At(absl::Minutes(-1)));
    Ledger(7, 2, "maintenance_started", "", "sms", "sent", "NULL");                         // no deadline
    Ledger(8, 2, r, "lead-48h", "email", "held", d);                                        // never sent
  }

  struct Run {
    absl::StatusOr<ProofSummary> summary;
    std::vector<NoticeProof> proofs;
  };
  Run Prove(const std::string& kind = "", const std::string& occasion = "", bool missed_only = false,
            const std::string& id = "") {
    PgProofSource source(PgDatabase(db_->uri(), 1), /*fetch_size=*/3);
    NoticeProofService service(source, clock_);
    Run run;
    run.summary = service.Prove(ProofRequest{id.empty() ? incident_ : id, kind, occasion, missed_only},
                                [&](const NoticeProof& p) {
                                  run.proofs.push_back(p);
                                  return absl::OkStatus();
                                });
    return run;
  }

  std::string incident_;
  FakeClock clock_{kDeadline + absl::Hours(1)};
};

std::string Customers(const std::vector<NoticeProof>& proofs) {
  std::vector<int64_t> ids;
  for (const auto& p : proofs) ids.push_back(p.customer_id);
  return absl::StrJoin(ids, ",");
}

TEST_F(PgProofSourceTest, ListsEveryNoticeWithADeadlinePerCustomerAndChannelWithTheSummary) {
  SeedScenario();
  Run run = Prove();
  ASSERT_TRUE(run.summary.ok()) << run.summary.status();
  ASSERT_EQ(Customers(run.proofs), "1,2,3,4,5,6,8");  // 7 has no deadline; 6's superseded v1 is left out
  std::map<int64_t, NoticeProof> by;
  for (const auto& p : run.proofs) by[p.customer_id] = p;

  const NoticeProof& p1 = by[1];
  EXPECT_EQ(p1.version, 2);
  EXPECT_EQ(p1.kind, NoticeKind::kMaintenanceReminder);
  EXPECT_EQ(p1.occasion, "lead-48h");
  EXPECT_EQ(p1.deadline, kDeadline);
  EXPECT_TRUE(p1.met);
  ASSERT_EQ(p1.channels.size(), 2u);
  EXPECT_EQ(p1.channels[0].channel, Channel::kSms);
  EXPECT_EQ(p1.channels[0].state, NoticeState::kDelivered);
  EXPECT_EQ(p1.channels[0].sent_at, kSent);
  EXPECT_EQ(p1.channels[0].delivered_at, kDeadline - absl::Minutes(30));
  EXPECT_TRUE(p1.channels[0].met);
  EXPECT_FALSE(p1.channels[0].escalation);
  EXPECT_EQ(p1.channels[1].channel, Channel::kEmail);
  EXPECT_EQ(p1.channels[1].state, NoticeState::kSent);
  EXPECT_EQ(p1.channels[1].sent_at, kSent);
  EXPECT_FALSE(p1.channels[1].delivered_at.has_value());
  EXPECT_FALSE(p1.channels[1].met);

  const NoticeProof& p2 = by[2];  // delivered ten minutes late
  EXPECT_FALSE(p2.met);
  ASSERT_EQ(p2.channels.size(), 1u);
  EXPECT_EQ(p2.channels[0].delivered_at, kDeadline + absl::Minutes(10));
  EXPECT_FALSE(p2.channels[0].met);

  const NoticeProof& p3 = by[3];  // SMS undelivered, escalated to email, delivered in time
  EXPECT_TRUE(p3.met);
  ASSERT_EQ(p3.channels.size(), 2u);
  EXPECT_EQ(p3.channels[0].channel, Channel::kSms);
  EXPECT_EQ(p3.channels[0].state, NoticeState::kUndelivered);
  EXPECT_EQ(p3.channels[0].sent_at, kSent);
  EXPECT_FALSE(p3.channels[0].delivered_at.has_value());
  EXPECT_FALSE(p3.channels[0].met);
  EXPECT_FALSE(p3.channels[0].escalation);
  EXPECT_EQ(p3.channels[1].channel, Channel::kEmail);
  EXPECT_EQ(p3.channels[1].state, NoticeState::kDelivered);
  EXPECT_EQ(p3.channels[1].delivered_at, kDeadline - absl::Minutes(20));
  EXPECT_TRUE(p3.channels[1].met);
  EXPECT_TRUE(p3.channels[1].escalation);

  const NoticeProof& p4 = by[4];  // sent, no receipt, deadline passed
  EXPECT_FALSE(p4.met);
  ASSERT_EQ(p4.channels.size(), 1u);
  EXPECT_EQ(p4.channels[0].state, NoticeState::kSent);
  EXPECT_EQ(p4.channels[0].sent_at, kSent);
  EXPECT_FALSE(p4.channels[0].delivered_at.has_value());

  const NoticeProof& p5 = by[5];  // the 2 h reminder: deadline still ahead
  EXPECT_EQ(p5.occasion, "lead-2h");
  EXPECT_EQ(p5.deadline, kDeadline + absl::Hours(3));
  EXPECT_FALSE(p5.met);
  EXPECT_EQ(OutcomeOf(p5, clock_.Now()), ProofOutcome::kPending);

  EXPECT_EQ(by[6].version, 2);
  EXPECT_TRUE(by[6].met);
  ASSERT_EQ(by[8].channels.size(), 1u);
  EXPECT_EQ(by[8].channels[0].state, NoticeState::kHeld);
  EXPECT_FALSE(by[8].channels[0].sent_at.has_value());

  EXPECT_EQ(run.summary->customers, 7);
  EXPECT_EQ(run.summary->met, 3);      // 1, 3, 6
  EXPECT_EQ(run.summary->missed, 3);   // 2, 4, 8
  EXPECT_EQ(run.summary->pending, 1);  // 5
}

TEST_F(PgProofSourceTest, FiltersByKindAndOccasionAndListsOnlyTheMissed) {
  SeedScenario();
  Run occasion = Prove("maintenance_reminder", "lead-48h");
  ASSERT_TRUE(occasion.summary.ok()) << occasion.summary.status();
  EXPECT_EQ(Customers(occasion.proofs), "1,2,3,4,6,8");
  EXPECT_EQ(occasion.summary->pending, 0);
  Run other_kind = Prove("iban_change_holder");
  ASSERT_TRUE(other_kind.summary.ok());
  EXPECT_TRUE(other_kind.proofs.empty());
  EXPECT_EQ(other_kind.summary->customers, 0);
  Run missed = Prove("", "", /*missed_only=*/true);
  ASSERT_TRUE(missed.summary.ok());
  EXPECT_EQ(Customers(missed.proofs), "2,4,8");
  EXPECT_EQ(missed.summary->customers, 7);  // the summary counts every notice
  EXPECT_EQ(missed.summary->missed, 3);
}

TEST_F(PgProofSourceTest, AnUnknownIncidentIsNotFoundAndABadRequestNamesTheField) {
  SeedScenario();
  Run unknown = Prove("", "", false, "00000000-0000-4000-8000-000000000000");
  EXPECT_EQ(unknown.summary.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(unknown.summary.status().message(), "incident 00000000-0000-4000-8000-000000000000 not found");
  Run malformed = Prove("", "", false, "42");
  EXPECT_EQ(malformed.summary.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(malformed.summary.status().message(), "incident_id: must be a UUID");
  Run kind = Prove("reminder");
  EXPECT_EQ(kind.summary.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(kind.summary.status().message(), "notice_kind: unknown notice kind 'reminder'");
}

TEST_F(PgProofSourceTest, StreamsThousandsOfNoticesAcrossFetchesKeepingEachNoticesChannelsTogether) {
  // 3,001 customers with both channels, fetched 3 rows at a time: every
  // other notice straddles two fetches.
  db_->Exec(absl::StrCat(
      "INSERT INTO notice_ledger (incident_id, incident_version, notice_kind, occasion, customer_id, channel, "
      "state, claimed_at, updated_at, deadline_at, receipt_at, incident_epoch) "
      "SELECT '", incident_, "', 2, 'iban_change_holder', '', g, c, "
      "CASE WHEN g % 10 = 0 THEN 'expired' ELSE 'delivered' END, now(), ", At(kSent), ", ",
      At(absl::ZeroDuration()), ", ", At(absl::Minutes(-5)), ", forewarn_incident_epoch('", incident_, "')"
      " FROM generate_series(1, 3001) g, (VALUES ('sms'), ('email')) AS ch(c)"));
  Run run = Prove();
  ASSERT_TRUE(run.summary.ok()) << run.summary.status();
  ASSERT_EQ(run.proofs.size(), 3001u);
  for (size_t i = 0; i < run.proofs.size(); ++i) {
    const NoticeProof& p = run.proofs[i];
    ASSERT_EQ(p.customer_id, static_cast<int64_t>(i + 1));
    ASSERT_EQ(p.channels.size(), 2u) << p.customer_id;
    ASSERT_EQ(p.channels[0].channel, Channel::kSms);
    ASSERT_EQ(p.channels[1].channel, Channel::kEmail);
    ASSERT_EQ(p.met, p.customer_id % 10 != 0);
  }
  EXPECT_EQ(run.summary->met, 2701);
  EXPECT_EQ(run.summary->missed, 300);
}

TEST_F(PgProofSourceTest, WorksBehindATransactionPooler) {
  if (db_->pooled_uri().empty()) GTEST_SKIP() << "no pgbouncer";
  SeedScenario();
  PgProofSource source(PgDatabase(PgEndpoint(db_->pooled_uri(), PgPooling::kTransaction), 1), 2);
  NoticeProofService service(source, clock_);
  int listed = 0;
  auto summary = service.Prove(ProofRequest{incident_, "", "", false}, [&](const NoticeProof&) {
    ++listed;
    return absl::OkStatus();
  });
  ASSERT_TRUE(summary.ok()) << summary.status();
  EXPECT_EQ(listed, 7);
  EXPECT_EQ(summary->met, 3);
}

}  // namespace
}  // namespace forewarn
