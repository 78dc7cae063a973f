// The customer directory end to end: customers imported from a CSV file with
// the CLI (over gRPC, into PostgreSQL) are the audience of the next
// incidents, each on the channels they chose; an opt-out of maintenance is
// respected and one of unplanned outages refused; erasure leaves no personal
// data in any table.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "forewarn/v1/directory.grpc.pb.h"
#include "forewarn/v1/incident.grpc.pb.h"
#include "nlohmann/json.hpp"
#include "tests/e2e/stack.h"

namespace forewarn {
namespace {

using Recipients = std::set<std::pair<std::string, std::string>>;  // (external id, channel)

constexpr int kCustomers = 24;

// Customer i of the file, with the channels the audience rule gives it.
struct Row {
  std::string external_id, phone, email, services, unplanned = "", maintenance = "";
};

Row RowFor(int i) {
  Row r;
  r.external_id = absl::StrCat("D-", i);
  r.phone = i % 7 == 0 ? "" : absl::StrCat("+96650", 1000000 + i);
  r.email = i % 5 == 0 ? "" : absl::StrCat("d", i, "@example.com");
  r.services = i <= 16 ? "electricity/riyadh" : "electricity/jeddah";
  if (i % 2 == 0) r.services += ";water/riyadh";
  if (i % 4 == 1) r.maintenance = "none";
  if (i % 4 == 2) r.unplanned = "sms";
  if (i % 4 == 3) r.maintenance = "email";
  return r;
}

// The audience rule: SMS when chosen and there is a phone; email when chosen,
// or when SMS was chosen but there is no phone; never without an address.
void AddRecipients(const Row& r, const std::string& chosen, Recipients& out) {
  const bool sms = chosen.empty() || chosen.find("sms") != std::string::npos;
  const bool email = chosen.empty() || chosen.find("email") != std::string::npos;
  if (sms && !r.phone.empty()) out.insert({r.external_id, "sms"});
  if (!r.email.empty() && (email || (sms && r.phone.empty()))) out.insert({r.external_id, "email"});
}

std::string CsvFile() {
  std::string csv =
      "external_id,name,language,time_zone,phone,email,services,unplanned_outages,planned_maintenance\n";
  for (int i = 1; i <= kCustomers; ++i) {
    const Row r = RowFor(i);
    absl::StrAppend(&csv, r.external_id, ",", i == 2 ? "Erasable Person" : absl::StrCat("Customer ", i), ",",
                    i % 2 ? "en" : "ar", ",Asia/Riyadh,", r.phone, ",", r.email, ",", r.services, ",", r.unplanned,
                    ",", r.maintenance, "\n");
  }
  // Lines 26-29: four rows that must be refused, each for its own reason.
  absl::StrAppend(&csv, "D-bad-1,Bad Region,en,Asia/Riyadh,,x1@example.com,electricity/atlantis,,\n");
  absl::StrAppend(&csv, "D-bad-2,Bad Phone,en,Asia/Riyadh,+96612,,electricity/riyadh,,\n");
  absl::StrAppend(&csv, "D-3,Duplicate,en,Asia/Riyadh,,x3@example.com,electricity/riyadh,,\n");
  absl::StrAppend(&csv, "D-bad-4,Silenced,en,Asia/Riyadh,,x4@example.com,electricity/riyadh,none,\n");
  return csv;
}

std::string SeedSql() {
  return "INSERT INTO services VALUES ('electricity','Electricity','الكهرباء'),('water','Water','المياه');"
         "INSERT INTO regions VALUES ('riyadh','Riyadh','الرياض'),('jeddah','Jeddah','جدة');";
}

struct CommandResult {
  int exit_code = -1;
  std::string out;
};

CommandResult Shell(const std::string& cmd) {
  CommandResult r;
  if (FILE* p = ::popen(cmd.c_str(), "r")) {
    char buf[4096];
    for (size_t n; (n = std::fread(buf, 1, sizeof(buf), p)) > 0;) r.out.append(buf, n);
    const int status = ::pclose(p);
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }
  return r;
}

class DirectoryE2eTest : public testing::StackTest {
 protected:
  void SetUp() override {
    StartStack(SeedSql());
    if (IsSkipped() || HasFatalFailure()) return;
    cli_ = absl::StrCat(FOREWARN_BIN_DIR, "/services/cmd/cli/forewarn --target ", stack_.intake_target());
    file_ = stack_.dir() + "/customers.csv";
    std::ofstream(file_) << CsvFile();
    directory_ = v1::CustomerDirectory::NewStub(
        grpc::CreateChannel(stack_.intake_target(), grpc::InsecureChannelCredentials()));
  }

