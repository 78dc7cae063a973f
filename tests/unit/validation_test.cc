#include "services/core/validation.h"

#include <gtest/gtest.h>

namespace forewarn {
namespace {

const absl::Time kNow = absl::FromUnixSeconds(1'790'000'000);

NewIncident ValidRequest() {
  NewIncident r;
  r.idempotency_key = "ops-2026-001";
  r.services = {"electricity"};
  r.regions = {"riyadh"};
  r.reason = {"عطل في محطة التحويل", "Substation fault"};
  r.expected_restoration_at = kNow + absl::Hours(3);
  return r;
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
  NewIncident r;
  r.kind = IncidentKind::kIbanChange;
  r.idempotency_key = "iban-1";
  r.reason = {"دمج الفروع", "Branch merger"};
  r.old_iban = "SA03 8000 0000 6080 1016 7519";
  r.new_iban = "SA4420000001234567891234";
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

TEST(IsUuid, AcceptsOnlyCanonicalForm) {
  EXPECT_TRUE(IsUuid("3f2504e0-4f89-11d3-9a0c-0305e82c3301"));
  EXPECT_FALSE(IsUuid("3f2504e0-4f89-11d3-9a0c-0305e82c330"));
  EXPECT_FALSE(IsUuid("3f2504e0x4f89-11d3-9a0c-0305e82c3301"));
  EXPECT_FALSE(IsUuid("'; DROP TABLE incidents; --xxxxxxxxx"));
}

}  // namespace
}  // namespace forewarn
