// `forewarn customers ...` end to end: the built CLI against a real intake
// (customer directory over PostgreSQL), as an operator's script runs it.
// Import with rejected rows and a report, idempotent re-import, export and
// re-import unchanged, dry run, full sync, a bad value rejecting only its row
// (and counting as present in a full sync), get/delete/preferences, a
// malformed file, and the roles.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "forewarn/v1/directory.grpc.pb.h"
#include "nlohmann/json.hpp"
#include "tests/e2e/stack.h"

namespace forewarn {
namespace {

using testing::CliRun;

constexpr char kViewer[] = "viewer-token-5f1c2a9e7b";
constexpr char kDirectory[] = "crm-sync-token-9a8b7c6d5e";
constexpr char kOperator[] = "operator-token-2b7f9c0d4e";

std::string SeedSql() {
  return "INSERT INTO services VALUES ('electricity','Electricity','الكهرباء');"
         "INSERT INTO regions VALUES ('riyadh','Riyadh','الرياض');"
         "INSERT INTO regions VALUES ('jeddah','Jeddah','جدة');";
}

// Five good customers (lines 2, 4, 6, 8, 9) and three bad rows: an unknown
// region (line 3), a phone libphonenumber refuses (line 5) and an external
// id repeated within its batch (line 7, C4 again; imported with
// --batch-size 2, lines 6 and 7 share a batch).
constexpr char kCustomersCsv[] =
    "external_id,name,language,time_zone,phone,email,services,accounts,planned_maintenance\n"
    "C1,Ali,ar,Asia/Riyadh,0501234561,ali@example.com,electricity/riyadh,,\n"
    "B1,Bad Region,en,Asia/Riyadh,+966501234562,,electricity/atlantis,,\n"
    "C2,\"Smith, Jo\",en,Asia/Riyadh,+966501234563,jo@example.com,electricity/jeddah,,none\n"
    "B2,Bad Phone,en,Asia/Riyadh,12,,electricity/riyadh,,\n"
    "C4,Omar,en,Asia/Riyadh,+966501234564,,electricity/riyadh,,\n"
    "C4,Omar Again,en,Asia/Riyadh,+966501234565,,electricity/riyadh,,\n"
    "C3,Sara,ar,Asia/Riyadh,,sara@example.com,electricity/riyadh,,sms\n"
    "C5,Lina,ar,Asia/Riyadh,+966501234566,,electricity/jeddah,,\n";

class CustomersCliE2eTest : public testing::CliStackTest {
 protected:
  void SetUp() override {
    StartCliStack("forewarn-customers-",
                  absl::StrCat(kViewer, " viewer dashboards\n", kDirectory, " directory crm-sync\n", kOperator,
                               " operator alice\n"),
                  SeedSql(), kDirectory);
  }

