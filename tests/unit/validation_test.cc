#include "services/core/validation.h"

#include <gtest/gtest.h>

#include "tests/support/new_incidents.h"

namespace forewarn {
namespace {

const absl::Time kNow = absl::FromUnixSeconds(1'790'000'000);

NewIncident ValidRequest() {
  return testing::OutageIncident("ops-2026-001", "electricity", "riyadh", {"عطل في محطة التحويل", "Substation fault"},
                                 kNow + absl::Hours(3));
}

void ExpectInvalid(const NewIncident& r, const std::string& field) {
  auto s = ValidateNewIncident(r, kNow, {}).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
  EXPECT_EQ(std::string(s.message()).substr(0, field.size()), field) << s;
}

TEST(ValidateNewIncident, AcceptsAValidRequest) { EXPECT_TRUE(ValidateNewIncident(ValidRequest(), kNow, {}).ok()); }

TEST(ValidateNewIncident, RejectsMissingReasonNamingTheField) {
  auto r = ValidRequest();
  r.reason.en = "  ";
  ExpectInvalid(r, "reason.en");
  r = ValidRequest();
  r.reason.ar.clear();
  ExpectInvalid(r, "reason.ar");
}

TEST(ValidateNewIncident, RejectsRestorationBeforeStart) {
  auto r = ValidRequest();
  r.starts_at = kNow + absl::Hours(4);
  ExpectInvalid(r, "expected_restoration_at");
  r = ValidRequest();
  r.expected_restoration_at = kNow;
  ExpectInvalid(r, "expected_restoration_at");
}

TEST(ValidateNewIncident, RejectsNonUtf8AndOversizeText) {
  auto r = ValidRequest();
  r.reason.en = "bad \xff\xfe bytes";
  ExpectInvalid(r, "reason.en");
  r = ValidRequest();
  r.reason.ar = std::string(1'000'000, 'a');
  ExpectInvalid(r, "reason.ar");
  r = ValidRequest();
  r.reason.en = "overlong \xc0\xaf slash";
  ExpectInvalid(r, "reason.en");
  r = ValidRequest();
  r.reason.en = "surrogate \xed\xa0\x80";
  ExpectInvalid(r, "reason.en");
}

TEST(ValidateNewIncident, CountsCharactersNotBytes) {
  auto r = ValidRequest();
  std::string arabic;
  for (int i = 0; i < 1000; ++i) arabic += "ع";  // 2000 bytes, 1000 characters
  r.reason.ar = arabic;
  EXPECT_TRUE(ValidateNewIncident(r, kNow, {}).ok());
  r.reason.ar += "ع";
  ExpectInvalid(r, "reason.ar");
}

TEST(ValidateNewIncident, RejectsBadCodesAndKeys) {
  auto r = ValidRequest();
  r.services.clear();
  ExpectInvalid(r, "services");
  r = ValidRequest();
  r.regions = {"riyadh", "Riyadh!"};
  ExpectInvalid(r, "regions[1]");
  r = ValidRequest();
  r.regions = {"riyadh", "riyadh"};
  ExpectInvalid(r, "regions[1]");
  r = ValidRequest();
  r.idempotency_key.clear();
  ExpectInvalid(r, "idempotency_key");
  r = ValidRequest();
  r.idempotency_key = "has space";
  ExpectInvalid(r, "idempotency_key");
}

TEST(ValidateNewIncident, TargetsNeedOneSelectorAndWellFormedOnes) {
  auto r = ValidRequest();
  r.regions.clear();
  ExpectInvalid(r, "regions, asset_codes, audience_id, area: at least one selector is required");
  r.asset_codes = {"SUB-1/F 2"};
  ExpectInvalid(r, "asset_codes[0]");
  r.asset_codes = {"SUB-1.F:2", "SUB-1.F:2"};
  ExpectInvalid(r, "asset_codes[1]: duplicate");
  r.asset_codes = {"SUB-1.F:2"};
  EXPECT_TRUE(ValidateNewIncident(r, kNow, {}).ok());
  r.audience_id = "list-7";
  ExpectInvalid(r, "audience_id: must be a UUID");
  r = ValidRequest();
  r.regions.clear();
  r.audience_id = "0f8fad5b-d9cb-469f-a165-70867728950e";
  EXPECT_TRUE(ValidateNewIncident(r, kNow, {}).ok());
}

TEST(ValidateNewIncident, AnIbanChangeTakesNoSelectors) {
  auto r = testing::IbanChangeIncident("k", {"تغيير", "Change"}, "SA0380000000608010167519",
                                       "SA4420000001234567891234");
  r.starts_at = kNow + absl::Hours(24 * 40);
  r.asset_codes = {"BR-1"};
  ExpectInvalid(r, "services, regions, asset_codes, audience_id, area: not used for an IBAN change");
}

TEST(ValidateUpdate, NewTargetsAreCheckedUnderTheirField) {
  Incident current;
  current.starts_at = kNow;
  current.expected_restoration_at = kNow + absl::Hours(2);
  IncidentUpdate u;
  u.id = "x";
  u.targets = Targets{};
  auto s = ValidateUpdate(u, current, kNow, {});
  EXPECT_EQ(s.message(),
            "targets.regions, targets.asset_codes, targets.audience_id, targets.area: at least one selector is required");
  u.targets->asset_codes = {"F-1"};
  IncidentUpdate normalized;
  EXPECT_TRUE(ValidateUpdate(u, current, kNow, {}, &normalized).ok());
  EXPECT_EQ(normalized.targets, u.targets);
}

TEST(ValidateUpdate, RequiresAChangeAndAValidRestoration) {
  Incident current;
  current.starts_at = kNow;
  IncidentUpdate u;
  u.id = "x";
  EXPECT_EQ(ValidateUpdate(u, current, kNow, {}).code(), absl::StatusCode::kInvalidArgument);
  u.expected_restoration_at = kNow - absl::Minutes(1);
  EXPECT_EQ(ValidateUpdate(u, current, kNow, {}).code(), absl::StatusCode::kInvalidArgument);
  u.expected_restoration_at = kNow + absl::Hours(1);
  EXPECT_TRUE(ValidateUpdate(u, current, kNow, {}).ok());
  u.starts_at = kNow + absl::Minutes(30);  // an outage cannot be rescheduled
  EXPECT_EQ(ValidateUpdate(u, current, kNow, {}).code(), absl::StatusCode::kInvalidArgument);
}

TEST(ValidateNewIncident, MaintenanceNeedsAFutureStartAndAnEndAfterIt) {
  auto r = ValidRequest();
  r.kind = IncidentKind::kPlannedMaintenance;
  ExpectInvalid(r, "starts_at: is required");
  r.starts_at = kNow - absl::Minutes(1);
  ExpectInvalid(r, "starts_at: must be in the future");
  r.starts_at = kNow + absl::Hours(5);
  ExpectInvalid(r, "ends_at: must be after starts_at");
  r.expected_restoration_at = kNow + absl::Hours(7);
  EXPECT_TRUE(ValidateNewIncident(r, kNow, {}).ok());
}

TEST(ValidateNewIncident, IbanChangeValidatesBothIbansAndTheDate) {
  NewIncident r = testing::IbanChangeIncident("iban-1", {"دمج الفروع", "Branch merger"},
                                              "SA03 8000 0000 6080 1016 7519", "SA4420000001234567891234");
  r.starts_at = kNow + absl::Hours(24 * 40);
  auto ok = ValidateNewIncident(r, kNow, {});
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(ok->old_iban, "SA0380000000608010167519");
  EXPECT_EQ(ok->expected_restoration_at, *r.starts_at);
  auto bad = r;
  bad.new_iban = "SA4420000001234567891235";
  ExpectInvalid(bad, "new_iban: check digits");
  bad = r;
  bad.new_iban = r.old_iban;
  ExpectInvalid(bad, "new_iban: must differ");
  bad = r;
  bad.starts_at = kNow - absl::Hours(1);
  ExpectInvalid(bad, "effective_at");
  bad = r;
  bad.services = {"electricity"};
  ExpectInvalid(bad, "services, regions");
}

TEST(ValidateUpdate, AnIbanChangeCannotBeEditedAndStartedMaintenanceCannotMoveItsStart) {
  Incident iban;
  iban.kind = IncidentKind::kIbanChange;
  IncidentUpdate u;
  u.reason = LocalizedText{"a", "b"};
  EXPECT_EQ(ValidateUpdate(u, iban, kNow, {}).code(), absl::StatusCode::kFailedPrecondition);
  Incident m;
  m.kind = IncidentKind::kPlannedMaintenance;
  m.starts_at = kNow - absl::Hours(1);
  m.expected_restoration_at = kNow + absl::Hours(1);
  IncidentUpdate move;
  move.starts_at = kNow + absl::Hours(2);
  EXPECT_EQ(ValidateUpdate(move, m, kNow, {}).code(), absl::StatusCode::kFailedPrecondition);
  IncidentUpdate extend;
  extend.expected_restoration_at = kNow + absl::Hours(3);
  EXPECT_TRUE(ValidateUpdate(extend, m, kNow, {}).ok());
}

TEST(ValidateNewIncident, NamesEveryInvalidFieldInOneMessage) {
  auto r = ValidRequest();
  r.reason = {};
  auto s = ValidateNewIncident(r, kNow, {}).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "reason.ar: must not be empty; reason.en: must not be empty");

  r = ValidRequest();
  r.idempotency_key.clear();
  r.services = {"Gas", "water", "water"};
  r.regions.clear();
  r.reason.en = "bell\a";
  r.expected_restoration_at = absl::UnixEpoch();
  s = ValidateNewIncident(r, kNow, {}).status();
  EXPECT_EQ(s.message(),
            "idempotency_key: is required; services[0]: must be 1-64 characters of a-z, 0-9, '_' or '-'; "
            "services[2]: duplicate 'water'; regions, asset_codes, audience_id, area: at least one selector is "
            "required; reason.en: contains control characters; expected_restoration_at: is required");
}

TEST(ValidateNewIncident, IbanChangeNamesBothBadIbansAndAMissingDate) {
  const NewIncident r = testing::IbanChangeIncident("iban-2", {"دمج الفروع", "Branch merger"},
                                                    "SA03 8000 0000 6080 1016 7518", "XX00");
  auto s = ValidateNewIncident(r, kNow, {}).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message().substr(0, 9), "old_iban:") << s;
  EXPECT_NE(s.message().find("; new_iban: "), absl::string_view::npos) << s;
  EXPECT_NE(s.message().find("; effective_at: is required"), absl::string_view::npos) << s;
}

TEST(ValidateNewIncident, OutageStartMayBeBackDatedOnlyWithinTheWindow) {
  ValidationLimits limits;
  limits.max_backdate = absl::Hours(24 * 7);
  auto r = ValidRequest();
  r.starts_at = kNow - absl::Hours(24 * 7);  // exactly at the edge: accepted
  EXPECT_TRUE(ValidateNewIncident(r, kNow, limits).ok());
  r.starts_at = kNow - absl::Hours(24 * 7) - absl::Seconds(1);
  auto s = ValidateNewIncident(r, kNow, limits).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "starts_at: more than 168h in the past (the back-dating window)");
  limits.max_backdate = absl::Hours(1);  // configurable
  r.starts_at = kNow - absl::Minutes(61);
  EXPECT_EQ(ValidateNewIncident(r, kNow, limits).status().message(),
            "starts_at: more than 1h in the past (the back-dating window)");
}

