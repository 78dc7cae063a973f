// The clock end-to-end tests move (--time-offset-file): a new offset is seen
// by the very next reading, so services never disagree about the time for
// longer than it takes to replace the file.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "absl/time/time.h"
#include "services/runtime/runtime.h"

namespace forewarn {
namespace {

class OffsetFileClockTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("forewarn-clock-" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) + "-" +
            std::to_string(reinterpret_cast<uintptr_t>(this)));
    std::filesystem::create_directories(dir_);
    path_ = (dir_ / "offset").string();
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  void Write(const std::string& seconds) { ASSERT_TRUE(WriteFileAtomically(path_, seconds + "\n").ok()); }
  // How far the clock is ahead of the real time, to the second.
  int64_t Ahead(const OffsetFileClock& clock) { return std::llround(absl::ToDoubleSeconds(clock.Now() - absl::Now())); }

  std::filesystem::path dir_;
  std::string path_;
};

TEST_F(OffsetFileClockTest, NoFileIsTheRealTime) {
  OffsetFileClock clock(path_);
  EXPECT_EQ(Ahead(clock), 0);
}

TEST_F(OffsetFileClockTest, AReplacedFileIsSeenByTheVeryNextReading) {
  OffsetFileClock clock(path_);
  Write("3600");
  EXPECT_EQ(Ahead(clock), 3600);
  for (int hours = 2; hours <= 5; ++hours) {  // back to back, no waiting
    Write(std::to_string(hours * 3600));
    EXPECT_EQ(Ahead(clock), hours * 3600);
  }
  Write("-86400");
  EXPECT_EQ(Ahead(clock), -86400);
}

TEST_F(OffsetFileClockTest, ARemovedOrUnreadableFileIsNoShift) {
  OffsetFileClock clock(path_);
  Write("7200");
  EXPECT_EQ(Ahead(clock), 7200);
  std::filesystem::remove(path_);
  EXPECT_EQ(Ahead(clock), 0);
  Write("not a number");
  EXPECT_EQ(Ahead(clock), 0);
}

}  // namespace
}  // namespace forewarn
