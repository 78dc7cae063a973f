#include <string>
#include <vector>

#include "google/protobuf/util/json_util.h"
#include "nlohmann/json.hpp"
#include "services/cli/format.h"
#include "services/cli/printer.h"

namespace forewarn::cli {
namespace {

using nlohmann::json;

json ToJson(const google::protobuf::Message& c);

json ToJson(const v1::Incident& i) {
  json out{{"id", i.id()},
              {"ref", i.ref()},
              {"version", i.version()},
              {"kind", Name(i.kind())},
              {"state", Name(i.state())},
              {"services", std::vector<std::string>(i.services().begin(), i.services().end())},
              {"regions", std::vector<std::string>(i.regions().begin(), i.regions().end())},
              {"reason", {{"ar", i.reason().ar()}, {"en", i.reason().en()}}},
              {"starts_at", FormatTime(i.starts_at())},
              {"expected_restoration_at", FormatTime(i.expected_restoration_at())},
              {"resolved_at", FormatTime(i.resolved_at())},
              {"idempotency_key", i.idempotency_key()},
              {"created_at", FormatTime(i.created_at())},
              {"updated_at", FormatTime(i.updated_at())},
              {"old_iban", i.old_iban()},
              {"new_iban", i.new_iban()},
              {"asset_codes", std::vector<std::string>(i.asset_codes().begin(), i.asset_codes().end())},
              {"audience_id", i.audience_id()}};
  if (i.has_area()) out["area"] = ToJson(static_cast<const google::protobuf::Message&>(i.area()));
  return out;
}

json ToJson(const v1::DeliveryCount& c) {
  return {{"incident_version", c.incident_version()}, {"notice_kind", c.notice_kind()},
          {"occasion", c.occasion()},                 {"channel", Name(c.channel())},
          {"state", Name(c.state())},                 {"count", c.count()}};
}

json ToJson(const v1::DeliveryFailure& f) {
  return {{"customer_id", f.customer_id()},
          {"channel", Name(f.channel())},
          {"incident_version", f.incident_version()},
          {"notice_kind", f.notice_kind()},
          {"error", f.error()}};
}

json ToJson(const v1::UninformedRecipient& r) {
  return {{"customer_id", r.customer_id()},
          {"channel", Name(r.channel())},
          {"state", r.state() == v1::NOTICE_STATE_UNSPECIFIED ? std::string("missing") : Name(r.state())}};
}

json ToJson(const v1::NoticePreview& p) {
  json item{{"customer_id", p.customer_id()}, {"locale", p.locale()}, {"channel", Name(p.channel())},
            {"text", p.text()}};
  if (!p.subject().empty()) item["subject"] = p.subject();
  if (p.channel() == v1::SMS) {
    item["sms_encoding"] = p.sms_encoding();
    item["sms_segments"] = p.sms_segments();
    item["sms_budget"] = p.sms_budget();
    item["over_budget"] = p.over_budget();
  }
  return item;
}

json ToJson(const v1::DeadLetter& d) {
  return {{"incident_id", d.incident_id()}, {"incident_version", d.incident_version()},
          {"notice_kind", d.notice_kind()}, {"occasion", d.occasion()},
          {"customer_id", d.customer_id()}, {"channel", Name(d.channel())},
          {"to", d.masked_address()},       {"attempts", d.attempts()},
          {"last_error", d.last_error()},   {"dead_at", FormatTime(d.dead_at())}};
}

// The API's JSON of a message, e.g. a customer (proto3 JSON, field names as in the proto,
// every field printed).
json ToJson(const google::protobuf::Message& c) {
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  options.always_print_primitive_fields = true;
  std::string text;
  if (!google::protobuf::util::MessageToJsonString(c, &text, options).ok()) return json::object();
  return json::parse(text, nullptr, /*allow_exceptions=*/false);
}

json ToJson(const v1::ImportSummary& s) {
  return {{"inserted", s.inserted()}, {"updated", s.updated()},   {"unchanged", s.unchanged()},
          {"rejected", s.rejected()}, {"deleted", s.deleted()},   {"dry_run", s.dry_run()}};
}

// [ToJson(item) for each item]
template <typename Items>
json Array(const Items& items) {
  json out = json::array();
  for (const auto& item : items) out.push_back(ToJson(item));
  return out;
}

class JsonPrinter final : public Printer {
 public:
  explicit JsonPrinter(std::ostream& out) : out_(out) {}

  void Print(const v1::Incident& i) override { Dump(ToJson(i)); }
  void Print(const v1::ListIncidentsResponse& list) override { Dump(Array(list.incidents())); }