  // (external id, channel) of every ledger row of the incident.
  Recipients LedgerRecipients(const std::string& incident_id) {
    const std::string rows = stack_.db().Exec(absl::StrCat(
        "SELECT string_agg(c.external_id || ':' || l.channel, ',') FROM notice_ledger l "
        "JOIN customers c ON c.id = l.customer_id WHERE l.incident_id = '", incident_id, "'"));
    Recipients out;
    for (absl::string_view item : absl::StrSplit(rows, ',', absl::SkipEmpty())) {
      std::pair<std::string, std::string> p = absl::StrSplit(item, ':');
      out.insert(p);
    }
    return out;
  }

  std::string cli_, file_;
  std::unique_ptr<v1::CustomerDirectory::Stub> directory_;
};

TEST_F(DirectoryE2eTest, ImportedCustomersAreToldOnTheirChannelsAndBadRowsAreReportedByLine) {
  const CommandResult first = Shell(absl::StrCat(cli_, " --json customers import ", file_, " --report ",
                                               stack_.dir(), "/rejected.csv 2>", stack_.dir(), "/import.err"));
  EXPECT_EQ(first.exit_code, 1) << first.out;  // rows were rejected
  const auto summary = nlohmann::json::parse(first.out, nullptr, false);
  ASSERT_FALSE(summary.is_discarded()) << first.out;
  EXPECT_EQ(summary.value("inserted", -1), kCustomers);
  EXPECT_EQ(summary.value("rejected", -1), 4);
  std::ifstream report(stack_.dir() + "/rejected.csv");
  const std::string text((std::istreambuf_iterator<char>(report)), std::istreambuf_iterator<char>());
  EXPECT_NE(text.find("26,D-bad-1,services[0].region,"), std::string::npos) << text;
  EXPECT_NE(text.find("27,D-bad-2,phone,"), std::string::npos) << text;
  EXPECT_NE(text.find("28,D-3,external_id,duplicate in this batch"), std::string::npos) << text;
  EXPECT_NE(text.find("29,D-bad-4,preferences.unplanned_outages,"), std::string::npos) << text;

  const CommandResult again = Shell(absl::StrCat(cli_, " --json customers import ", file_, " --report ",
                                               stack_.dir(), "/rejected2.csv 2>/dev/null"));
  const auto second = nlohmann::json::parse(again.out, nullptr, false);
  ASSERT_FALSE(second.is_discarded()) << again.out;
  EXPECT_EQ(second.value("unchanged", -1), kCustomers);
  EXPECT_EQ(second.value("inserted", -1) + second.value("updated", -1), 0);

  // An outage in Riyadh: exactly customers 1..16, on the channels they chose.
  const auto outage = stack_.CreateIncident(testing::OutageRequest(
      "directory-outage", "electricity", "riyadh", "Cable fault", "عطل في الكابل", absl::Hours(3)));
  ASSERT_TRUE(outage.ok()) << outage.status();
  Recipients want_outage;
  for (int i = 1; i <= 16; ++i) AddRecipients(RowFor(i), RowFor(i).unplanned, want_outage);
  ASSERT_TRUE(stack_.WaitForCount(testing::SentCountSql(outage->id()), want_outage.size()))
      << "logs in " << stack_.dir();
  EXPECT_EQ(LedgerRecipients(outage->id()), want_outage);
  Recipients delivered;
  for (const testing::Delivered& d : stack_.ReadOutbox()) {
    delivered.insert({stack_.db().Exec(absl::StrCat("SELECT external_id FROM customers WHERE id = ", d.customer_id)),
                      d.channel});
  }
  EXPECT_EQ(delivered, want_outage);

  // Maintenance on water in Riyadh: the opted-out (i % 4 == 1) get nothing,
  // the email-only (i % 4 == 3) only email.
  v1::ScheduleMaintenanceRequest m;
  m.set_idempotency_key("directory-maintenance");
  m.add_services("water");
  m.add_regions("riyadh");
  m.mutable_reason()->set_en("Valve replacement");
  m.mutable_reason()->set_ar("استبدال صمام");
  m.mutable_starts_at()->set_seconds(absl::ToUnixSeconds(absl::Now() + absl::Hours(6)));
  m.mutable_ends_at()->set_seconds(absl::ToUnixSeconds(absl::Now() + absl::Hours(8)));
  v1::Incident maintenance;
  ASSERT_TRUE(stack_.stub().ScheduleMaintenance(stack_.Ctx().get(), m, &maintenance).ok());
  Recipients want_maintenance;
  for (int i = 2; i <= kCustomers; i += 2) AddRecipients(RowFor(i), RowFor(i).maintenance, want_maintenance);
  ASSERT_TRUE(stack_.WaitForCount(
      absl::StrCat("SELECT count(*) FROM notice_ledger WHERE incident_id = '", maintenance.id(), "'"),
      want_maintenance.size()));
  EXPECT_EQ(LedgerRecipients(maintenance.id()), want_maintenance);
}

TEST_F(DirectoryE2eTest, PolicyRefusesSilencingOutagesAndAllowsSilencingMaintenance) {
  ASSERT_EQ(Shell(absl::StrCat(cli_, " customers import ", file_, " --report /dev/null >/dev/null 2>&1")).exit_code, 1);
  v1::SetPreferencesRequest req;
  req.set_external_id("D-2");
  req.mutable_preferences()->mutable_planned_maintenance();  // neither channel
  v1::Customer out;
  grpc::ClientContext ok_ctx;
  const grpc::Status allowed = directory_->SetPreferences(&ok_ctx, req, &out);
  ASSERT_TRUE(allowed.ok()) << allowed.error_message();
  EXPECT_FALSE(out.preferences().planned_maintenance().sms());
  EXPECT_EQ(stack_.db().Exec("SELECT channels_maintenance FROM customers WHERE external_id = 'D-2'"), "0");

  req.mutable_preferences()->mutable_unplanned_outages();  // neither channel
  grpc::ClientContext refused_ctx;
  const grpc::Status refused = directory_->SetPreferences(&refused_ctx, req, &out);
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_NE(refused.error_message().find("preferences.unplanned_outages"), std::string::npos)
      << refused.error_message();
  EXPECT_EQ(stack_.db().Exec("SELECT channels_unplanned FROM customers WHERE external_id = 'D-2'"), "3");
}

TEST_F(DirectoryE2eTest, ErasureLeavesNoPersonalDataInAnyTable) {
  ASSERT_EQ(Shell(absl::StrCat(cli_, " customers import ", file_, " --report /dev/null >/dev/null 2>&1")).exit_code, 1);
  const std::string id = stack_.db().Exec("SELECT id FROM customers WHERE external_id = 'D-2'");
  const auto outage = stack_.CreateIncident(testing::OutageRequest(
      "directory-erase", "electricity", "riyadh", "Cable fault", "عطل في الكابل", absl::Hours(3)));
  ASSERT_TRUE(outage.ok()) << outage.status();
  const std::string d2_rows =
      absl::StrCat("SELECT count(*) FROM notice_ledger WHERE customer_id = ", id, " AND state = 'sent'");
  ASSERT_TRUE(stack_.WaitForCount(d2_rows, 2));
  // A notice of theirs held for quiet hours keeps their address until erased.
  stack_.db().Exec(absl::StrCat(
      "INSERT INTO held_notices (incident_id, version, notice_kind, occasion, customer_id, channel, address, "
      "locale, time_zone, name, role, release_at) VALUES ('", outage->id(), "', 1, 'maintenance_reminder', '', ", id,
      ", 'sms', '+966501000002', 'ar', 'Asia/Riyadh', 'Erasable Person', 'affected', now() + interval '1 day')"));

  const CommandResult erased = Shell(absl::StrCat(cli_, " customers delete D-2 2>&1"));
  ASSERT_EQ(erased.exit_code, 0) << erased.out;
  EXPECT_EQ(Shell(absl::StrCat(cli_, " customers get D-2 >/dev/null 2>&1")).exit_code, 1);

  const CommandResult dump =
      Shell(absl::StrCat("pg_dump --data-only --no-owner '", stack_.db().uri(), "' 2>&1"));
  ASSERT_NE(dump.out.find("COPY public.notice_ledger"), std::string::npos) << dump.out.substr(0, 500);
  for (const char* personal : {"Erasable Person", "+966501000002", "d2@example.com"}) {
    EXPECT_EQ(dump.out.find(personal), std::string::npos) << personal << " is still stored";
  }
  // The ledger keeps the id (the notices were sent) and nothing else of theirs.
  EXPECT_EQ(stack_.db().Exec(d2_rows), "2");
  EXPECT_EQ(stack_.db().Exec("SELECT count(*) FROM customers WHERE external_id LIKE 'D-%'"),
            std::to_string(kCustomers - 1));
}

}  // namespace
}  // namespace forewarn