TEST(ValidateNewIncident, OutageFrom1960WithAPastEstimateNamesBothTimes) {
  auto r = ValidRequest();
  r.starts_at = absl::FromCivil(absl::CivilSecond(1960, 1, 1, 3, 0, 0), absl::UTCTimeZone());
  r.expected_restoration_at = absl::FromCivil(absl::CivilSecond(1960, 1, 1, 9, 0, 0), absl::UTCTimeZone());
  auto s = ValidateNewIncident(r, kNow, {}).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(),
            "starts_at: more than 168h in the past (the back-dating window); "
            "expected_restoration_at: must be in the future");
}

TEST(ValidateNewIncident, OutageEstimateAlreadyPassedIsRefusedEvenWithARecentStart) {
  auto r = ValidRequest();
  r.starts_at = kNow - absl::Hours(3);
  r.expected_restoration_at = kNow - absl::Hours(1);
  EXPECT_EQ(ValidateNewIncident(r, kNow, {}).status().message(), "expected_restoration_at: must be in the future");
  r.expected_restoration_at = kNow + absl::Minutes(1);
  EXPECT_TRUE(ValidateNewIncident(r, kNow, {}).ok());
}

TEST(ValidateNewIncident, MaintenanceAndIbanChangesCannotBeBackDated) {
  ValidationLimits generous;
  generous.max_backdate = absl::Hours(24 * 30);  // the window is for outages only
  auto m = ValidRequest();
  m.kind = IncidentKind::kPlannedMaintenance;
  m.starts_at = kNow - absl::Hours(2);
  m.expected_restoration_at = kNow - absl::Hours(1);
  EXPECT_EQ(ValidateNewIncident(m, kNow, generous).status().message(),
            "starts_at: must be in the future; ends_at: must be in the future");
  NewIncident iban;
  iban.kind = IncidentKind::kIbanChange;
  iban.idempotency_key = "iban-3";
  iban.reason = {"دمج الفروع", "Branch merger"};
  iban.old_iban = "SA03 8000 0000 6080 1016 7519";
  iban.new_iban = "SA4420000001234567891234";
  iban.starts_at = kNow - absl::Minutes(1);
  EXPECT_EQ(ValidateNewIncident(iban, kNow, generous).status().message(), "effective_at: must be in the future");
}

