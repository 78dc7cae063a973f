// PgStatusLinks on the real PostgreSQL: one token per (incident, language,
// time zone), however many callers race for it; distinct languages and zones
// get distinct tokens; an unknown incident is NOT_FOUND.
#include <gtest/gtest.h>

#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "services/core/incident_ref.h"
#include "services/pg/pg_status_links.h"
#include "tests/integration/pg_fixture.h"

namespace forewarn {
namespace {

class PgStatusLinksTest : public testing::PgTest {
 protected:
  void SetUp() override {
    SetUpDatabase(
        "INSERT INTO incidents (id, version, kind, state, services, regions, reason_ar, reason_en, starts_at, "
        "  expected_restoration_at, idempotency_key, request_hash, created_at, updated_at) VALUES "
        "('11111111-1111-1111-1111-111111111111', 1, 'unplanned_outage', 'open', '{electricity}', '{riyadh}', "
        " 'a', 'e', now(), now() + interval '2 hours', 'k1', 'h', now(), now()),"
        "('22222222-2222-2222-2222-222222222222', 1, 'unplanned_outage', 'open', '{water}', '{jeddah}', "
        " 'a', 'e', now(), now() + interval '2 hours', 'k2', 'h', now(), now())");
  }
  static constexpr char kFirst[] = "11111111-1111-1111-1111-111111111111";
  static constexpr char kSecond[] = "22222222-2222-2222-2222-222222222222";
};

TEST_F(PgStatusLinksTest, ConcurrentCallersGetOneTokenPerCombination) {
  if (IsSkipped()) return;
  constexpr int kCallers = 8;
  std::mutex mu;
  std::set<std::string> tokens;
  std::vector<std::thread> callers;
  for (int i = 0; i < kCallers; ++i) {
    callers.emplace_back([&] {
      PgStatusLinks links(PgDatabase(db_->uri(), 1));  // a pool of its own: a notifier each
      for (int round = 0; round < 5; ++round) {
        auto token = links.TokenFor(kFirst, "ar", "Asia/Riyadh");
        ASSERT_TRUE(token.ok()) << token.status();
        std::lock_guard lock(mu);
        tokens.insert(*token);
      }
    });
  }
  for (auto& t : callers) t.join();
  ASSERT_EQ(tokens.size(), 1u);
  const std::string token = *tokens.begin();
  EXPECT_EQ(token.size(), 8u);
  EXPECT_EQ(NormalizeCrockford(token), token);
  EXPECT_EQ(db_->Exec("SELECT count(*) FROM status_links"), "1");
  EXPECT_EQ(db_->Exec(absl::StrCat("SELECT incident_id || ' ' || language || ' ' || time_zone FROM status_links "
                                   "WHERE token = '", token, "'")),
            absl::StrCat(kFirst, " ar Asia/Riyadh"));
}

TEST_F(PgStatusLinksTest, LanguagesZonesAndIncidentsGetTokensOfTheirOwn) {
  if (IsSkipped()) return;
  PgStatusLinks links(PgDatabase(db_->uri(), 1));
  std::set<std::string> tokens;
  for (const char* incident : {kFirst, kSecond}) {
    for (const char* language : {"ar", "en"}) {
      for (const char* zone : {"Asia/Riyadh", "Europe/London"}) {
        auto token = links.TokenFor(incident, language, zone);
        ASSERT_TRUE(token.ok()) << token.status();
        tokens.insert(*token);
        auto again = links.TokenFor(incident, language, zone);
        ASSERT_TRUE(again.ok()) << again.status();
        EXPECT_EQ(*again, *token) << incident << " " << language << " " << zone;
      }
    }
  }
  EXPECT_EQ(tokens.size(), 8u);
  EXPECT_EQ(db_->Exec("SELECT count(*) FROM status_links"), "8");
}

TEST_F(PgStatusLinksTest, RefusesAnUnknownIncidentAndAnUnknownLanguage) {
  if (IsSkipped()) return;
  PgStatusLinks links(PgDatabase(db_->uri(), 1));
  auto unknown = links.TokenFor("33333333-3333-3333-3333-333333333333", "en", "Asia/Riyadh");
  EXPECT_EQ(unknown.status().code(), absl::StatusCode::kNotFound) << unknown.status();
  auto language = links.TokenFor(kFirst, "fr", "Asia/Riyadh");
  EXPECT_EQ(language.status().code(), absl::StatusCode::kInvalidArgument) << language.status();
  EXPECT_EQ(db_->Exec("SELECT count(*) FROM status_links"), "0");
}

}  // namespace
}  // namespace forewarn
