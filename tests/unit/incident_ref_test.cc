#include "services/core/incident_ref.h"

#include <gtest/gtest.h>

#include <fstream>

#include "services/core/message_code.h"

namespace forewarn {
namespace {

TEST(IncidentRef, CrockfordEncodesFiveBitsACharacter) {
  EXPECT_EQ(CrockfordEncode(0, 4), "0000");
  EXPECT_EQ(CrockfordEncode(31, 2), "0Z");
  EXPECT_EQ(CrockfordEncode((10u << 5) | 18u, 2), "AJ");  // no I: 18 is J
  EXPECT_EQ(CrockfordEncode(0xFFFFFFFFFFull, 8), "ZZZZZZZZ");
}

TEST(IncidentRef, KnowsAReferenceFromAnIdAndForgivesLookAlikes) {
  EXPECT_TRUE(IsIncidentRef("RIY-4K7Q"));
  EXPECT_TRUE(IsIncidentRef("OUT-4K7Q9Z"));
  EXPECT_FALSE(IsIncidentRef("RIY-4K7"));
  EXPECT_FALSE(IsIncidentRef("RIY-4K7QU"));  // U is not Crockford
  EXPECT_FALSE(IsIncidentRef("R1Y-4K7Q"));
  EXPECT_FALSE(IsIncidentRef("0190a1b2-7c3d-7e4f-8a5b-6c7d8e9f0a1b"));
  EXPECT_EQ(NormalizeIncidentRef("  riy-4k7q "), "RIY-4K7Q");
  EXPECT_EQ(NormalizeIncidentRef("oil-O1lI"), "OIL-0111");  // the prefix keeps its letters
  EXPECT_TRUE(IsIncidentRef(NormalizeIncidentRef("mnt-oo1l")));
  EXPECT_EQ(NormalizeCrockford("7h3k-9qxo"), "7H3K9QX0");
}

TEST(MessageCode, IsStableEightCrockfordCharactersBoundToTheNoticeAndTheSecret) {
  const auto codes = MessageCodes::FromSecret(std::string(32, 's'));
  ASSERT_TRUE(codes.ok()) << codes.status();
  const MessageCodeInput notice{.incident_id = "0190a1b2-7c3d-7e4f-8a5b-6c7d8e9f0a1b", .version = 2,
                                .notice_kind = "outage_updated"};
  const std::string code = codes->Code(notice);
  ASSERT_EQ(code.size(), 8u);
  EXPECT_EQ(NormalizeCrockford(code), code);
  EXPECT_EQ(codes->Code(notice), code);
  EXPECT_TRUE(codes->Matches(code, notice));
  std::string typed = code.substr(0, 4) + "-" + code.substr(4);
  for (char& ch : typed) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  EXPECT_TRUE(codes->Matches(typed, notice));

  MessageCodeInput other = notice;
  other.version = 3;
  EXPECT_FALSE(codes->Matches(code, other));
  other = notice;
  other.notice_kind = "outage_restored";
  EXPECT_FALSE(codes->Matches(code, other));
  EXPECT_FALSE(MessageCodes::FromSecret(std::string(32, 't'))->Matches(code, notice));
  EXPECT_FALSE(codes->Matches(code.substr(0, 7), notice));
  EXPECT_EQ(MessageCodes::FromSecret("short").status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(MessageCode, ReadsItsSecretFromAFileAndNamesTheFileWhenItCannot) {
  const std::string path = ::testing::TempDir() + "/message_code_secret";
  std::ofstream(path) << "# message codes\n" << std::string(40, 'm') << "\n";
  EXPECT_TRUE(MessageCodes::FromFile(path).ok());
  std::ofstream(path) << "too short\n";
  const auto bad = MessageCodes::FromFile(path);
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(bad.status().message().find(path), std::string::npos);
  EXPECT_EQ(bad.status().message().find("too short"), std::string::npos);
  EXPECT_EQ(MessageCodes::FromFile(path + ".missing").status().code(), absl::StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace forewarn