  void Print(const v1::IncidentHistory& history) override {
    json changes = json::array();
    for (const auto& c : history.changes()) {
      changes.push_back({{"version", c.version()},
                         {"change", c.change()},
                         {"actor", c.actor()},
                         {"changed_at", FormatTime(c.changed_at())},
                         {"summary", c.summary()},
                         {"incident", ToJson(c.snapshot())}});
    }
    Dump({{"incident_id", history.incident_id()}, {"changes", changes}});
  }

  void Print(const v1::DeliveryReport& r) override {
    Dump({{"incident_id", r.incident_id()},
          {"incident_version", r.incident_version()},
          {"counts", Array(r.counts())},
          {"failures", Array(r.failures())},
          {"uninformed", r.uninformed()},
          {"uninformed_customers", r.uninformed_customers()},
          {"uninformed_notice_kind", r.uninformed_notice_kind()}});
  }

  void Print(const v1::ReconcileIncidentResponse& r) override {
    Dump({{"incident_id", r.incident_id()}, {"incident_version", r.incident_version()},
          {"notice_kind", r.notice_kind()}, {"occasion", r.occasion()},
          {"audience", r.audience()},       {"uninformed", r.uninformed()},
          {"uninformed_customers", r.uninformed_customers()}, {"missing", r.missing()},
          {"failed", r.failed()},           {"pending", r.pending()},
          {"dead_lettered", r.dead_lettered()}, {"recipients", Array(r.recipients())},
          {"redriven", r.redriven()},       {"note", r.note()}});
  }

  void Print(const v1::PreviewNoticesResponse& resp) override {
    json out{{"notice_kind", resp.notice_kind()},       {"incident_version", resp.incident_version()},
             {"previews", Array(resp.previews())},      {"sms_recipients", resp.sms_recipients()},
             {"email_recipients", resp.email_recipients()}, {"sms_rate", resp.sms_rate()},
             {"email_rate", resp.email_rate()}};
    if (const double eta = EstimatedSeconds(resp); eta >= 0) out["estimated_completion_seconds"] = eta;
    if (resp.has_audience()) out["audience"] = ToJson(resp.audience());
    Dump(out);
  }

  void Print(const v1::AudienceSize& size) override { Dump(ToJson(size)); }

  void Print(const v1::ListDeadLettersResponse& resp) override {
    Dump({{"pending", resp.pending()}, {"dead_letters", Array(resp.dead_letters())}});
  }

  void Print(const v1::ReplayDeadLettersResponse& resp) override { Dump({{"replayed", resp.replayed()}}); }

  void Print(const v1::Customer& c) override { Dump(ToJson(c)); }

  void Print(const v1::DeleteCustomerResponse& r) override {
    Dump({{"id", r.id()}, {"held_notices_removed", r.held_notices_removed()}, {"notices_closed", r.notices_closed()}});
  }

  void Print(const v1::UploadedAudience& a) override {
    Dump({{"audience_id", a.audience_id()},
          {"entries", a.entries()},
          {"customers", a.customers()},
          {"unknown", a.unknown()},
          {"unknown_sample", std::vector<std::string>(a.unknown_sample().begin(), a.unknown_sample().end())}});
  }

  std::unique_ptr<ProofPrinter> Proofs(const std::string& incident_id, absl::Time now) override {
    return MakeJsonProofPrinter(out_, incident_id, now);
  }

  void Print(const ImportReport& r) override {
    const auto& s = r.summary;
    const int64_t rows = s.inserted() + s.updated() + s.unchanged() + s.rejected();
    json out = ToJson(s);
    out["rows"] = rows;
    out["elapsed_seconds"] = r.elapsed_seconds;
    out["rows_per_second"] = r.elapsed_seconds > 0 ? rows / r.elapsed_seconds : 0.0;
    out["report"] = r.report_path;
    out["complete"] = r.complete;
    Dump(out);
  }

  void Print(const v1::UpsertAssetsResponse& r) override {
    Dump({{"inserted", r.inserted()}, {"updated", r.updated()}, {"unchanged", r.unchanged()}});
  }

  void Print(const v1::ListAssetsResponse& list) override {
    json out = json::array();
    for (int i = 0; i < list.assets_size(); ++i) {
      const auto& a = list.assets(i);
      out.push_back({{"code", a.code()},
                     {"kind", a.kind()},
                     {"parent_code", a.parent_code()},
                     {"name", {{"ar", a.name().ar()}, {"en", a.name().en()}}},
                     {"customers", i < list.customers_size() ? list.customers(i) : 0}});
    }
    Dump(out);
  }

 private:
  void Dump(const json& doc) { out_ << doc.dump(2, ' ', false, json::error_handler_t::replace) << "\n"; }

  std::ostream& out_;
};

}  // namespace

std::unique_ptr<Printer> MakeJsonPrinter(std::ostream& out) { return std::make_unique<JsonPrinter>(out); }

}  // namespace forewarn::cli
