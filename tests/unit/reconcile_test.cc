#include "services/core/reconcile.h"

#include <gtest/gtest.h>


namespace forewarn {
namespace {

struct RedriveCase {
  const char* name;
  int64_t missing, pending, failed, dead;
  FanOutActivity activity;
  bool redrive;
  const char* note;  // a part of the note; "" when none is set
};

TEST(DecideRedrive, RedrivesOnlyTheUnreachedWhenNoFanOutIsUnderWay) {
  const RedriveCase cases[] = {
      {"missing, quiet", 3, 0, 0, 0, {}, true, ""},
      {"pending, quiet", 0, 2, 0, 0, {}, true, ""},
      {"missing beside failed and dead", 1, 0, 4, 5, {}, true, ""},
      {"nothing uninformed", 0, 0, 0, 0, {}, false, "nothing to re-drive"},
      {"only failed", 0, 0, 2, 0, {}, false, "only permanently failed notices remain"},
      {"dead and failed", 0, 0, 2, 1, {}, false, "see forewarn dlq list"},
      {"events unpublished", 3, 0, 0, 0, {4, 0}, false, "fan-out in progress (4 events not yet published, 0"},
      {"notices being sent", 3, 0, 0, 0, {0, 7}, false, "0 events not yet published, 7 notices being sent"},
      {"dead while sending", 0, 0, 0, 1, {0, 7}, false, "see forewarn dlq list"},
  };
  for (const auto& c : cases) {
    Completeness check;
    check.missing = c.missing;
    check.pending = c.pending;
    check.failed = c.failed;
    check.dead = c.dead;
    EXPECT_EQ(DecideRedrive(check, c.activity), c.redrive) << c.name;
    if (*c.note == '\0') {
      EXPECT_EQ(check.note, "") << c.name;
    } else {
      EXPECT_NE(check.note.find(c.note), std::string::npos) << c.name << ": " << check.note;
    }
  }
}

}  // namespace
}  // namespace forewarn