  // The summary of `customers import --json`.
  nlohmann::json Import(const std::vector<std::string>& args, int want_exit) {
    std::vector<std::string> all = {"customers", "import", "--json", "--batch-size", "2", "--window", "2"};
    all.insert(all.end(), args.begin(), args.end());
    CliRun r = Forewarn(all);
    EXPECT_EQ(r.exit_code, want_exit) << r.out << r.err;
    auto summary = nlohmann::json::parse(r.out, nullptr, false);
    EXPECT_FALSE(summary.is_discarded()) << r.out << r.err;
    return summary;
  }

};

// The line numbers of a report file (header skipped).
std::set<int64_t> ReportLines(const std::string& report) {
  std::set<int64_t> lines;
  std::vector<std::string> rows = absl::StrSplit(report, '\n', absl::SkipEmpty());
  for (size_t i = 1; i < rows.size(); ++i) {
    int64_t line = 0;
    EXPECT_TRUE(absl::SimpleAtoi(rows[i].substr(0, rows[i].find(',')), &line)) << rows[i];
    lines.insert(line);
  }
  return lines;
}

TEST_F(CustomersCliE2eTest, ImportReportsBadRowsAndIsIdempotentExportReimportsUnchanged) {
  if (IsSkipped()) return;
  const std::string csv = Write("customers.csv", kCustomersCsv);
  auto first = Import({csv}, 1);  // rows rejected: exit 1
  EXPECT_EQ(first["inserted"], 5);
  EXPECT_EQ(first["rejected"], 3);
  const std::string report = testing::ReadFile(csv + ".rejected.csv");
  EXPECT_EQ(report.rfind("line,external_id,field,reason\n", 0), 0u) << report;
  EXPECT_EQ(ReportLines(report), (std::set<int64_t>{3, 5, 7})) << report;

  auto second = Import({csv}, 1);
  EXPECT_EQ(second["unchanged"], 5);
  EXPECT_EQ(second["inserted"], 0);
  EXPECT_EQ(second["updated"], 0);

  for (const char* format : {"csv", "jsonl"}) {
    const std::string exported = absl::StrCat(dir_, "/exported.", format);
    CliRun r = Forewarn({"customers", "export", "-o", exported});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    auto again = Import({exported}, 0);
    EXPECT_EQ(again["unchanged"], 5) << format;
    EXPECT_EQ(again["rejected"], 0) << format;
  }
  CliRun filtered = Forewarn({"customers", "export", "--format", "jsonl", "--region", "jeddah"});
  ASSERT_EQ(filtered.exit_code, 0) << filtered.err;
  EXPECT_EQ(std::count(filtered.out.begin(), filtered.out.end(), '\n'), 2) << filtered.out;  // C2, C5
}

TEST_F(CustomersCliE2eTest, DryRunWritesNothingAndFullSyncErasesTheMissing) {
  if (IsSkipped()) return;
  const std::string csv = Write("customers.csv", kCustomersCsv);
  auto dry = Import({"--dry-run", csv}, 1);
  EXPECT_EQ(dry["inserted"], 5);
  EXPECT_EQ(dry["dry_run"], true);
  EXPECT_EQ(stack_.db().Exec("SELECT count(*) FROM customers"), "0");

  Import({csv}, 1);
  const std::string subset = Write("subset.csv",
                                   "external_id,name,language,time_zone,services\n"
                                   "C1,Ali,ar,Asia/Riyadh,electricity/riyadh\n"
                                   "C2,\"Smith, Jo\",en,Asia/Riyadh,electricity/jeddah\n");
  auto would = Import({"--dry-run", "--delete-missing", subset}, 0);
  EXPECT_EQ(would["deleted"], 3);
  EXPECT_EQ(Forewarn({"customers", "get", "C5"}).exit_code, 0);
  auto sync = Import({"--delete-missing", subset}, 0);
  EXPECT_EQ(sync["deleted"], 3);
  EXPECT_EQ(sync["updated"], 2);  // their phones, emails and preferences are gone from the file
  CliRun gone = Forewarn({"customers", "get", "C5"});
  EXPECT_EQ(gone.exit_code, 1);
  EXPECT_NE(gone.err.find("(5)"), std::string::npos) << gone.err;  // NOT_FOUND
}

// A value the CLI cannot turn into a field (services without a region, an
// unknown JSON field) rejects its row only: the rest is imported, the report
// names the row with the CLI's field and reason, and the counts agree with it.
TEST_F(CustomersCliE2eTest, ABadValueRejectsOnlyItsRow) {
  if (IsSkipped()) return;
  const std::string csv = Write("mixed.csv",
                                "external_id,name,language,time_zone,services\n"
                                "N1,Nadia,ar,Asia/Riyadh,electricity/riyadh\n"
                                "N2,No Region,en,Asia/Riyadh,electricity\n"
                                "N3,Faisal,en,Asia/Riyadh,electricity/jeddah\n"
                                "N4,Huda,ar,Asia/Riyadh,electricity/riyadh\n");
  auto summary = Import({csv}, 1);
  EXPECT_EQ(summary["inserted"], 3);
  EXPECT_EQ(summary["rejected"], 1);
  const std::string report = testing::ReadFile(csv + ".rejected.csv");
  EXPECT_EQ(ReportLines(report), (std::set<int64_t>{3})) << report;
  EXPECT_NE(report.find("3,N2,services[0],'electricity' is not SERVICE/REGION (e.g. electricity/riyadh)\n"),
            std::string::npos)
      << report;
  EXPECT_EQ(Forewarn({"customers", "get", "N2"}).exit_code, 1);
  for (const char* id : {"N1", "N3", "N4"}) EXPECT_EQ(Forewarn({"customers", "get", id}).exit_code, 0) << id;

  const std::string jsonl = Write("mixed.jsonl",
                                  "{\"external_id\":\"J1\",\"name\":\"A\",\"language\":\"en\",\"time_zone\":\"UTC\","
                                  "\"fax\":\"1\"}\n"
                                  "{\"external_id\":\"J2\",\"name\":\"B\",\"language\":\"en\",\"time_zone\":\"UTC\"}\n");
  auto json_summary = Import({jsonl}, 1);
  EXPECT_EQ(json_summary["inserted"], 1);
  EXPECT_EQ(json_summary["rejected"], 1);
  const std::string json_report = testing::ReadFile(jsonl + ".rejected.csv");
  EXPECT_NE(json_report.find("1,J1,fax,unknown field\n"), std::string::npos) << json_report;
}

// --delete-missing with a row the CLI rejected: that customer stays (the row
// names it), the others the file omits are erased, and the summary's
// rejected rows are exactly the report's lines (the CLI's and the intake's).
TEST_F(CustomersCliE2eTest, ASyncKeepsTheCustomerOfARowWithABadValue) {
  if (IsSkipped()) return;
  Import({Write("customers.csv", kCustomersCsv)}, 1);  // C1..C5 stored
  const std::string sync = Write("sync.csv",
                                 "external_id,name,language,time_zone,services\n"
                                 "C1,Ali,ar,Asia/Riyadh,electricity/riyadh\n"
                                 "C3,Sara,ar,Asia/Riyadh,electricity\n"  // line 3: the CLI rejects it
                                 "C2,\"Smith, Jo\",en,Asia/Riyadh,electricity/jeddah\n"
                                 "B1,Bad Region,en,Asia/Riyadh,electricity/atlantis\n"  // line 5: the intake does
                                 "C6,Nora,ar,Asia/Riyadh,electricity/riyadh\n");
  auto summary = Import({"--delete-missing", sync}, 1);
  EXPECT_EQ(summary["deleted"], 2);  // C4, C5
  EXPECT_EQ(summary["inserted"], 1);
  EXPECT_EQ(summary["rejected"], 2);
  const std::string report = testing::ReadFile(sync + ".rejected.csv");
  EXPECT_EQ(ReportLines(report), (std::set<int64_t>{3, 5})) << report;
  EXPECT_EQ(std::count(report.begin(), report.end(), '\n'), 1 + 2) << report;  // the header and one per rejected row
  EXPECT_NE(report.find("3,C3,services[0],"), std::string::npos) << report;  // the CLI's reason, not "name"
  EXPECT_EQ(report.find(",name,"), std::string::npos) << report;
  CliRun kept = Forewarn({"customers", "get", "C3", "--json"});
  ASSERT_EQ(kept.exit_code, 0) << kept.err;  // not erased, and unchanged
  EXPECT_EQ(nlohmann::json::parse(kept.out)["name"], "Sara");
  EXPECT_EQ(Forewarn({"customers", "get", "C4"}).exit_code, 1);
  EXPECT_EQ(Forewarn({"customers", "get", "C5"}).exit_code, 1);
}

TEST_F(CustomersCliE2eTest, MalformedFileNamesItsLineAndASyncIsCancelled) {
  if (IsSkipped()) return;
  Import({Write("customers.csv", kCustomersCsv)}, 1);
  const std::string bad = Write("bad.csv",
                                "external_id,name,language,time_zone,services\n"
                                "C1,Ali,ar,Asia/Riyadh,electricity/riyadh\n"
                                "C2,Jo,en,Asia/Riyadh,electricity/jeddah\n"
                                "C3,\"never closed,ar,Asia/Riyadh,electricity/riyadh\n"
                                "C4,Omar,en,Asia/Riyadh,electricity/riyadh\n");
  CliRun r = Forewarn({"customers", "import", "--batch-size", "1", "--delete-missing", bad});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find(bad + ":4: unterminated quoted field"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("nothing was erased"), std::string::npos) << r.err;
  EXPECT_EQ(Forewarn({"customers", "get", "C5"}).exit_code, 0);  // not erased
  CliRun header = Forewarn({"customers", "import", Write("h.csv", "external_id,name,language,time_zone,fax\n")});
  EXPECT_EQ(header.exit_code, 1);
  EXPECT_NE(header.err.find("h.csv:1: unknown column 'fax'"), std::string::npos) << header.err;
}

TEST_F(CustomersCliE2eTest, GetPreferencesAndDelete) {
  if (IsSkipped()) return;
  Import({Write("customers.csv", kCustomersCsv)}, 1);
  CliRun got = Forewarn({"customers", "get", "C1", "--json"});
  ASSERT_EQ(got.exit_code, 0) << got.err;
  auto c1 = nlohmann::json::parse(got.out);
  EXPECT_EQ(c1["external_id"], "C1");
  EXPECT_EQ(c1["phone"], "+966501234561");  // normalised to E.164

  CliRun prefs = Forewarn({"customers", "preferences", "C1", "--planned-maintenance", "none", "--json"});
  ASSERT_EQ(prefs.exit_code, 0) << prefs.err;
  auto p = nlohmann::json::parse(prefs.out)["preferences"];
  EXPECT_EQ(p["planned_maintenance"]["sms"], false);
  EXPECT_EQ(p["planned_maintenance"]["email"], false);
  EXPECT_EQ(p["unplanned_outages"]["sms"], true);  // kept
  EXPECT_EQ(p["unplanned_outages"]["email"], true);

  CliRun refused = Forewarn({"customers", "preferences", "C1", "--unplanned-outages", "none"});
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_NE(refused.err.find("unplanned_outages"), std::string::npos) << refused.err;
  EXPECT_NE(refused.err.find("(9)"), std::string::npos) << refused.err;  // FAILED_PRECONDITION

  CliRun erased = Forewarn({"customers", "delete", "C1"});
  ASSERT_EQ(erased.exit_code, 0) << erased.err;
  EXPECT_NE(erased.out.find("Erased customer"), std::string::npos) << erased.out;
  EXPECT_EQ(Forewarn({"customers", "get", "C1"}).exit_code, 1);
}

TEST_F(CustomersCliE2eTest, OnlyDirectoryAndOperatorRolesReachCustomers) {
  if (IsSkipped()) return;
  Import({Write("customers.csv", kCustomersCsv)}, 1);
  CliRun viewer = Forewarn({"customers", "get", "C1"}, kViewer);
  EXPECT_EQ(viewer.exit_code, 1);
  EXPECT_NE(viewer.err.find("dashboards (viewer) may not GetCustomer"), std::string::npos) << viewer.err;
  EXPECT_NE(viewer.err.find("(7)"), std::string::npos) << viewer.err;  // PERMISSION_DENIED
  CliRun viewer_import = Forewarn({"customers", "import", Write("one.csv", "external_id,name,language,time_zone\n"
                                                                        "C9,N,en,UTC\n")},
                               kViewer);
  EXPECT_EQ(viewer_import.exit_code, 1);
  EXPECT_NE(viewer_import.err.find("may not UpsertCustomers"), std::string::npos) << viewer_import.err;
  EXPECT_EQ(Forewarn({"customers", "get", "C1"}, kOperator).exit_code, 0);
  EXPECT_EQ(Forewarn({"customers", "get", "C1"}, kDirectory).exit_code, 0);
  CliRun incidents = Forewarn({"incident", "list"}, kDirectory);  // the directory role reads no incident
  EXPECT_EQ(incidents.exit_code, 1);
  EXPECT_NE(incidents.err.find("crm-sync (directory) may not ListIncidents"), std::string::npos) << incidents.err;
}

// UpsertCustomers over gRPC itself: the shape of a batch is checked, each
// batch is answered as it commits, and a cancelled full sync erases nothing.
TEST_F(CustomersCliE2eTest, UpsertStreamChecksBatchesAndACancelledSyncErasesNothing) {
  if (IsSkipped()) return;
  Import({Write("customers.csv", kCustomersCsv)}, 1);
  auto stub = v1::CustomerDirectory::NewStub(
      grpc::CreateChannel(stack_.intake_target(), grpc::InsecureChannelCredentials()));
  auto ctx = [] {
    auto c = std::make_unique<grpc::ClientContext>();
    c->AddMetadata("authorization", absl::StrCat("Bearer ", kDirectory));
    return c;
  };
  auto customer = [](v1::UpsertCustomersRequest& req, const std::string& id) {
    v1::Customer* c = req.add_customers();
    c->set_external_id(id);
    c->set_name("N");
    c->set_language("en");
    c->set_time_zone("Asia/Riyadh");
  };
  {  // refs not one per customer
    auto c = ctx();
    auto stream = stub->UpsertCustomers(c.get());
    v1::UpsertCustomersRequest req;
    customer(req, "R1");
    customer(req, "R2");
    req.add_refs(2);
    stream->Write(req);
    stream->WritesDone();
    v1::UpsertCustomersResponse resp;
    EXPECT_FALSE(stream->Read(&resp));
    grpc::Status s = stream->Finish();
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_EQ(s.error_message(), "refs: batch 0 has 1 refs for 2 customers (one per customer, or none)");
  }
  {  // over 5000
    auto c = ctx();
    auto stream = stub->UpsertCustomers(c.get());
    v1::UpsertCustomersRequest req;
    for (int i = 0; i < 5001; ++i) customer(req, absl::StrCat("X", i));
    stream->Write(req);
    stream->WritesDone();
    v1::UpsertCustomersResponse resp;
    while (stream->Read(&resp)) {
    }
    EXPECT_EQ(stream->Finish().error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  }
  {  // a full sync naming only R1, answered, then cancelled: nothing erased
    auto c = ctx();
    auto stream = stub->UpsertCustomers(c.get());
    v1::UpsertCustomersRequest req;
    req.set_delete_missing(true);
    customer(req, "R1");
    req.add_refs(42);
    ASSERT_TRUE(stream->Write(req));
    v1::UpsertCustomersResponse resp;
    ASSERT_TRUE(stream->Read(&resp));
    ASSERT_TRUE(resp.has_batch());
    EXPECT_EQ(resp.batch().inserted(), 1);
    c->TryCancel();
    while (stream->Read(&resp)) {
    }
    EXPECT_EQ(stream->Finish().error_code(), grpc::StatusCode::CANCELLED);
  }
  {  // a full sync naming only R1 that ends without its request marked last: nothing erased
    auto c = ctx();
    auto stream = stub->UpsertCustomers(c.get());
    v1::UpsertCustomersRequest req;
    req.set_delete_missing(true);
    customer(req, "R1");
    ASSERT_TRUE(stream->Write(req));
    stream->WritesDone();
    v1::UpsertCustomersResponse resp;
    while (stream->Read(&resp)) {
    }
    const grpc::Status s = stream->Finish();
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_EQ(s.error_message(),
              "last: the full sync ended without a request marked last (a truncated stream): nothing erased");
  }
  EXPECT_EQ(Forewarn({"customers", "get", "C5"}).exit_code, 0);  // not erased
  EXPECT_EQ(Forewarn({"customers", "get", "R1"}).exit_code, 0);  // the answered batch stays
}

}  // namespace
}  // namespace forewarn
