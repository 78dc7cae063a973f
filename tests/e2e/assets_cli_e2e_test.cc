// `forewarn assets ...` end to end: the built CLI against a real intake
// (CustomerDirectory.UpsertAssets / ListAssets over PostgreSQL). An asset
// tree imported from CSV (children before parents), re-imported unchanged,
// customers linked to it and placed on the map through the customer CSV,
// subtree customer counts, export and re-import unchanged; a malformed file,
// an unknown parent and a cycle each stop naming their line with nothing
// stored; only the directory and operator roles reach assets.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "nlohmann/json.hpp"
#include "tests/e2e/stack.h"

namespace forewarn {
namespace {

using testing::CliRun;

constexpr char kViewer[] = "viewer-token-71c0de55aa";
constexpr char kDirectory[] = "crm-sync-token-3e4f5a6b7c";

// S1 > F1 > T1, T2; S1 > F2 > T3; the parents after their children.
constexpr char kAssetsCsv[] =
    "code,kind,parent_code,name_ar,name_en\n"
    "T1,transformer,F1,العليا الشمالي,Olaya North\n"
    "T2,transformer,F1,العليا الجنوبي,Olaya South\n"
    "T3,transformer,F2,\"الملز، شرق\",\"Al Malaz, East\"\n"
    "F1,feeder,S1,العليا,Olaya\n"
    "F2,feeder,S1,الملز,Al Malaz\n"
    "S1,substation,,محطة الرياض,Riyadh Substation\n";

// C1, C2 under F1 (T1, T2), C3 under F2; C4 names an asset that does not
// exist (rejected); C5 has no link.
constexpr char kCustomersCsv[] =
    "external_id,name,language,time_zone,services,assets,latitude,longitude\n"
    "C1,Ali,ar,Asia/Riyadh,electricity/riyadh,electricity:T1,24.6953,46.6836\n"
    "C2,Jo,en,Asia/Riyadh,electricity/riyadh,electricity:T2,24.6901,46.6855\n"
    "C3,Sara,ar,Asia/Riyadh,electricity/riyadh,electricity:T3,24.6667,46.7367\n"
    "C4,Omar,en,Asia/Riyadh,electricity/riyadh,electricity:T404,,\n"
    "C5,Lina,ar,Asia/Riyadh,electricity/riyadh,,,\n";

class AssetsCliE2eTest : public testing::CliStackTest {
 protected:
  void SetUp() override {
    StartCliStack("forewarn-assets-", absl::StrCat(kViewer, " viewer dashboards\n", kDirectory, " directory crm-sync\n"),
                  "INSERT INTO services VALUES ('electricity','Electricity','الكهرباء');"
                  "INSERT INTO regions VALUES ('riyadh','Riyadh','الرياض');",
                  kDirectory);
  }

