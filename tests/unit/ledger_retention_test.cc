// The ledger retention rule (services/core/ledger_retention.h): which months
// are made ahead and which are dropped, what a read of a dropped incident
// answers, and the maintenance round over an in-memory port with a fake
// clock.

#include "services/core/ledger_retention.h"

#include <gtest/gtest.h>

#include <map>

namespace forewarn {
namespace {

absl::Time Day(int y, int m, int d) { return absl::FromCivil(absl::CivilDay(y, m, d), absl::UTCTimeZone()); }

LedgerPartition Month(int y, int m, int64_t open = 0, std::optional<absl::Time> last = std::nullopt) {
  LedgerPartition p;
  p.from = Day(y, m, 1);
  p.to = NextMonth(p.from);
  p.name = absl::StrCat("notice_ledger_y", y, "m", m < 10 ? "0" : "", m);
  p.open_incidents = open;
  p.last_change = last;
  return p;
}

LedgerPartition Legacy(int64_t open = 0, std::optional<absl::Time> last = std::nullopt) {
  LedgerPartition p;
  p.name = "notice_ledger_legacy";
  p.legacy = true;
  p.from = absl::InfinitePast();
  p.to = absl::FromUnixMillis(1);
  p.open_incidents = open;
  p.last_change = last;
  return p;
}

std::vector<std::string> Names(const std::vector<LedgerPartition>& ps) {
  std::vector<std::string> out;
  for (const auto& p : ps) out.push_back(p.name);
  return out;
}

TEST(LedgerRetentionTest, RetentionBelowAMonthIsRefusedNamingTheFlag) {
  EXPECT_TRUE(ValidateLedgerRetention(kDefaultLedgerRetention).ok());
  EXPECT_TRUE(ValidateLedgerRetention(absl::Hours(24 * 31)).ok());
  const absl::Status s = ValidateLedgerRetention(absl::Hours(24 * 30));
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("--ledger-retention"), std::string::npos) << s;
  EXPECT_NE(s.message().find("31 days"), std::string::npos) << s;
}

TEST(LedgerRetentionTest, MonthsAreUtcAndRollOverTheYear) {
  EXPECT_EQ(MonthStart(Day(2026, 12, 6) + absl::Hours(23)), Day(2026, 12, 1));
  EXPECT_EQ(NextMonth(Day(2026, 12, 1)), Day(2027, 1, 1));
  EXPECT_EQ(NextMonth(Day(2024, 2, 1)), Day(2024, 3, 1));
}

TEST(LedgerRetentionTest, CreatesTheMissingMonthsFromNowToThreeAhead) {
  const PartitionPlan plan =
      PlanLedgerPartitions({Legacy(), Month(2026, 12), Month(2027, 2)}, Day(2026, 12, 6), kDefaultLedgerRetention);
  EXPECT_EQ(plan.create, (std::vector<absl::Time>{Day(2027, 1, 1), Day(2027, 3, 1)}));
  EXPECT_TRUE(plan.drop.empty());
}

TEST(LedgerRetentionTest, DropsOnlyMonthsWhollyOlderThanTheRetention) {
  const absl::Time now = Day(2026, 12, 6);  // minus 400 days: 2025-11-01
  const PartitionPlan plan = PlanLedgerPartitions(
      {Month(2025, 9, 0, Day(2025, 9, 20)), Month(2025, 10, 0, Day(2025, 10, 30)), Month(2025, 11), Month(2026, 12)},
      now, absl::Hours(24 * 400));
  // October ends on 2025-11-01 00:00, exactly the cut-off: it goes;
  // November does not end before it.
  EXPECT_EQ(Names(plan.drop), (std::vector<std::string>{"notice_ledger_y2025m09", "notice_ledger_y2025m10"}));
  EXPECT_TRUE(plan.kept.empty());
}

TEST(LedgerRetentionTest, KeepsAnOldMonthWithAnOpenOrRecentlyChangedIncident) {
  const absl::Time now = Day(2026, 12, 6);
  const PartitionPlan plan = PlanLedgerPartitions(
      {Month(2025, 6, 1, Day(2025, 6, 2)), Month(2025, 7, 0, Day(2026, 1, 15)), Month(2025, 8, 0, Day(2025, 8, 3))},
      now, kDefaultLedgerRetention);
  EXPECT_EQ(Names(plan.drop), (std::vector<std::string>{"notice_ledger_y2025m08"}));
  ASSERT_EQ(plan.kept.size(), 2u);
  EXPECT_EQ(plan.kept[0].first.name, "notice_ledger_y2025m06");
  EXPECT_EQ(plan.kept[0].second, "1 incident(s) still open");
  EXPECT_EQ(plan.kept[1].first.name, "notice_ledger_y2025m07");
  EXPECT_NE(plan.kept[1].second.find("2026-01-15"), std::string::npos) << plan.kept[1].second;
}

TEST(LedgerRetentionTest, TheLegacyPartitionGoesOnceEveryLegacyIncidentIsPastRetention) {
  const absl::Time now = Day(2026, 12, 6);
  EXPECT_EQ(Names(PlanLedgerPartitions({Legacy(0, Day(2025, 1, 1))}, now, kDefaultLedgerRetention).drop),
            (std::vector<std::string>{"notice_ledger_legacy"}));
  EXPECT_TRUE(PlanLedgerPartitions({Legacy(0, Day(2026, 1, 1))}, now, kDefaultLedgerRetention).drop.empty());
  EXPECT_TRUE(PlanLedgerPartitions({Legacy(2, Day(2024, 1, 1))}, now, kDefaultLedgerRetention).drop.empty());
  // Without any incident (a database made after migration 14) it stays, and
  // is not reported as kept either.
  const PartitionPlan empty = PlanLedgerPartitions({Legacy()}, now, kDefaultLedgerRetention);
  EXPECT_TRUE(empty.drop.empty());
  EXPECT_TRUE(empty.kept.empty());
}

TEST(LedgerRetentionTest, ADroppedIncidentIsFailedPreconditionNamingCreationAndRetention) {
  IncidentLedger l{Day(2025, 9, 1), LedgerDrop{Day(2026, 11, 2), absl::Hours(24 * 400)}};
  const absl::Status s = CheckLedgerKept("0199-x", l);
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(s.message(),
            "incident 0199-x was created 2025-09-01; notices are kept 400 days (--ledger-retention) and its ledger "
            "has been dropped (2026-11-02)");
  l.dropped.reset();
  EXPECT_TRUE(CheckLedgerKept("0199-x", l).ok());
}

class MemoryLog final : public LedgerRetentionLog {
 public:
  std::map<std::string, IncidentLedger> incidents;
  absl::StatusOr<IncidentLedger> LedgerOf(const std::string& id) override {
    auto it = incidents.find(id);
    if (it == incidents.end()) return absl::NotFoundError("incident not found");
    return it->second;
  }
};

TEST(LedgerRetentionTest, RequireLedgerLetsUnknownAndKeptIncidentsThrough) {
  constexpr char kOld[] = "01991234-5678-7abc-8def-0123456789ab";
  constexpr char kNew[] = "019ae000-5678-7abc-8def-0123456789ab";
  MemoryLog log;
  log.incidents[kOld] = {Day(2025, 9, 1), LedgerDrop{Day(2026, 11, 2), kDefaultLedgerRetention}};
  log.incidents[kNew] = {Day(2026, 12, 1), std::nullopt};
  EXPECT_EQ(RequireLedger(&log, kOld).code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(RequireLedger(&log, kNew).ok());
  EXPECT_TRUE(RequireLedger(&log, "01990000-0000-7000-8000-000000000000").ok());  // unknown: the read says
  EXPECT_TRUE(RequireLedger(nullptr, kOld).ok());                                   // not wired
}

// The port in memory: partitions by name, calls recorded.
class MemoryPartitions final : public LedgerPartitions {
 public:
  std::vector<LedgerPartition> parts;
  std::vector<std::string> dropped;
  absl::Time receipts_before;
  std::set<std::string> failing;  // Drop fails for these
  absl::StatusOr<std::vector<LedgerPartition>> List() override { return parts; }
  absl::Status Create(absl::Time month) override {
    LedgerPartition p;
    p.from = month;
    p.to = NextMonth(month);
    p.name = absl::FormatTime("notice_ledger_y%Ym%m", month, absl::UTCTimeZone());
    parts.push_back(p);
    return absl::OkStatus();
  }
  absl::Status Drop(const LedgerPartition& p, absl::Duration, absl::Time) override {
    if (failing.contains(p.name)) return absl::UnavailableError("lock not granted");
    dropped.push_back(p.name);
    std::erase_if(parts, [&](const LedgerPartition& q) { return q.name == p.name; });
    return absl::OkStatus();
  }
  absl::StatusOr<int64_t> DeleteReceiptsBefore(absl::Time before, int) override {
    receipts_before = before;
    return 7;
  }
};

TEST(LedgerRetentionTest, AMaintenanceRoundCreatesDropsAndGoesOnPastAFailedDrop) {
  MemoryPartitions parts;
  parts.parts = {Legacy(0, Day(2024, 1, 1)), Month(2025, 1), Month(2025, 2, 1, Day(2025, 2, 2)), Month(2025, 3)};
  parts.failing = {"notice_ledger_legacy"};
  FakeClock clock(Day(2026, 12, 6));
  LedgerMaintenance maintenance(parts, clock, kDefaultLedgerRetention);
  auto round = maintenance.RunOnce();
  ASSERT_TRUE(round.ok()) << round.status();
  EXPECT_EQ(round->created, 4);  // 2026-12 .. 2027-03
  EXPECT_EQ(round->dropped, 2);
  EXPECT_EQ(round->kept, 1);
  EXPECT_EQ(round->receipts_deleted, 7);
  EXPECT_EQ(parts.dropped, (std::vector<std::string>{"notice_ledger_y2025m01", "notice_ledger_y2025m03"}));
  EXPECT_EQ(parts.receipts_before, Day(2026, 12, 6) - kDefaultLedgerRetention);

  // A year later the kept month's incident is closed and old: it goes, and
  // only the missing months are created.
  parts.failing.clear();
  for (auto& p : parts.parts) {
    if (p.name == "notice_ledger_y2025m02") p.open_incidents = 0;
  }
  clock.Set(Day(2027, 2, 10));
  round = maintenance.RunOnce();
  ASSERT_TRUE(round.ok()) << round.status();
  EXPECT_EQ(round->created, 2);  // 2027-04, 2027-05
  EXPECT_EQ(parts.dropped.back(), "notice_ledger_y2025m02");
  EXPECT_EQ(round->dropped, 2);  // and the legacy one
}

}  // namespace
}  // namespace forewarn
