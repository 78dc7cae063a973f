// `forewarn audience upload` end to end: the built CLI against a real intake
// (UploadAudience over PostgreSQL), as an operator's script runs it. A file
// of 10,000 ids with 37 unknown, prefixed entries with comments, an
// unreadable line (nothing stored), and the roles (viewer refused).
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "nlohmann/json.hpp"
#include "tests/e2e/stack.h"

namespace forewarn {
namespace {

using testing::CliRun;

constexpr char kViewer[] = "viewer-token-5f1c2a9e7b";
constexpr char kSubmitter[] = "submitter-token-8c1d2e3f4a";
constexpr char kOperator[] = "operator-token-2b7f9c0d4e";
constexpr char kIban[] = "SA0380000000608010167519";  // customer 7's account

// 10,000 customers (ids 1..10000, external ids C-1..C-10000) and one account.
std::string SeedSql() {
  return absl::StrCat(
      "INSERT INTO services VALUES ('electricity','Electricity','الكهرباء');"
      "INSERT INTO regions VALUES ('riyadh','Riyadh','الرياض');"
      "INSERT INTO customers (id, name, locale, time_zone, external_id) "
      "SELECT g, 'Customer ' || g, 'en', 'Asia/Riyadh', 'C-' || g FROM generate_series(1, 10000) g;"
      "INSERT INTO accounts VALUES ('", kIban, "', 7);");
}

class AudienceCliE2eTest : public testing::CliStackTest {
 protected:
  void SetUp() override {
    StartCliStack("forewarn-audience-",
                  absl::StrCat(kViewer, " viewer dashboards\n", kSubmitter, " submitter oms\n", kOperator,
                               " operator alice\n"),
                  SeedSql(), kSubmitter);
  }