TEST(ValidateUpdate, AnEstimateMovedIntoThePastIsRefusedButAReasonOnlyUpdateOfAnOverdueOutageIsNot) {
  Incident overdue;
  overdue.starts_at = kNow - absl::Hours(5);
  overdue.expected_restoration_at = kNow - absl::Hours(1);
  IncidentUpdate u;
  u.expected_restoration_at = kNow - absl::Minutes(30);  // after the start, but passed
  auto s = ValidateUpdate(u, overdue, kNow, {});
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "expected_restoration_at: must be in the future");
  IncidentUpdate reason_only;
  reason_only.reason = LocalizedText{"سبب جديد", "New cause"};
  EXPECT_TRUE(ValidateUpdate(reason_only, overdue, kNow, {}).ok());
  u.expected_restoration_at = kNow + absl::Hours(1);
  EXPECT_TRUE(ValidateUpdate(u, overdue, kNow, {}).ok());
}

TEST(ValidateUpdate, MaintenanceEndMustStayAheadAndARescheduleMustStartInTheFuture) {
  Incident m;
  m.kind = IncidentKind::kPlannedMaintenance;
  m.starts_at = kNow - absl::Hours(1);  // under way
  m.expected_restoration_at = kNow + absl::Hours(1);
  IncidentUpdate end_passed;
  end_passed.expected_restoration_at = kNow - absl::Minutes(1);
  EXPECT_EQ(ValidateUpdate(end_passed, m, kNow, {}).message(), "ends_at: must be in the future");
  Incident ahead = m;
  ahead.starts_at = kNow + absl::Hours(10);
  ahead.expected_restoration_at = kNow + absl::Hours(12);
  IncidentUpdate to_past;
  to_past.starts_at = kNow - absl::Hours(1);
  EXPECT_EQ(ValidateUpdate(to_past, ahead, kNow, {}).message(), "starts_at: must be in the future");
}

