#include <sstream>
#include <string>

#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "services/cli/printer.h"

namespace forewarn::cli {
namespace {

using nlohmann::json;

google::protobuf::Timestamp At(int64_t seconds, int32_t nanos = 0) {
  google::protobuf::Timestamp ts;
  ts.set_seconds(seconds);
  ts.set_nanos(nanos);
  return ts;
}

constexpr int64_t k2026_11_23_18h = 1795456800;  // 2026-11-23T18:00:00Z

v1::Incident Outage() {
  v1::Incident i;
  i.set_id("7b0c6a1e-0000-4000-8000-000000000001");
  i.set_ref("RIY-4K7Q");
  i.set_version(3);
  i.set_kind(v1::UNPLANNED_OUTAGE);
  i.set_state(v1::OPEN);
  i.add_services("electricity");
  i.add_services("water");
  i.add_regions("riyadh");
  i.mutable_reason()->set_en("Cable fault");
  i.mutable_reason()->set_ar("عطل في الكابل");
  *i.mutable_starts_at() = At(k2026_11_23_18h, 999999999);  // printed in whole seconds
  *i.mutable_expected_restoration_at() = At(k2026_11_23_18h + 3 * 3600);
  i.set_idempotency_key("key-1");
  *i.mutable_created_at() = At(k2026_11_23_18h + 60);
  *i.mutable_updated_at() = At(k2026_11_23_18h + 120);
  return i;
}

v1::DeliveryReport Report() {
  v1::DeliveryReport r;
  r.set_incident_id("inc-1");
  r.set_incident_version(2);
  auto* sent = r.add_counts();
  sent->set_incident_version(1);
  sent->set_notice_kind("outage_started");
  sent->set_channel(v1::SMS);
  sent->set_state(v1::SENT);
  sent->set_count(120);
  auto* dead = r.add_counts();
  dead->set_incident_version(2);
  dead->set_notice_kind("maintenance_reminder");
  dead->set_occasion("lead-48h");
  dead->set_channel(v1::EMAIL);
  dead->set_state(v1::DEAD_LETTERED);
  dead->set_count(1);
  auto* f = r.add_failures();
  f->set_customer_id(42);
  f->set_channel(v1::EMAIL);
  f->set_incident_version(2);
  f->set_notice_kind("maintenance_reminder");
  f->set_error("550 mailbox unavailable");
  r.set_uninformed(3);
  r.set_uninformed_customers(1);
  r.set_uninformed_notice_kind("outage_updated");
  return r;
}

struct Printed {
  std::string out, err;
};

template <typename Result>
Printed Text(const Result& result) {
  std::ostringstream out, err;
  MakeTextPrinter(out, err)->Print(result);
  return {out.str(), err.str()};
}

template <typename Result>
std::string Json(const Result& result) {
  std::ostringstream out;
  MakeJsonPrinter(out)->Print(result);
  return out.str();
}

TEST(CliTextPrinter, PrintsAnIncidentAsLabelledLinesInWholeUtcSeconds) {
  const Printed p = Text(Outage());
  EXPECT_EQ(p.out,
            "Incident RIY-4K7Q 7b0c6a1e-0000-4000-8000-000000000001 (version 3, open)\n"
            "  kind:          unplanned_outage\n"
            "  services:      electricity, water\n"
            "  regions:       riyadh\n"
            "  reason (en):   Cable fault\n"
            "  reason (ar):   عطل في الكابل\n"
            "  starts:        2026-11-23T18:00:00Z\n"
            "  restoration:   2026-11-23T21:00:00Z\n");
  EXPECT_EQ(p.err, "");
}

TEST(CliTextPrinter, PrintsResolvedTimeAndIbansOnlyWhenTheIncidentHasThem) {
  v1::Incident i = Outage();
  i.set_kind(v1::IBAN_CHANGE);
  i.set_state(v1::RESOLVED);
  *i.mutable_resolved_at() = At(k2026_11_23_18h + 7200);
  i.set_old_iban("SA03 8000 0000 6080 1016 7519");
  i.set_new_iban("SA44 2000 0001 2345 6789 1234");
  const std::string out = Text(i).out;
  EXPECT_NE(out.find("(version 3, resolved)\n"), std::string::npos) << out;
  EXPECT_NE(out.find("  kind:          iban_change\n"), std::string::npos) << out;
  EXPECT_NE(out.find("  restoration:   2026-11-23T21:00:00Z\n"
                     "  resolved:      2026-11-23T20:00:00Z\n"
                     "  old IBAN:      SA03 8000 0000 6080 1016 7519\n"
                     "  new IBAN:      SA44 2000 0001 2345 6789 1234\n"),
            std::string::npos)
      << out;
}

TEST(CliJsonPrinter, PrintsAnIncidentWithLowerCaseNamesAndEmptyUnsetTimes) {
  const std::string text = Json(Outage());
  ASSERT_EQ(text.back(), '\n');
  const json doc = json::parse(text);
  EXPECT_EQ(doc, json::parse(R"({
    "id": "7b0c6a1e-0000-4000-8000-000000000001", "ref": "RIY-4K7Q", "version": 3,
    "kind": "unplanned_outage", "state": "open",
    "services": ["electricity", "water"], "regions": ["riyadh"],
    "reason": {"ar": "عطل في الكابل", "en": "Cable fault"},
    "starts_at": "2026-11-23T18:00:00Z", "expected_restoration_at": "2026-11-23T21:00:00Z",
    "resolved_at": "", "idempotency_key": "key-1",
    "created_at": "2026-11-23T18:01:00Z", "updated_at": "2026-11-23T18:02:00Z",
    "old_iban": "", "new_iban": "", "asset_codes": [], "audience_id": ""})"));
  // Indented by two, keys sorted.
  EXPECT_EQ(text.rfind("{\n  \"asset_codes\": [],\n  \"audience_id\": \"\",\n  \"created_at\"", 0), 0u) << text;
}

TEST(CliJsonPrinter, ReplacesInvalidUtf8InsteadOfFailing) {
  v1::Incident i = Outage();
  i.mutable_reason()->set_en("bad \xff byte");
  EXPECT_EQ(json::parse(Json(i))["reason"]["en"], "bad \xEF\xBF\xBD byte");
}

TEST(CliTextPrinter, PrintsADeliveryReportTableCompletenessAndFailures) {
  const Printed p = Text(Report());
  EXPECT_EQ(p.out,
            "Delivery report for incident inc-1 (now at version 2)\n"
            "  VERSION  NOTICE                              CHANNEL  STATE          COUNT\n"
            "  1        outage_started                      sms      sent             120\n"
            "  2        maintenance_reminder (lead-48h)     email    dead_lettered         1\n"
            "Not yet told of version 2 (outage_updated): 3 notices to 1 customer"
            " (see: forewarn incident reconcile ID)\n"
            "Failures:\n"
            "  customer 42 email v2 maintenance_reminder: 550 mailbox unavailable\n");
  EXPECT_EQ(p.err, "");
}

TEST(CliTextPrinter, SaysSoWhenAReportHasNoNoticesYet) {
  v1::DeliveryReport r;
  r.set_incident_id("inc-2");
  r.set_incident_version(1);
  EXPECT_EQ(Text(r).out,
            "Delivery report for incident inc-2 (now at version 1)\n"
            "  VERSION  NOTICE                              CHANNEL  STATE          COUNT\n"
            "  (no notices recorded yet)\n");
}

TEST(CliJsonPrinter, PrintsADeliveryReportWithCountsAndFailures) {
  EXPECT_EQ(json::parse(Json(Report())), json::parse(R"({
    "incident_id": "inc-1", "incident_version": 2,
    "counts": [
      {"incident_version": 1, "notice_kind": "outage_started", "occasion": "", "channel": "sms",
       "state": "sent", "count": 120},
      {"incident_version": 2, "notice_kind": "maintenance_reminder", "occasion": "lead-48h",
       "channel": "email", "state": "dead_lettered", "count": 1}],
    "failures": [
      {"customer_id": 42, "channel": "email", "incident_version": 2,
       "notice_kind": "maintenance_reminder", "error": "550 mailbox unavailable"}],
    "uninformed": 3, "uninformed_customers": 1, "uninformed_notice_kind": "outage_updated"})"));
}

TEST(CliTextPrinter, PrintsTheIncidentListAsATable) {
  v1::ListIncidentsResponse list;
  *list.add_incidents() = Outage();
  EXPECT_EQ(Text(list).out,
            "REF         ID                                    VER  STATE     STARTS                RESTORATION           "
            "SERVICES/REGIONS\n"
            "RIY-4K7Q    7b0c6a1e-0000-4000-8000-000000000001    3  open      2026-11-23T18:00:00Z  "
            "2026-11-23T21:00:00Z  electricity,water / riyadh\n");
}

TEST(CliJsonPrinter, PrintsTheIncidentListAsAnArray) {
  v1::ListIncidentsResponse list;
  EXPECT_EQ(Json(list), "[]\n");
  *list.add_incidents() = Outage();
  const json doc = json::parse(Json(list));
  ASSERT_EQ(doc.size(), 1u);
  EXPECT_EQ(doc[0]["id"], "7b0c6a1e-0000-4000-8000-000000000001");
  EXPECT_EQ(doc[0]["ref"], "RIY-4K7Q");
}

TEST(CliTextPrinter, PrintsReconcileRecipientsMissingOrByStateAndWhatWasRedriven) {
  v1::ReconcileIncidentResponse r;
  r.set_incident_id("inc-1");
  r.set_incident_version(2);
  r.set_notice_kind("maintenance_reminder");
  r.set_occasion("lead-2h");
  r.set_audience(10);
  r.set_uninformed(3);
  r.set_uninformed_customers(2);
  r.set_missing(1);
  r.set_failed(1);
  r.set_pending(1);
  auto* missing = r.add_recipients();
  missing->set_customer_id(7);
  missing->set_channel(v1::SMS);
  auto* failed = r.add_recipients();
  failed->set_customer_id(8);
  failed->set_channel(v1::EMAIL);
  failed->set_state(v1::FAILED);
  r.set_redriven(true);
  EXPECT_EQ(Text(r).out,
            "Completeness of incident inc-1 version 2 (maintenance_reminder, lead-2h)\n"
            "  audience:    10 notices (customer x channel)\n"
            "  uninformed:  3 notices to 2 customers (1 missing, 1 failed, 0 dead-lettered, 1 pending)\n"
            "    customer 7 sms: missing\n"
            "    customer 8 email: failed\n"
            "    ... and 1 more\n"
            "Re-driven: the fan-out of version 2 was queued again; only those not yet told will get a notice.\n");
  const json doc = json::parse(Json(r));
  EXPECT_EQ(doc["recipients"], json::parse(R"([{"customer_id": 7, "channel": "sms", "state": "missing"},
                                               {"customer_id": 8, "channel": "email", "state": "failed"}])"));
  EXPECT_EQ(doc["redriven"], true);
}

TEST(CliTextPrinter, PrintsDeadLettersAndWarnsOfOverBudgetSmsOnTheErrorStream) {
  v1::ListDeadLettersResponse dlq;
  dlq.set_pending(2);
  auto* d = dlq.add_dead_letters();
  d->set_incident_id("inc-1");
  d->set_incident_version(1);
  d->set_notice_kind("maintenance_reminder");
  d->set_occasion("lead-48h");
  d->set_customer_id(5);
  d->set_channel(v1::SMS);
  d->set_masked_address("+9665*****67");
  d->set_attempts(5);
  d->set_last_error("503");
  *d->mutable_dead_at() = At(k2026_11_23_18h);
  const std::string out = Text(dlq).out;
  EXPECT_EQ(out.substr(0, out.find('\n') + 1), "2 dead-lettered notices waiting for a replay\n");
  EXPECT_NE(out.find("  2026-11-23T18:00:00Z  inc-1"), std::string::npos) << out;
  EXPECT_NE(out.find("maintenance_reminder/lead-48h"), std::string::npos) << out;
  EXPECT_NE(out.find("  ... and 1 more\n"), std::string::npos) << out;

  v1::PreviewNoticesResponse preview;
  preview.set_notice_kind("outage_started");
  preview.set_incident_version(1);
  auto* sms = preview.add_previews();
  sms->set_customer_id(9);
  sms->set_locale("ar");
  sms->set_channel(v1::SMS);
  sms->set_text("نص");
  sms->set_sms_encoding("ucs2");
  sms->set_sms_segments(3);
  sms->set_sms_budget(2);
  sms->set_over_budget(true);
  const Printed p = Text(preview);
  EXPECT_EQ(p.out,
            "Notice outage_started of version 1\n"
            "\n-- customer 9, ar, sms (ucs2, 3 segments, budget 2)\nنص\n"
            "\nAudience: 0 SMS, 0 email\n"
            "Estimated completion: no provider rate limits configured\n");
  EXPECT_EQ(p.err, "warning: the SMS to customer 9 (ar) is 3 segments, over the budget of 2\n");
  EXPECT_EQ(json::parse(Json(preview))["previews"][0]["over_budget"], true);
}

}  // namespace
}  // namespace forewarn::cli