  nlohmann::json Json(const std::vector<std::string>& args, int want_exit = 0) {
    std::vector<std::string> all = args;
    all.push_back("--json");
    CliRun r = Forewarn(all);
    EXPECT_EQ(r.exit_code, want_exit) << r.out << r.err;
    auto doc = nlohmann::json::parse(r.out, nullptr, false);
    EXPECT_FALSE(doc.is_discarded()) << r.out << r.err;
    return doc;
  }

};

TEST_F(AssetsCliE2eTest, ImportsTheTreeLinksCustomersAndCountsThemPerSubtree) {
  if (IsSkipped()) return;
  const std::string assets = Write("assets.csv", kAssetsCsv);
  auto first = Json({"assets", "import", "--batch-size", "10000", assets});
  EXPECT_EQ(first["inserted"], 6);
  auto again = Json({"assets", "import", assets});
  EXPECT_EQ(again["unchanged"], 6);
  EXPECT_EQ(again["inserted"], 0);

  const std::string customers = Write("customers.csv", kCustomersCsv);
  CliRun imported = Forewarn({"customers", "import", customers});
  EXPECT_EQ(imported.exit_code, 1) << imported.out << imported.err;  // C4 rejected
  const std::string report = testing::ReadFile(customers + ".rejected.csv");
  EXPECT_NE(report.find("5,C4,assets[0].asset,no asset 'T404'"), std::string::npos) << report;

  auto roots = Json({"assets", "list"});
  ASSERT_EQ(roots.size(), 1u) << roots;
  EXPECT_EQ(roots[0]["code"], "S1");
  EXPECT_EQ(roots[0]["customers"], 3);
  auto feeders = Json({"assets", "list", "--parent", "S1"});
  ASSERT_EQ(feeders.size(), 2u) << feeders;
  EXPECT_EQ(feeders[0]["code"], "F1");
  EXPECT_EQ(feeders[0]["customers"], 2);
  EXPECT_EQ(feeders[1]["customers"], 1);
  auto transformers = Json({"assets", "list", "--parent", "F2"});
  ASSERT_EQ(transformers.size(), 1u);
  EXPECT_EQ(transformers[0]["name"]["en"], "Al Malaz, East");
  EXPECT_EQ(transformers[0]["name"]["ar"], "الملز، شرق");
  CliRun table = Forewarn({"assets", "list", "--parent", "F1"});
  EXPECT_EQ(table.exit_code, 0);
  EXPECT_NE(table.out.find("Olaya North"), std::string::npos) << table.out;

  auto c1 = Json({"customers", "get", "C1"});
  EXPECT_EQ(c1["assets"][0]["asset"], "T1") << c1;
  EXPECT_EQ(c1["location"]["latitude"], 24.6953) << c1;

  for (const char* format : {"csv", "jsonl"}) {
    const std::string exported = absl::StrCat(dir_, "/exported.", format);
    CliRun r = Forewarn({"customers", "export", "-o", exported});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    if (std::string(format) == "csv") {
      const std::string text = testing::ReadFile(exported);
      EXPECT_NE(text.find(",electricity:T1,24.6953,46.6836"), std::string::npos) << text;
    }
    auto reimport = Json({"customers", "import", exported});
    EXPECT_EQ(reimport["unchanged"], 4) << format;
    EXPECT_EQ(reimport["updated"], 0) << format;
  }
  CliRun missing = Forewarn({"assets", "list", "--parent", "NOPE"});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.err.find("no asset 'NOPE'"), std::string::npos) << missing.err;
}

TEST_F(AssetsCliE2eTest, BadFilesStopNamingTheLineWithNothingStored) {
  if (IsSkipped()) return;
  const std::string malformed = Write("malformed.csv",
                                      "code,kind,parent_code,name_ar,name_en\n"
                                      "S1,substation,,محطة,Station\n"
                                      "F1,feeder,S1,\"never closed,Feeder\n");
  CliRun r = Forewarn({"assets", "import", malformed});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find(malformed + ":3: unterminated quoted field"), std::string::npos) << r.err;

  const std::string orphan = Write("orphan.csv",
                                   "code,kind,parent_code,name_ar,name_en\n"
                                   "S1,substation,,محطة,Station\n"
                                   "F1,feeder,S1,مغذي,Feeder\n"
                                   "T1,transformer,F9,محول,Transformer\n");
  r = Forewarn({"assets", "import", orphan});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find(orphan + ":4: assets[2].parent_code: no asset 'F9'"), std::string::npos) << r.err;

  const std::string bad_code = Write("code.csv", "code,kind,name_ar,name_en\nT 1,transformer,محول,Transformer\n");
  r = Forewarn({"assets", "import", bad_code});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find(bad_code + ":2: assets[0].code:"), std::string::npos) << r.err;

  auto roots = Json({"assets", "list"});
  EXPECT_TRUE(roots.empty()) << roots;  // nothing stored

  ASSERT_EQ(Forewarn({"assets", "import", Write("tree.csv", kAssetsCsv)}).exit_code, 0);
  const std::string cycle = Write("cycle.csv", "code,kind,parent_code,name_ar,name_en\nS1,substation,T3,محطة,Station\n");
  r = Forewarn({"assets", "import", cycle});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find(cycle + ":2: assets[0].parent_code: would put 'S1' below itself"), std::string::npos)
      << r.err;
  roots = Json({"assets", "list"});
  ASSERT_EQ(roots.size(), 1u);
  EXPECT_EQ(roots[0]["code"], "S1");  // still a root
}

TEST_F(AssetsCliE2eTest, OnlyDirectoryAndOperatorRolesReachAssets) {
  if (IsSkipped()) return;
  CliRun r = Forewarn({"assets", "list"}, kViewer);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("(7)"), std::string::npos) << r.err;  // PERMISSION_DENIED
  r = Forewarn({"assets", "import", Write("a.csv", kAssetsCsv)}, kViewer);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("(7)"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace forewarn
