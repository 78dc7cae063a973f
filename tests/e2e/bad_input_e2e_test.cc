// Bad input over the wire: a table of malformed requests, each answered with
// the right gRPC code and a message naming the field, and nothing stored.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <functional>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "tests/e2e/stack.h"

namespace forewarn {
namespace {

namespace v1 = forewarn::v1;

class BadInputE2eTest : public testing::StackTest {
 protected:
  void SetUp() override {
    testing::ServiceStack::Options options;
    options.notifiers = 1;
    StartStack(
        "INSERT INTO services VALUES ('electricity','Electricity','الكهرباء');"
        "INSERT INTO regions VALUES ('riyadh','Riyadh','الرياض');",
        options);
  }
  static v1::CreateIncidentRequest Valid() {
    return testing::OutageRequest("ok-1", "electricity", "riyadh", "Cable fault", "عطل في الكابل", absl::Hours(2));
  }
};

TEST_F(BadInputE2eTest, EachMalformedRequestGetsTheRightCodeAndMessageAndStoresNothing) {
  struct Case {
    const char* name;
    std::function<void(v1::CreateIncidentRequest&)> mutate;
    grpc::StatusCode code;
    const char* message_prefix;
  };
  const std::vector<Case> cases = {
      {"no idempotency key", [](auto& r) { r.clear_idempotency_key(); }, grpc::INVALID_ARGUMENT,
       "idempotency_key: is required"},
      {"no kind", [](auto& r) { r.set_kind(v1::INCIDENT_KIND_UNSPECIFIED); }, grpc::INVALID_ARGUMENT,
       "kind: is required"},
      {"unknown enum value", [](auto& r) { r.set_kind(static_cast<v1::IncidentKind>(42)); },
       grpc::INVALID_ARGUMENT, "kind: unknown value 42"},
      {"no services", [](auto& r) { r.clear_services(); }, grpc::INVALID_ARGUMENT,
       "services: at least one is required"},
      {"unknown service", [](auto& r) { r.set_services(0, "gas"); }, grpc::INVALID_ARGUMENT,
       "services[0]: unknown service 'gas'"},
      {"missing reason", [](auto& r) { r.mutable_reason()->clear_ar(); }, grpc::INVALID_ARGUMENT,
       "reason.ar: must not be empty"},
      {"restoration before start",
       [](auto& r) { r.mutable_starts_at()->set_seconds(r.expected_restoration_at().seconds() + 60); },
       grpc::INVALID_ARGUMENT, "expected_restoration_at: must be after starts_at"},
      {"no restoration", [](auto& r) { r.clear_expected_restoration_at(); }, grpc::INVALID_ARGUMENT,
       "expected_restoration_at: is required"},
      {"timestamp out of range", [](auto& r) { r.mutable_starts_at()->set_seconds(-99999999999); },
       grpc::INVALID_ARGUMENT, "starts_at: timestamp out of range"},
      {"1 MB reason", [](auto& r) { r.mutable_reason()->set_en(std::string(1 << 20, 'x')); },
       grpc::INVALID_ARGUMENT, "reason.en: is 1048576 characters, at most 1000 allowed"},
      {"control characters", [](auto& r) { r.mutable_reason()->set_en("bell\a"); }, grpc::INVALID_ARGUMENT,
       "reason.en: contains control characters"},
      {"bad region code", [](auto& r) { r.set_regions(0, "Riyadh City"); }, grpc::INVALID_ARGUMENT,
       "regions[0]: must be 1-64 characters"},
  };
  for (const auto& c : cases) {
    v1::CreateIncidentRequest req = Valid();
    req.set_idempotency_key(absl::StrCat("case-", &c - cases.data()));
    c.mutate(req);
    v1::Incident out;
    auto s = stack_.stub().CreateIncident(stack_.Ctx().get(), req, &out);
    EXPECT_EQ(s.error_code(), c.code) << c.name << ": " << s.error_message();
    EXPECT_EQ(s.error_message().substr(0, std::string(c.message_prefix).size()), c.message_prefix) << c.name;
  }

  // Non-UTF-8 text cannot even be decoded as the request: refused, not stored.
  {
    v1::CreateIncidentRequest req = Valid();
    req.set_idempotency_key("utf8-case");
    req.mutable_reason()->set_en("bad \xff\xfe bytes");
    v1::Incident out;
    auto s = stack_.stub().CreateIncident(stack_.Ctx().get(), req, &out);
    EXPECT_EQ(s.error_code(), grpc::INVALID_ARGUMENT) << s.error_message();
    EXPECT_EQ(s.error_message().rfind("request: not a valid forewarn.v1.CreateIncidentRequest", 0), 0u)
        << s.error_message();
  }

  // Every field at fault is named, in one message.
  {
    v1::CreateIncidentRequest req = Valid();
    req.set_idempotency_key("two-reasons");
    req.clear_reason();
    req.clear_services();
    v1::Incident out;
    auto s = stack_.stub().CreateIncident(stack_.Ctx().get(), req, &out);
    EXPECT_EQ(s.error_code(), grpc::INVALID_ARGUMENT);
    EXPECT_EQ(s.error_message(),
              "services: at least one is required; reason.ar: must not be empty; reason.en: must not be empty");
  }

  // An outage "since 1960", estimated back in 1960: both times refused.
  {
    v1::CreateIncidentRequest req = Valid();
    req.set_idempotency_key("nineteen-sixty");
    const absl::Time start = absl::FromCivil(absl::CivilSecond(1960, 1, 1, 3, 0, 0), absl::UTCTimeZone());
    req.mutable_starts_at()->set_seconds(absl::ToUnixSeconds(start));
    req.mutable_expected_restoration_at()->set_seconds(absl::ToUnixSeconds(start + absl::Hours(6)));
    v1::Incident out;
    auto s = stack_.stub().CreateIncident(stack_.Ctx().get(), req, &out);
    EXPECT_EQ(s.error_code(), grpc::INVALID_ARGUMENT);
    EXPECT_EQ(s.error_message(),
              "starts_at: more than 168h in the past (the back-dating window); "
              "expected_restoration_at: must be in the future");
  }

  // Planned changes and other RPCs.
  v1::AnnounceIbanChangeRequest iban;
  iban.set_idempotency_key("iban-bad");
  iban.set_old_iban("SA03 8000 0000 6080 1016 7518");
  iban.set_new_iban("SA44 2000 0001 2345 6789 1234");
  iban.mutable_effective_at()->set_seconds(absl::ToUnixSeconds(absl::Now() + absl::Hours(24 * 40)));
  iban.mutable_reason()->set_en("x");
  iban.mutable_reason()->set_ar("س");
  v1::Incident out;
  auto s = stack_.stub().AnnounceIbanChange(stack_.Ctx().get(), iban, &out);
  EXPECT_EQ(s.error_code(), grpc::INVALID_ARGUMENT);
  EXPECT_EQ(s.error_message(), "old_iban: check digits do not match");

  v1::ScheduleMaintenanceRequest m;
  m.set_idempotency_key("m-bad");
  m.add_services("electricity");
  m.add_regions("riyadh");
  m.mutable_reason()->set_en("x");
  m.mutable_reason()->set_ar("س");
  m.mutable_starts_at()->set_seconds(absl::ToUnixSeconds(absl::Now() - absl::Hours(1)));
  m.mutable_ends_at()->set_seconds(absl::ToUnixSeconds(absl::Now() + absl::Hours(1)));
  s = stack_.stub().ScheduleMaintenance(stack_.Ctx().get(), m, &out);
  EXPECT_EQ(s.error_code(), grpc::INVALID_ARGUMENT);
  EXPECT_EQ(s.error_message(), "starts_at: must be in the future");

  v1::UpdateIncidentRequest u;
  u.set_id("not-a-uuid");
  u.mutable_expected_restoration_at()->set_seconds(absl::ToUnixSeconds(absl::Now() + absl::Hours(3)));
  s = stack_.stub().UpdateIncident(stack_.Ctx().get(), u, &out);
  EXPECT_EQ(s.error_code(), grpc::INVALID_ARGUMENT);
  EXPECT_EQ(s.error_message(), "id: 'not-a-uuid' is neither an incident id (a UUID) nor a reference like RIY-4K7Q");
  u.set_id("00000000-0000-0000-0000-000000000000");
  EXPECT_EQ(stack_.stub().UpdateIncident(stack_.Ctx().get(), u, &out).error_code(), grpc::NOT_FOUND);

  EXPECT_EQ(stack_.db().Exec("SELECT count(*) FROM incidents"), "0");
  EXPECT_EQ(stack_.db().Exec("SELECT count(*) FROM outbox"), "0");

  // The same idempotency key with different content: ALREADY_EXISTS, and
  // only the first request is stored.
  v1::CreateIncidentRequest first = Valid();
  ASSERT_TRUE(stack_.stub().CreateIncident(stack_.Ctx().get(), first, &out).ok());
  v1::CreateIncidentRequest other = Valid();
  other.mutable_reason()->set_en("Something else");
  s = stack_.stub().CreateIncident(stack_.Ctx().get(), other, &out);
  EXPECT_EQ(s.error_code(), grpc::ALREADY_EXISTS);
  EXPECT_EQ(s.error_message().substr(0, 15), "idempotency_key");
  EXPECT_EQ(stack_.db().Exec("SELECT count(*) FROM incidents"), "1");
  EXPECT_EQ(stack_.db().Exec("SELECT count(*) FROM outbox"), "1");

  // An update whose estimate has already passed is refused; the incident
  // keeps its version.
  v1::Incident created;
  ASSERT_TRUE(stack_.stub().CreateIncident(stack_.Ctx().get(), first, &created).ok());
  v1::UpdateIncidentRequest late;
  late.set_id(created.id());
  late.mutable_expected_restoration_at()->set_seconds(absl::ToUnixSeconds(absl::Now() - absl::Minutes(10)));
  s = stack_.stub().UpdateIncident(stack_.Ctx().get(), late, &out);
  EXPECT_EQ(s.error_code(), grpc::INVALID_ARGUMENT);
  EXPECT_EQ(s.error_message(), "expected_restoration_at: must be in the future");
  EXPECT_EQ(stack_.db().Exec("SELECT version FROM incidents"), "1");
}

}  // namespace
}  // namespace forewarn
