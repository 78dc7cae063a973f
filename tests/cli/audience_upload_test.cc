// forewarn audience upload: how a line of the file becomes an entry, and how
// the intake's answer is printed.
#include <sstream>
#include <string>

#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "services/cli/audience_upload.h"
#include "services/cli/printer.h"

namespace forewarn::cli {
namespace {

// The reason a line is refused, or "" (with the chunk holding its entry).
std::string Refusal(const std::string& line, const std::string& by, v1::AudienceChunk* chunk = nullptr) {
  v1::AudienceChunk scratch;
  auto r = AddAudienceLine(line, by, chunk ? *chunk : scratch);
  return r.ok() ? "" : std::string(r.status().message());
}

TEST(AudienceLineTest, PrefixedLines) {
  v1::AudienceChunk c;
  EXPECT_EQ(Refusal("id:17", "", &c), "");
  EXPECT_EQ(Refusal("  external:C-1 \r", "", &c), "");
  EXPECT_EQ(Refusal("iban:SA03 8000 0000 6080 1016 7519", "", &c), "");
  EXPECT_EQ(Refusal("external:عميل 7", "", &c), "");
  ASSERT_EQ(c.customer_ids_size(), 1);
  EXPECT_EQ(c.customer_ids(0), 17);
  ASSERT_EQ(c.external_ids_size(), 2);
  EXPECT_EQ(c.external_ids(0), "C-1");
  EXPECT_EQ(c.external_ids(1), "عميل 7");
  ASSERT_EQ(c.ibans_size(), 1);
  EXPECT_EQ(c.ibans(0), "SA03 8000 0000 6080 1016 7519");  // normalised by the intake
}

TEST(AudienceLineTest, BlankLinesAndCommentsAddNothing) {
  v1::AudienceChunk c;
  for (const char* line : {"", "   ", "\r", "# comment", "  # indented comment"}) {
    auto r = AddAudienceLine(line, "", c);
    ASSERT_TRUE(r.ok()) << line;
    EXPECT_EQ(*r, 0) << line;
  }
  EXPECT_EQ(c.ByteSizeLong(), 0u);
}

TEST(AudienceLineTest, WithByEveryLineIsThatKind) {
  v1::AudienceChunk c;
  EXPECT_EQ(Refusal("42", "id", &c), "");
  EXPECT_EQ(Refusal("id:42", "external_id", &c), "");  // a prefix is part of the entry then
  EXPECT_EQ(Refusal("SA0380000000608010167519", "iban", &c), "");
  EXPECT_EQ(c.customer_ids(0), 42);
  EXPECT_EQ(c.external_ids(0), "id:42");
  EXPECT_EQ(c.ibans(0), "SA0380000000608010167519");
}

TEST(AudienceLineTest, UnreadableLines) {
  EXPECT_EQ(Refusal("customer:7", ""), "expected id:NUMBER, external:ID or iban:IBAN (or give --by)");
  EXPECT_EQ(Refusal("17", ""), "expected id:NUMBER, external:ID or iban:IBAN (or give --by)");
  EXPECT_EQ(Refusal("id:12x", ""), "id '12x' is not a positive number");
  EXPECT_EQ(Refusal("id:0", ""), "id '0' is not a positive number");
  EXPECT_EQ(Refusal("id:-3", ""), "id '-3' is not a positive number");
  EXPECT_EQ(Refusal("id:99999999999999999999", ""), "id '99999999999999999999' is not a positive number");
  EXPECT_EQ(Refusal("C-1", "id"), "id 'C-1' is not a positive number");
  EXPECT_EQ(Refusal("external:", ""), "empty external_id");
  EXPECT_EQ(Refusal("iban:  ", ""), "empty iban");
  EXPECT_EQ(Refusal("external:" + std::string(129, 'x'), ""), "external id longer than 128 bytes");
  EXPECT_EQ(Refusal("external:a\tb", ""), "external id with control characters");
  EXPECT_EQ(Refusal("external:\xff\xfe", ""), "not valid UTF-8");
  EXPECT_EQ(Refusal("\xed\xa0\x80", "external_id"), "not valid UTF-8");  // a surrogate
}

v1::UploadedAudience Uploaded() {
  v1::UploadedAudience a;
  a.set_audience_id("0b6c3a1e-0000-4000-8000-000000000007");
  a.set_entries(10000);
  a.set_customers(9963);
  a.set_unknown(37);
  a.add_unknown_sample("id:900001");
  a.add_unknown_sample("iban:SA03 **** 7519");
  return a;
}

TEST(AudiencePrinterTest, Text) {
  std::ostringstream out, err;
  MakeTextPrinter(out, err)->Print(Uploaded());
  EXPECT_EQ(out.str(),
            "Audience 0b6c3a1e-0000-4000-8000-000000000007: 10000 entries, 9963 customers, 37 unknown\n"
            "Unknown entries (first 2):\n"
            "  id:900001\n"
            "  iban:SA03 **** 7519\n");
}

TEST(AudiencePrinterTest, Json) {
  std::ostringstream out;
  MakeJsonPrinter(out)->Print(Uploaded());
  auto j = nlohmann::json::parse(out.str());
  EXPECT_EQ(j["audience_id"], "0b6c3a1e-0000-4000-8000-000000000007");
  EXPECT_EQ(j["entries"], 10000);
  EXPECT_EQ(j["customers"], 9963);
  EXPECT_EQ(j["unknown"], 37);
  EXPECT_EQ(j["unknown_sample"], nlohmann::json({"id:900001", "iban:SA03 **** 7519"}));
}

}  // namespace
}  // namespace forewarn::cli
