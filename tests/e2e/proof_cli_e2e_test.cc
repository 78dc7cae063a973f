// `forewarn incident proof` end to end: the built CLI against a real intake
// (ProveNotice streamed from the PostgreSQL ledger), as an operator's script
// runs it. Ledger rows are written directly, as the notifier, the receipts
// and the escalation leave them: the table, CSV and JSON, the summary,
// --missed-only, an unknown incident and the role check.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "nlohmann/json.hpp"
#include "tests/e2e/stack.h"

namespace forewarn {
namespace {

using testing::CliRun;

constexpr char kViewer[] = "viewer-token-5f1c2a9e7b";
constexpr char kDirectory[] = "crm-sync-token-9a8b7c6d5e";
constexpr char kIncident[] = "5d2b8f0e-6a1c-4e3b-9f7d-0c4a2e6b8d13";
constexpr char kSummary[] =
    "7 notices with a deadline: 3 met, 3 missed (not delivered by the deadline), 1 pending (deadline not passed yet)";

std::string Utc(absl::Time t) { return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", t, absl::UTCTimeZone()); }

class ProofCliE2eTest : public testing::CliStackTest {
 protected:
  void SetUp() override {
    StartCliStack("forewarn-proof-", absl::StrCat(kViewer, " viewer dashboards\n", kDirectory, " directory crm\n"),
                  "INSERT INTO services VALUES ('electricity','Electricity','الكهرباء');"
                  "INSERT INTO regions VALUES ('riyadh','Riyadh','الرياض');",
                  kViewer);
    if (IsSkipped() || HasFatalFailure()) return;
    SeedLedger();
  }

  // A maintenance whose 48 h reminder's deadline passed an hour ago, and
  // whose 2 h reminder's deadline is a day ahead.
  void SeedLedger() {
    stack_.db().Exec(absl::StrCat(
        "INSERT INTO incidents (id, version, kind, state, services, regions, reason_ar, reason_en, starts_at, "
        "expected_restoration_at, idempotency_key, request_hash, created_at, updated_at) VALUES ('",
        kIncident, "', 2, 'planned_maintenance', 'open', '{electricity}', '{riyadh}', 'صيانة', 'Maintenance', ",
        Sql(absl::Hours(2)), ", ", Sql(absl::Hours(6)), ", 'm1', 'h', now(), now())"));
    auto row = [&](int customer, int version, const char* occasion, const char* channel, const char* state,
                   const std::string& deadline, const std::string& receipt, const char* escalated_to) {
      return absl::StrCat("('", kIncident, "', ", version, ", 'maintenance_reminder', '", occasion, "', ", customer,
                          ", '", channel, "', '", state, "', ", Sql(absl::Hours(-2)), ", ", Sql(sent_ - deadline_),
                          ", ", deadline, ", ", receipt, ", ", escalated_to, ", forewarn_incident_epoch('", kIncident,
                          "'))");
    };
    const std::string d = Sql(absl::ZeroDuration());
    stack_.db().Exec(absl::StrCat(
        "INSERT INTO notice_ledger (incident_id, incident_version, notice_kind, occasion, customer_id, channel, "
        "state, claimed_at, updated_at, deadline_at, receipt_at, escalated_to, incident_epoch) VALUES ",
        row(4, 2, "lead-48h", "sms", "sent", d, "NULL", "NULL"), ", ",
        row(2, 2, "lead-48h", "sms", "delivered", d, Sql(absl::Minutes(10)), "NULL"), ", ",
        row(3, 2, "lead-48h", "email", "delivered", d, Sql(absl::Minutes(-20)), "NULL"), ", ",
        row(3, 2, "lead-48h", "sms", "undelivered", d, Sql(absl::Minutes(-50)), "'email'"), ", ",
        row(1, 2, "lead-48h", "sms", "delivered", d, Sql(absl::Minutes(-30)), "NULL"), ", ",
        row(1, 2, "lead-48h", "email", "sent", d, "NULL", "NULL"), ", ",
        row(5, 2, "lead-2h", "sms", "sent", Sql(absl::Hours(24)), "NULL", "NULL"), ", ",
        row(6, 1, "lead-48h", "sms", "superseded", d, "NULL", "NULL"), ", ",
        row(6, 2, "lead-48h", "sms", "delivered", d, Sql(absl::Minutes(-1)), "NULL"), ", ",
        row(8, 2, "lead-48h", "email", "held", d, "NULL", "NULL")));
    // A notice without a lead time: not part of the proof.
    stack_.db().Exec(absl::StrCat(
        "INSERT INTO notice_ledger (incident_id, incident_version, notice_kind, occasion, customer_id, channel, "
        "state, claimed_at, updated_at, incident_epoch) VALUES ('", kIncident, "', 2, 'maintenance_started', '', 7, "
        "'sms', 'sent', now(), now(), forewarn_incident_epoch('", kIncident, "'))"));
  }

  // deadline_ + `from_deadline` as an SQL timestamptz literal.
  std::string Sql(absl::Duration from_deadline) const { return absl::StrCat("'", Utc(deadline_ + from_deadline), "'"); }
  std::string At(absl::Duration from_deadline) const { return Utc(deadline_ + from_deadline); }

  const absl::Time deadline_ = absl::FromUnixSeconds(absl::ToUnixSeconds(absl::Now())) - absl::Hours(1);
  const absl::Time sent_ = deadline_ - absl::Hours(1);
};

// The table rows of `customer` (lines that start with its id after the padding).
std::vector<std::string> LinesOf(const std::string& text, const std::string& customer) {
  std::vector<std::string> out;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    if (absl::StartsWith(absl::StripLeadingAsciiWhitespace(line), customer + " ")) out.emplace_back(line);
  }
  return out;
}

TEST_F(ProofCliE2eTest, PrintsATablePerCustomerAndChannelFlaggingTheMissedWithTheSummary) {
  CliRun r = Forewarn({"incident", "proof", kIncident});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find(absl::StrCat("Proof of notice for incident ", kIncident, "\n")), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("CUSTOMER  KIND"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(absl::StrCat(kSummary, "\n")), std::string::npos) << r.out;
  const auto one = LinesOf(r.out, "1");
  ASSERT_EQ(one.size(), 2u) << r.out;
  EXPECT_NE(one[0].find(absl::StrCat("lead-48h      2  ", At(absl::ZeroDuration()), "  sms      delivered    ",
                                     At(absl::Hours(-1)), "  ", At(absl::Minutes(-30)), "  yes  -")),
            std::string::npos)
      << one[0];
  EXPECT_NE(one[1].find("email    sent"), std::string::npos) << one[1];
  EXPECT_EQ(one[0].find("MISSED"), std::string::npos);
  const auto three = LinesOf(r.out, "3");
  ASSERT_EQ(three.size(), 2u) << r.out;
  EXPECT_NE(three[0].find("sms      undelivered"), std::string::npos) << three[0];
  EXPECT_NE(three[1].find(absl::StrCat("email    delivered    ", At(absl::Hours(-1)), "  ", At(absl::Minutes(-20)),
                                       "  yes  yes")),
            std::string::npos)
      << three[1];
  for (const char* missed : {"2", "4", "8"}) {
    const auto lines = LinesOf(r.out, missed);
    ASSERT_EQ(lines.size(), 1u) << missed << "\n" << r.out;
    EXPECT_TRUE(absl::EndsWith(lines[0], "MISSED")) << lines[0];
  }
  EXPECT_TRUE(absl::EndsWith(LinesOf(r.out, "5").at(0), "pending")) << r.out;
  EXPECT_EQ(LinesOf(r.out, "6").size(), 1u) << r.out;  // version 2 only
  EXPECT_EQ(r.out.find("maintenance_started"), std::string::npos) << r.out;  // customer 7's: no deadline
}

TEST_F(ProofCliE2eTest, WritesCsvWithAHeaderRowAndTheSummaryOnStandardError) {
  CliRun r = Forewarn({"incident", "proof", kIncident, "--csv"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  const std::vector<std::string> lines = absl::StrSplit(r.out, '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 10u) << r.out;  // the header and 9 notices x channels
  EXPECT_EQ(lines[0],
            "customer_id,notice_kind,occasion,incident_version,deadline,channel,state,sent_at,delivered_at,met,"
            "escalation,notice_met,outcome");
  const std::string d = At(absl::ZeroDuration()), sent = At(absl::Hours(-1));
  EXPECT_EQ(lines[1], absl::StrCat("1,maintenance_reminder,lead-48h,2,", d, ",sms,delivered,", sent, ",",
                                   At(absl::Minutes(-30)), ",true,false,true,met"));
  EXPECT_EQ(lines[2], absl::StrCat("1,maintenance_reminder,lead-48h,2,", d, ",email,sent,", sent, ",,false,false,true,met"));
  EXPECT_EQ(lines[3], absl::StrCat("2,maintenance_reminder,lead-48h,2,", d, ",sms,delivered,", sent, ",",
                                   At(absl::Minutes(10)), ",false,false,false,missed"));
  EXPECT_EQ(lines[4], absl::StrCat("3,maintenance_reminder,lead-48h,2,", d, ",sms,undelivered,", sent,
                                   ",,false,false,true,met"));
  EXPECT_EQ(lines[5], absl::StrCat("3,maintenance_reminder,lead-48h,2,", d, ",email,delivered,", sent, ",",
                                   At(absl::Minutes(-20)), ",true,true,true,met"));
  EXPECT_EQ(lines[6], absl::StrCat("4,maintenance_reminder,lead-48h,2,", d, ",sms,sent,", sent,
                                   ",,false,false,false,missed"));
  EXPECT_EQ(lines[7], absl::StrCat("5,maintenance_reminder,lead-2h,2,", At(absl::Hours(24)), ",sms,sent,", sent,
                                   ",,false,false,false,pending"));
  EXPECT_EQ(lines[8], absl::StrCat("6,maintenance_reminder,lead-48h,2,", d, ",sms,delivered,", sent, ",",
                                   At(absl::Minutes(-1)), ",true,false,true,met"));
  EXPECT_EQ(lines[9], absl::StrCat("8,maintenance_reminder,lead-48h,2,", d, ",email,held,,,false,false,false,missed"));
  EXPECT_EQ(r.err, absl::StrCat(kSummary, "\n"));
}

TEST_F(ProofCliE2eTest, PrintsJsonWithEveryFieldAndTheSummary) {
  CliRun r = Forewarn({"incident", "proof", kIncident, "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  auto doc = nlohmann::json::parse(r.out, nullptr, false);
  ASSERT_FALSE(doc.is_discarded()) << r.out;
  EXPECT_EQ(r.out, doc.dump(2) + "\n");  // the JSON printer's layout, though written as it streamed
  EXPECT_EQ(doc["incident_id"], kIncident);
  EXPECT_EQ(doc["summary"], (nlohmann::json{{"customers", 7}, {"met", 3}, {"missed", 3}, {"pending", 1}}));
  ASSERT_EQ(doc["proofs"].size(), 7u);
  const auto& three = doc["proofs"][2];
  EXPECT_EQ(three["customer_id"], 3);
  EXPECT_EQ(three["notice_kind"], "maintenance_reminder");
  EXPECT_EQ(three["occasion"], "lead-48h");
  EXPECT_EQ(three["incident_version"], 2);
  EXPECT_EQ(three["deadline"], At(absl::ZeroDuration()));
  EXPECT_EQ(three["met"], true);
  EXPECT_EQ(three["outcome"], "met");
  ASSERT_EQ(three["channels"].size(), 2u);
  EXPECT_EQ(three["channels"][0], (nlohmann::json{{"channel", "sms"}, {"state", "undelivered"},
                                                  {"sent_at", At(absl::Hours(-1))}, {"delivered_at", ""},
                                                  {"met", false}, {"escalation", false}}));
  EXPECT_EQ(three["channels"][1], (nlohmann::json{{"channel", "email"}, {"state", "delivered"},
                                                  {"sent_at", At(absl::Hours(-1))},
                                                  {"delivered_at", At(absl::Minutes(-20))},
                                                  {"met", true}, {"escalation", true}}));
  EXPECT_EQ(doc["proofs"][3]["outcome"], "missed");  // customer 4
  EXPECT_EQ(doc["proofs"][4]["outcome"], "pending");  // customer 5
}

TEST_F(ProofCliE2eTest, MissedOnlyListsTheMissedAndFiltersByKindAndOccasion) {
  CliRun r = Forewarn({"incident", "proof", kIncident, "--missed-only", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  auto doc = nlohmann::json::parse(r.out, nullptr, false);
  ASSERT_FALSE(doc.is_discarded()) << r.out;
  std::vector<int64_t> listed;
  for (const auto& p : doc["proofs"]) listed.push_back(p["customer_id"]);
  EXPECT_EQ(listed, (std::vector<int64_t>{2, 4, 8}));
  EXPECT_EQ(doc["summary"]["customers"], 7);  // the summary counts every notice
  CliRun table = Forewarn({"incident", "proof", kIncident, "--missed-only", "--occasion", "lead-2h"});
  ASSERT_EQ(table.exit_code, 0) << table.err;
  EXPECT_NE(table.out.find("(no notices listed)\n"), std::string::npos) << table.out;
  EXPECT_NE(table.out.find("1 notice with a deadline: 0 met, 0 missed"), std::string::npos) << table.out;
  CliRun kind = Forewarn({"incident", "proof", kIncident, "--kind", "iban_change_holder", "--csv"});
  ASSERT_EQ(kind.exit_code, 0) << kind.err;
  EXPECT_EQ(std::count(kind.out.begin(), kind.out.end(), '\n'), 1) << kind.out;  // the header only
}

TEST_F(ProofCliE2eTest, AnUnknownIncidentOrABadRequestExitsNonZeroWithTheReason) {
  CliRun unknown = Forewarn({"incident", "proof", "00000000-0000-4000-8000-000000000000"});
  EXPECT_EQ(unknown.exit_code, 1) << unknown.out;
  EXPECT_NE(unknown.err.find("incident 00000000-0000-4000-8000-000000000000 not found (5)"), std::string::npos)
      << unknown.err;
  EXPECT_EQ(unknown.out, "");
  CliRun malformed = Forewarn({"incident", "proof", "42"});
  EXPECT_EQ(malformed.exit_code, 1);
  EXPECT_NE(malformed.err.find("incident_id: '42' is neither an incident id (a UUID) nor a reference like RIY-4K7Q (3)"),
            std::string::npos)
      << malformed.err;
  CliRun kind = Forewarn({"incident", "proof", kIncident, "--kind", "reminder", "--csv"});
  EXPECT_EQ(kind.exit_code, 1);
  EXPECT_NE(kind.err.find("notice_kind: unknown notice kind 'reminder' (3)"), std::string::npos) << kind.err;
  CliRun both = Forewarn({"incident", "proof", kIncident, "--csv", "--json"});
  EXPECT_EQ(both.exit_code, 2);
  EXPECT_NE(both.err.find("--csv and --json"), std::string::npos) << both.err;
}

TEST_F(ProofCliE2eTest, ATokenWithoutViewerIsRefused) {
  CliRun r = Forewarn({"incident", "proof", kIncident}, kDirectory);
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_NE(r.err.find("may not ProveNotice"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("(7)"), std::string::npos) << r.err;  // PERMISSION_DENIED
  EXPECT_EQ(r.out, "");
  CliRun none = Forewarn({"incident", "proof", kIncident}, "no-such-token-0123456789");
  EXPECT_EQ(none.exit_code, 1);
  EXPECT_NE(none.err.find("(16)"), std::string::npos) << none.err;  // UNAUTHENTICATED
  // Over gRPC directly: PERMISSION_DENIED and no chunk.
  auto ctx = stack_.Ctx();
  ctx->AddMetadata("authorization", absl::StrCat("Bearer ", kDirectory));
  v1::ProveNoticeRequest req;
  req.set_incident_id(kIncident);
  auto reader = stack_.stub().ProveNotice(ctx.get(), req);
  v1::ProveNoticeChunk chunk;
  EXPECT_FALSE(reader->Read(&chunk));
  EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::PERMISSION_DENIED);
}

}  // namespace
}  // namespace forewarn