namespace forewarn::cli {
namespace {

// Proof of notice: a deadline at 18:00, the CLI's clock at 19:00.
const absl::Time kProofNow = absl::FromUnixSeconds(k2026_11_23_18h + 3600);

v1::NoticeProof Proof(int64_t customer, bool met, int64_t deadline = k2026_11_23_18h) {
  v1::NoticeProof p;
  p.set_customer_id(customer);
  p.set_notice_kind("maintenance_reminder");
  p.set_occasion("lead-48h");
  p.set_incident_version(2);
  *p.mutable_deadline() = At(deadline);
  p.set_met(met);
  auto* sms = p.add_channels();
  sms->set_channel(v1::SMS);
  sms->set_state(met ? v1::UNDELIVERED : v1::SENT);
  *sms->mutable_sent_at() = At(k2026_11_23_18h - 3600);
  if (met) {
    sms->set_escalation(false);
    auto* email = p.add_channels();
    email->set_channel(v1::EMAIL);
    email->set_state(v1::DELIVERED);
    *email->mutable_sent_at() = At(k2026_11_23_18h - 1800);
    *email->mutable_delivered_at() = At(k2026_11_23_18h - 600);
    email->set_met(true);
    email->set_escalation(true);
  }
  return p;
}

v1::ProofSummary ProofTotals() {
  v1::ProofSummary s;
  s.set_customers(3);
  s.set_met(1);
  s.set_missed(1);
  s.set_pending(1);
  return s;
}

// Writes the proofs of customers 1 (met by escalation), 2 (missed) and 3
// (pending) and the summary through `printer`.
void PrintProofs(ProofPrinter& printer, bool complete = true) {
  printer.Add(Proof(1, true));
  printer.Add(Proof(2, false));
  printer.Add(Proof(3, false, k2026_11_23_18h + 7200));
  const v1::ProofSummary s = ProofTotals();
  printer.End(complete ? &s : nullptr);
}

TEST(CliProofPrinter, PrintsATableRowPerChannelFlaggingMissedAndPendingThenTheSummary) {
  std::ostringstream out;
  PrintProofs(*MakeTextPrinter(out, out)->Proofs("inc-1", kProofNow));
  EXPECT_EQ(out.str(),
            "Proof of notice for incident inc-1\n"
            "  CUSTOMER  KIND                     OCCASION    VER  DEADLINE              CHANNEL  STATE        SENT"
            "                  DELIVERED             MET  ESCALATED  FLAG\n"
            "         1  maintenance_reminder     lead-48h      2  2026-11-23T18:00:00Z  sms      undelivered  "
            "2026-11-23T17:00:00Z  -                     no   -\n"
            "         1  maintenance_reminder     lead-48h      2  2026-11-23T18:00:00Z  email    delivered    "
            "2026-11-23T17:30:00Z  2026-11-23T17:50:00Z  yes  yes\n"
            "         2  maintenance_reminder     lead-48h      2  2026-11-23T18:00:00Z  sms      sent         "
            "2026-11-23T17:00:00Z  -                     no   -          MISSED\n"
            "         3  maintenance_reminder     lead-48h      2  2026-11-23T20:00:00Z  sms      sent         "
            "2026-11-23T17:00:00Z  -                     no   -          pending\n"
            "3 notices with a deadline: 1 met, 1 missed (not delivered by the deadline), 1 pending (deadline not "
            "passed yet)\n");
}

TEST(CliProofPrinter, AnEmptyTableSaysSoAndAFailedStreamPrintsNoSummary) {
  std::ostringstream empty;
  const v1::ProofSummary none;
  MakeTextProofPrinter(empty, "inc-1", kProofNow)->End(&none);
  EXPECT_NE(empty.str().find("(no notices listed)\n0 notices with a deadline: 0 met"), std::string::npos)
      << empty.str();
  std::ostringstream failed;
  PrintProofs(*MakeTextProofPrinter(failed, "inc-1", kProofNow), /*complete=*/false);
  EXPECT_EQ(failed.str().find("notices with a deadline"), std::string::npos) << failed.str();
}

TEST(CliProofPrinter, WritesCsvWithAHeaderQuotingAsRfc4180AndTheSummaryOnTheErrorStream) {
  std::ostringstream out, err;
  auto printer = MakeCsvProofPrinter(out, err, kProofNow);
  v1::NoticeProof odd = Proof(4, false);
  odd.set_occasion("lead, \"48h\"");
  printer->Add(Proof(1, true));
  printer->Add(odd);
  const v1::ProofSummary s = ProofTotals();
  printer->End(&s);
  EXPECT_EQ(out.str(),
            "customer_id,notice_kind,occasion,incident_version,deadline,channel,state,sent_at,delivered_at,met,"
            "escalation,notice_met,outcome\n"
            "1,maintenance_reminder,lead-48h,2,2026-11-23T18:00:00Z,sms,undelivered,2026-11-23T17:00:00Z,,false,"
            "false,true,met\n"
            "1,maintenance_reminder,lead-48h,2,2026-11-23T18:00:00Z,email,delivered,2026-11-23T17:30:00Z,"
            "2026-11-23T17:50:00Z,true,true,true,met\n"
            "4,maintenance_reminder,\"lead, \"\"48h\"\"\",2,2026-11-23T18:00:00Z,sms,sent,2026-11-23T17:00:00Z,,"
            "false,false,false,missed\n");
  EXPECT_EQ(err.str(),
            "3 notices with a deadline: 1 met, 1 missed (not delivered by the deadline), 1 pending (deadline not "
            "passed yet)\n");
}

TEST(CliProofPrinter, WritesOneJsonDocumentAsTheJsonPrinterLaysItOut) {
  std::ostringstream out;
  PrintProofs(*MakeJsonPrinter(out)->Proofs("inc-1", kProofNow));
  const json doc = json::parse(out.str());
  EXPECT_EQ(out.str(), doc.dump(2) + "\n");  // streamed, yet byte for byte the printer's layout
  EXPECT_EQ(doc["incident_id"], "inc-1");
  EXPECT_EQ(doc["summary"], json::parse(R"({"customers": 3, "met": 1, "missed": 1, "pending": 1})"));
  ASSERT_EQ(doc["proofs"].size(), 3u);
  EXPECT_EQ(doc["proofs"][0], json::parse(R"({
    "customer_id": 1, "notice_kind": "maintenance_reminder", "occasion": "lead-48h", "incident_version": 2,
    "deadline": "2026-11-23T18:00:00Z", "met": true, "outcome": "met",
    "channels": [
      {"channel": "sms", "state": "undelivered", "sent_at": "2026-11-23T17:00:00Z", "delivered_at": "",
       "met": false, "escalation": false},
      {"channel": "email", "state": "delivered", "sent_at": "2026-11-23T17:30:00Z",
       "delivered_at": "2026-11-23T17:50:00Z", "met": true, "escalation": true}]})"));
  EXPECT_EQ(doc["proofs"][1]["outcome"], "missed");
  EXPECT_EQ(doc["proofs"][2]["outcome"], "pending");
}

TEST(CliProofPrinter, JsonStaysWellFormedWithoutProofsAndWhenTheStreamFailed) {
  std::ostringstream empty;
  const v1::ProofSummary none;
  MakeJsonProofPrinter(empty, "inc-1", kProofNow)->End(&none);
  const json e = json::parse(empty.str());
  EXPECT_EQ(empty.str(), e.dump(2) + "\n");
  EXPECT_TRUE(e["proofs"].empty());
  for (auto* make : {&MakeJsonProofPrinter, &MakeTextProofPrinter}) {
    std::ostringstream nothing;
    make(nothing, "inc-1", kProofNow)->End(nullptr);  // failed before any proof: as any failed call
    EXPECT_EQ(nothing.str(), "");
  }
  std::ostringstream csv, csv_err;
  MakeCsvProofPrinter(csv, csv_err, kProofNow)->End(nullptr);
  EXPECT_EQ(csv.str() + csv_err.str(), "");
  std::ostringstream failed;
  PrintProofs(*MakeJsonProofPrinter(failed, "inc-1", kProofNow), /*complete=*/false);
  const json f = json::parse(failed.str());
  EXPECT_EQ(f["proofs"].size(), 3u);
  EXPECT_TRUE(f["summary"].is_null());
}

}  // namespace
}  // namespace forewarn::cli