  std::string Count(const std::string& table) { return stack_.db().Exec(absl::StrCat("SELECT count(*) FROM ", table)); }

};

TEST_F(AudienceCliE2eTest, UploadsTenThousandIdsAndReportsThe37Unknown) {
  // 9,963 known ids and 37 unknown ones (900001..900037), a comment and
  // blank lines; CRLF line ends.
  std::string text = "# customers on feeder F-12\r\n\r\n";
  std::set<std::string> unknown;
  for (int64_t id = 1; id <= 10000; ++id) {
    const int64_t entry = id <= 9963 ? id : 900000 + (id - 9963);
    if (id > 9963) unknown.insert(absl::StrCat("id:", entry));
    absl::StrAppend(&text, entry, "\r\n");
  }
  const std::string path = Write("feeder.txt", text);
  CliRun r = Forewarn({"audience", "upload", path, "--by", "id", "--label", "Feeder F-12", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  auto out = nlohmann::json::parse(r.out, nullptr, false);
  ASSERT_FALSE(out.is_discarded()) << r.out;
  EXPECT_EQ(out["entries"], 10000);
  EXPECT_EQ(out["customers"], 9963);
  EXPECT_EQ(out["unknown"], 37);
  ASSERT_EQ(out["unknown_sample"].size(), 20u);
  for (const auto& s : out["unknown_sample"]) EXPECT_TRUE(unknown.contains(s.get<std::string>())) << s;
  const std::string id = out["audience_id"];
  EXPECT_EQ(stack_.db().Exec(absl::StrCat("SELECT concat_ws('|', label, created_by, entries, customers, unknown) "
                                          "FROM audiences WHERE id = '", id, "'")),
            "Feeder F-12|oms|10000|9963|37");
  EXPECT_EQ(stack_.db().Exec(absl::StrCat("SELECT count(*) FROM audience_members WHERE audience_id = '", id, "'")),
            "9963");
}

TEST_F(AudienceCliE2eTest, PrefixedEntriesFromStandardInputPrintedAsText) {
  const std::string path = Write("mixed.txt",
                                 "id:1\n"
                                 "  external:C-2  \n"
                                 "# a comment\n"
                                 "iban:SA03 8000 0000 6080 1016 7519\n"
                                 "external:CRM-404\n"
                                 "iban:SA99 0000\n"
                                 "id:1\n");
  const std::string cmd =
      absl::StrCat("'", FOREWARN_BIN_DIR, "/services/cmd/cli/forewarn' --target ", stack_.intake_target(),
                   " --token ", kOperator, " audience upload - <", path, " >", dir_, "/stdin.out 2>", dir_,
                   "/stdin.err");
  const int status = std::system(cmd.c_str());
  const std::string out = testing::ReadFile(dir_ + "/stdin.out");
  ASSERT_EQ(WIFEXITED(status) ? WEXITSTATUS(status) : -1, 0) << out << testing::ReadFile(dir_ + "/stdin.err");
  EXPECT_NE(out.find(": 6 entries, 3 customers, 2 unknown\n"), std::string::npos) << out;
  EXPECT_NE(out.find("Unknown entries (2):\n"), std::string::npos) << out;
  EXPECT_NE(out.find("  external:CRM-404\n"), std::string::npos) << out;
  EXPECT_NE(out.find("  iban:********\n"), std::string::npos) << out;  // too short to show any of it
  EXPECT_EQ(stack_.db().Exec("SELECT string_agg(customer_id::text, ',' ORDER BY customer_id) FROM audience_members"),
            "1,2,7");
  EXPECT_EQ(stack_.db().Exec("SELECT created_by FROM audiences"), "alice");
}

TEST_F(AudienceCliE2eTest, AnUnreadableLineNamesFileAndLineAndStoresNothing) {
  // Enough entries before it for two chunks to have gone out.
  std::string text;
  for (int id = 1; id <= 25000; ++id) absl::StrAppend(&text, "id:", id % 10000 + 1, "\n");
  text += "id:12x\n";
  const std::string path = Write("bad.txt", text);
  CliRun r = Forewarn({"audience", "upload", path});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.err.find(absl::StrCat(path, ":25001: id '12x' is not a positive number")), std::string::npos) << r.err;
  CliRun prefix = Forewarn({"audience", "upload", Write("prefix.txt", "id:1\ncustomer:7\n")});
  EXPECT_EQ(prefix.exit_code, 1);
  EXPECT_NE(prefix.err.find("prefix.txt:2: expected id:NUMBER, external:ID or iban:IBAN"), std::string::npos)
      << prefix.err;
  CliRun by_id = Forewarn({"audience", "upload", Write("ids.txt", "1\nC-2\n"), "--by", "id"});
  EXPECT_EQ(by_id.exit_code, 1);
  EXPECT_NE(by_id.err.find("ids.txt:2: id 'C-2' is not a positive number"), std::string::npos) << by_id.err;
  CliRun empty = Forewarn({"audience", "upload", Write("empty.txt", "# nothing\n")});
  EXPECT_EQ(empty.exit_code, 1);
  EXPECT_NE(empty.err.find("chunks: the list has no entries"), std::string::npos) << empty.err;
  CliRun missing = Forewarn({"audience", "upload", dir_ + "/nope.txt"});
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_EQ(Count("audiences"), "0");
  EXPECT_EQ(Count("audience_members"), "0");
}

TEST_F(AudienceCliE2eTest, AViewerMayNotUpload) {
  CliRun r = Forewarn({"audience", "upload", Write("one.txt", "id:1\n")}, kViewer);
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.err.find("may not UploadAudience"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("(7)"), std::string::npos) << r.err;  // PERMISSION_DENIED
  EXPECT_EQ(Count("audiences"), "0");
  // Over gRPC directly: PERMISSION_DENIED before any chunk is read.
  auto ctx = stack_.Ctx();
  ctx->AddMetadata("authorization", absl::StrCat("Bearer ", kViewer));
  v1::UploadedAudience out;
  auto writer = stack_.stub().UploadAudience(ctx.get(), &out);
  v1::AudienceChunk chunk;
  chunk.add_customer_ids(1);
  writer->Write(chunk);
  writer->WritesDone();
  EXPECT_EQ(writer->Finish().error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(Forewarn({"audience", "upload", Write("two.txt", "id:2\n")}, kOperator).exit_code, 0);
}

TEST_F(AudienceCliE2eTest, AStreamThatEndsWithoutItsLastChunkStoresNothing) {
  auto upload = [&](const std::vector<v1::AudienceChunk>& chunks) {
    auto ctx = stack_.Ctx();
    ctx->AddMetadata("authorization", absl::StrCat("Bearer ", kOperator));
    v1::UploadedAudience out;
    auto writer = stack_.stub().UploadAudience(ctx.get(), &out);
    for (const auto& c : chunks) writer->Write(c);
    writer->WritesDone();
    return writer->Finish();
  };
  v1::AudienceChunk first;
  first.add_customer_ids(1);
  const grpc::Status truncated = upload({first});
  EXPECT_EQ(truncated.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(truncated.error_message().find("without a chunk marked last"), std::string::npos)
      << truncated.error_message();
  v1::AudienceChunk last;
  last.set_last(true);
  const grpc::Status after_last = upload({last, first});
  EXPECT_EQ(after_last.error_message().substr(0, 9), "chunks[1]") << after_last.error_message();
  EXPECT_EQ(Count("audiences"), "0");
  EXPECT_TRUE(upload({first, last}).ok());
  EXPECT_EQ(Count("audiences"), "1");
}

// A valid Saudi IBAN (bank 80) for account number `n` (ISO 7064 mod 97-10);
// the seed computes the same in SQL.
std::string MakeIban(int64_t n) {
  const std::string number = std::to_string(n);
  const std::string bban = absl::StrCat("80", std::string(18 - number.size(), '0'), number);
  int remainder = 0;
  for (char c : bban + "281000") remainder = (remainder * 10 + (c - '0')) % 97;  // "SA00": S = 28, A = 10
  const int check = 98 - remainder;
  return absl::StrCat("SA", check < 10 ? "0" : "", check, bban);
}

constexpr int kListCustomers = 10200;

// The case, through the whole stack: 10,200 electricity customers
// in riyadh, customer i holding account MakeIban(i); an uploaded list of
// 10,000 accounts (customers 1..9963 and 37 accounts nobody holds) reports
// the 37, and an outage targeting only that list reaches exactly customers
// 1..9963, once on each of their channels.
class AudienceListE2eTest : public AudienceCliE2eTest {
 protected:
  void SetUp() override {
    StartCliStack("forewarn-audience-list-", absl::StrCat(kSubmitter, " submitter oms\n"),
                  absl::StrCat("INSERT INTO services VALUES ('electricity','Electricity','الكهرباء');"
                               "INSERT INTO regions VALUES ('riyadh','Riyadh','الرياض');",
                               testing::GeneratedCustomersSql("electricity", "riyadh", "+96651", kListCustomers),
                               "INSERT INTO accounts (iban, customer_id) SELECT 'SA' || lpad((98 - (b || "
                               "'281000')::numeric % 97)::text, 2, '0') || b, i FROM generate_series(1, ",
                               kListCustomers, ") i, LATERAL (SELECT '80' || lpad(i::text, 18, '0')) AS x(b);"),
                  kSubmitter, /*notifiers=*/2);
  }
};

TEST_F(AudienceListE2eTest, TenThousandAccountsWith37UnknownReachExactlyTheKnownOnes) {
  ASSERT_EQ(stack_.db().Exec("SELECT customer_id FROM accounts WHERE iban = '" + MakeIban(4321) + "'"), "4321");
  std::string text;
  for (int i = 1; i <= 9963; ++i) absl::StrAppend(&text, MakeIban(i), "\n");
  for (int k = 1; k <= 37; ++k) absl::StrAppend(&text, MakeIban(900000 + k), "\n");
  CliRun up = Forewarn({"audience", "upload", Write("accounts.txt", text), "--by", "iban", "--json"});
  ASSERT_EQ(up.exit_code, 0) << up.out << up.err;
  auto uploaded = nlohmann::json::parse(up.out, nullptr, false);
  ASSERT_FALSE(uploaded.is_discarded()) << up.out;
  EXPECT_EQ(uploaded["entries"], 10000);
  EXPECT_EQ(uploaded["customers"], 9963);
  EXPECT_EQ(uploaded["unknown"], 37);
  EXPECT_EQ(uploaded["unknown_sample"].size(), 20u);
  EXPECT_EQ(uploaded["unknown_sample"][0], "iban:SA" + MakeIban(900001).substr(2, 2) + " **** " +
                                               MakeIban(900001).substr(20));

  v1::CreateIncidentRequest req = testing::OutageRequest("list-1", "electricity", "riyadh", "A cable fault",
                                                         "عطل في كابل", absl::Hours(3));
  req.clear_regions();
  req.set_audience_id(uploaded["audience_id"].get<std::string>());
  auto ctx = stack_.Ctx();
  ctx->AddMetadata("authorization", absl::StrCat("Bearer ", kSubmitter));
  v1::Incident incident;
  grpc::Status created = stack_.stub().CreateIncident(ctx.get(), req, &incident);
  ASSERT_TRUE(created.ok()) << created.error_message();
  const std::string of_incident = absl::StrCat("FROM notice_ledger WHERE incident_id = '", incident.id(), "'");
  const std::string sent = absl::StrCat("SELECT count(*) ", of_incident, " AND state = 'sent'");
  ASSERT_TRUE(stack_.WaitForCount(sent, testing::GeneratedCustomersNotices(9963), absl::Seconds(240)))
      << stack_.db().Exec(sent) << " sent of " << testing::GeneratedCustomersNotices(9963);
  absl::SleepFor(absl::Seconds(1));  // for a stray notice to surface
  EXPECT_EQ(stack_.db().Exec(absl::StrCat("SELECT concat_ws('|', count(*), count(DISTINCT customer_id), "
                                          "min(customer_id), max(customer_id)) ", of_incident)),
            absl::StrCat(testing::GeneratedCustomersNotices(9963), "|9963|1|9963"));
  // What the customers received: each listed customer once on each of their
  // channels, nobody else.
  std::map<std::pair<int64_t, std::string>, int> got;
  for (const auto& d : stack_.ReadOutbox()) {
    if (d.line.at("message_id").get<std::string>().rfind("<" + incident.id() + ".", 0) == 0) {
      ++got[{d.customer_id, d.channel}];
    }
  }
  std::set<std::pair<int64_t, std::string>> seen;
  for (const auto& [who, n] : got) {
    EXPECT_EQ(n, 1) << "customer " << who.first << " " << who.second << " got " << n;
    seen.insert(who);
  }
  std::set<int> listed;
  for (int i = 1; i <= 9963; ++i) listed.insert(i);
  EXPECT_EQ(seen, testing::SeededRecipients(listed));
}

}  // namespace
}  // namespace forewarn
