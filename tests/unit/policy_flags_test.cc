// The intake's --opt-out-categories: which notice categories a customer may
// turn off entirely.
#include "services/runtime/policy_flags.h"

#include <gtest/gtest.h>

namespace forewarn {
namespace {

TEST(OptOutFlags, DefaultIsPlannedMaintenanceOnly) {
  std::set<NoticeCategory> out;
  ASSERT_TRUE(ToOptOutCategories(OptOutFlags{}, &out).ok());
  EXPECT_EQ(out, (std::set<NoticeCategory>{NoticeCategory::kPlannedMaintenance}));
}

TEST(OptOutFlags, ParsesAListOrNone) {
  std::set<NoticeCategory> out;
  ASSERT_TRUE(ToOptOutCategories(OptOutFlags{" planned_maintenance, banking_changes "}, &out).ok());
  EXPECT_EQ(out, (std::set<NoticeCategory>{NoticeCategory::kPlannedMaintenance, NoticeCategory::kBankingChanges}));
  ASSERT_TRUE(ToOptOutCategories(OptOutFlags{"none"}, &out).ok());
  EXPECT_TRUE(out.empty());
  ASSERT_TRUE(ToOptOutCategories(OptOutFlags{""}, &out).ok());
  EXPECT_TRUE(out.empty());
}

TEST(OptOutFlags, AnUnknownCategoryNamesTheFlag) {
  std::set<NoticeCategory> out;
  auto s = ToOptOutCategories(OptOutFlags{"planned_maintenance,newsletters"}, &out);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(std::string(s.message()).rfind("--opt-out-categories: ", 0), 0u) << s.message();
  EXPECT_NE(std::string(s.message()).find("newsletters"), std::string::npos) << s.message();
}

}  // namespace
}  // namespace forewarn
