// `forewarn audience upload` end to end: the built CLI against a real intake
// (UploadAudience over PostgreSQL), as an operator's script runs it. A file
// of 10,000 ids with 37 unknown, prefixed entries with comments, an
// unreadable line (nothing stored), and the roles (viewer refused).
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "nlohmann/json.hpp"
#include "tests/e2e/stack.h"

namespace forewarn {
namespace {

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

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

struct CliRun {
  int exit_code = -1;
  std::string out, err;
};

class AudienceCliE2eTest : public testing::StackTest {
 protected:
  void SetUp() override {
    SkipWithoutPostgres();
    if (IsSkipped()) return;
    dir_ = testing::MakeTempDir("forewarn-audience-");
    std::ofstream(dir_ + "/tokens") << kViewer << " viewer dashboards\n"
                                    << kSubmitter << " submitter oms\n"
                                    << kOperator << " operator alice\n";
    testing::ServiceStack::Options options;
    options.notifiers = 1;
    options.intake_args = {"--auth-tokens", dir_ + "/tokens"};
    StartStack(SeedSql(), options);
  }

  std::string Write(const std::string& name, const std::string& text) {
    const std::string path = dir_ + "/" + name;
    std::ofstream(path, std::ios::binary) << text;
    return path;
  }

  // forewarn --target INTAKE --token TOKEN ARGS... (each single-quoted).
  CliRun Forewarn(const std::vector<std::string>& args, const std::string& token = kSubmitter) {
    static int runs = 0;
    const std::string base = absl::StrCat(dir_, "/run", ++runs);
    const std::string cmd = absl::StrCat("'", FOREWARN_BIN_DIR, "/services/cmd/cli/forewarn' --target ",
                                         stack_.intake_target(), " --token '", token, "' '",
                                         absl::StrJoin(args, "' '"), "' >", base, ".out 2>", base, ".err");
    const int status = std::system(cmd.c_str());
    CliRun r;
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    r.out = ReadAll(base + ".out");
    r.err = ReadAll(base + ".err");
    return r;
  }

  std::string Count(const std::string& table) { return stack_.db().Exec(absl::StrCat("SELECT count(*) FROM ", table)); }

  std::string dir_;
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
  const std::string out = ReadAll(dir_ + "/stdin.out");
  ASSERT_EQ(WIFEXITED(status) ? WEXITSTATUS(status) : -1, 0) << out << ReadAll(dir_ + "/stdin.err");
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

}  // namespace
}  // namespace forewarn
