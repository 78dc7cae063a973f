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
  auto s = ValidateNewIncident(r, kNow, {});
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
  EXPECT_EQ(ValidateUpdate(u, current, {}).code(), absl::StatusCode::kInvalidArgument);
  u.expected_restoration_at = kNow - absl::Minutes(1);
  EXPECT_EQ(ValidateUpdate(u, current, {}).code(), absl::StatusCode::kInvalidArgument);
  u.expected_restoration_at = kNow + absl::Hours(1);
  EXPECT_TRUE(ValidateUpdate(u, current, {}).ok());
}

TEST(IsUuid, AcceptsOnlyCanonicalForm) {
  EXPECT_TRUE(IsUuid("3f2504e0-4f89-11d3-9a0c-0305e82c3301"));
  EXPECT_FALSE(IsUuid("3f2504e0-4f89-11d3-9a0c-0305e82c330"));
  EXPECT_FALSE(IsUuid("3f2504e0x4f89-11d3-9a0c-0305e82c3301"));
  EXPECT_FALSE(IsUuid("'; DROP TABLE incidents; --xxxxxxxxx"));
}

}  // namespace
}  // namespace forewarn
