// libFuzzer target over request validation and template rendering: any
// bytes, as any request fields, must produce a status or a notice — never a
// crash, a hang or undefined behaviour (built with ASan and UBSan).
#include <fuzzer/FuzzedDataProvider.h>

#include <memory>

#include "notifier/render/template_renderer.h"
#include "services/core/iban.h"
#include "services/core/notice_policy.h"
#include "services/core/validation.h"

namespace {

const char* const kZones[] = {"Asia/Riyadh", "America/New_York", "Europe/London", "", "Not/AZone", "UTC"};

forewarn::TemplateRenderer* Renderer() {
  static auto* renderer = [] {
    static const forewarn::FakeClock clock(absl::FromUnixSeconds(1'790'000'000));
    auto r = forewarn::TemplateRenderer::Load(FOREWARN_TEMPLATES_DIR, clock);
    if (!r.ok()) __builtin_trap();
    return r->release();
  }();
  return renderer;
}

absl::Time AnyTime(FuzzedDataProvider& in) {
  return absl::FromUnixSeconds(in.ConsumeIntegralInRange<int64_t>(-62135596800, 253402300799));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);
  const absl::Time now = absl::FromUnixSeconds(1'790'000'000);

  forewarn::NewIncident req;
  req.kind = static_cast<forewarn::IncidentKind>(in.ConsumeIntegralInRange<int>(0, 2));
  req.idempotency_key = in.ConsumeRandomLengthString(200);
  for (int i = in.ConsumeIntegralInRange<int>(0, 3); i > 0; --i) req.services.push_back(in.ConsumeRandomLengthString(70));
  for (int i = in.ConsumeIntegralInRange<int>(0, 3); i > 0; --i) req.regions.push_back(in.ConsumeRandomLengthString(70));
  req.reason.ar = in.ConsumeRandomLengthString(2000);
  req.reason.en = in.ConsumeRandomLengthString(2000);
  if (in.ConsumeBool()) req.starts_at = AnyTime(in);
  req.expected_restoration_at = AnyTime(in);
  req.old_iban = in.ConsumeRandomLengthString(40);
  req.new_iban = in.ConsumeRandomLengthString(40);
  for (int i = in.ConsumeIntegralInRange<int>(0, 2); i > 0; --i) req.asset_codes.push_back(in.ConsumeRandomLengthString(70));
  if (in.ConsumeBool()) {
    forewarn::Area area;  // any text as GeoJSON (the checks parse it), or any circle
    if (in.ConsumeBool()) {
      area.geojson = in.ConsumeRandomLengthString(4000);
    } else {
      area.circle = forewarn::Circle{in.ConsumeFloatingPoint<double>(), in.ConsumeFloatingPoint<double>(),
                                     in.ConsumeFloatingPoint<double>()};
    }
    area.name.en = in.ConsumeRandomLengthString(300);
    req.area = area;
  }
  auto valid = forewarn::ValidateNewIncident(req, now, {});
  (void)forewarn::NormalizeIban("iban", req.old_iban);

  // Render whatever passed validation, and the raw fields too: templates
  // must cope with any text, name, zone and lead time.
  forewarn::Incident incident;
  incident.id = "00000000-0000-0000-0000-000000000001";
  incident.version = in.ConsumeIntegralInRange<int64_t>(1, 1000);
  incident.kind = req.kind;
  incident.services = req.services;
  incident.regions = req.regions;
  incident.reason = req.reason;
  incident.starts_at = req.starts_at.value_or(now);
  incident.expected_restoration_at = req.expected_restoration_at;
  if (in.ConsumeBool()) incident.resolved_at = AnyTime(in);
  incident.old_iban = valid.ok() ? valid->old_iban : req.old_iban;
  incident.new_iban = valid.ok() ? valid->new_iban : req.new_iban;
  forewarn::NoticeJob job;
  job.incident_id = incident.id;
  job.version = incident.version;
  job.kind = static_cast<forewarn::NoticeKind>(in.ConsumeIntegralInRange<int>(0, 11));
  job.occasion = in.ConsumeBool() ? forewarn::LeadOccasion(absl::Minutes(in.ConsumeIntegralInRange<int>(0, 100000)))
                                  : in.ConsumeRandomLengthString(20);
  job.recipient.channel = in.ConsumeBool() ? forewarn::Channel::kSms : forewarn::Channel::kEmail;
  job.recipient.locale = in.ConsumeBool() ? "ar" : (in.ConsumeBool() ? "en" : in.ConsumeRandomLengthString(8));
  job.recipient.time_zone = kZones[in.ConsumeIntegralInRange<int>(0, 5)];
  job.recipient.name = in.ConsumeRandomLengthString(100);
  (void)Renderer()->Render(job, incident);
  (void)forewarn::HoldUntil(job.kind, job.recipient.time_zone, AnyTime(in), {});
  return 0;
}