TEST(ValidateUpdate, NamesEveryInvalidFieldBeforeAnyPrecondition) {
  Incident m;
  m.kind = IncidentKind::kPlannedMaintenance;
  m.starts_at = kNow - absl::Hours(1);
  m.expected_restoration_at = kNow + absl::Hours(1);
  IncidentUpdate u;
  u.expected_version = -1;
  u.reason = LocalizedText{"", ""};
  u.starts_at = kNow + absl::Hours(2);  // moving a started maintenance: a precondition, reported last
  auto s = ValidateUpdate(u, m, kNow, {});
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(),
            "expected_version: must not be negative; reason.ar: must not be empty; reason.en: must not be empty");
  u.expected_version = 0;
  u.reason.reset();
  EXPECT_EQ(ValidateUpdate(u, m, kNow, {}).code(), absl::StatusCode::kFailedPrecondition);
}

TEST(IsUuid, AcceptsOnlyCanonicalForm) {
  EXPECT_TRUE(IsUuid("3f2504e0-4f89-11d3-9a0c-0305e82c3301"));
  EXPECT_FALSE(IsUuid("3f2504e0-4f89-11d3-9a0c-0305e82c330"));
  EXPECT_FALSE(IsUuid("3f2504e0x4f89-11d3-9a0c-0305e82c3301"));
  EXPECT_FALSE(IsUuid("'; DROP TABLE incidents; --xxxxxxxxx"));
}

}  // namespace
}  // namespace forewarn
