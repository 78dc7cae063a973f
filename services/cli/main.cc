// forewarn: the operators' CLI. Talks gRPC to forewarn-intake.
//   forewarn --target 127.0.0.1:PORT incident create --idempotency-key K
//       --service electricity --region riyadh --reason-en "..." --reason-ar "..."
//       --restore-in 3h
#include <grpcpp/grpcpp.h>

#include <fstream>
#include <iostream>
#include <sstream>

#include "CLI/CLI.hpp"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "forewarn/v1/incident.grpc.pb.h"
#include "nlohmann/json.hpp"

namespace {

namespace v1 = forewarn::v1;
using nlohmann::json;

constexpr int kExitUsage = 2;
constexpr int kExitFailed = 1;

struct Options {
  std::string target = "127.0.0.1:50051";
  bool json = false;
  int timeout_seconds = 10;
  std::string token;     // bearer token (FOREWARN_TOKEN)
  std::string tls_ca;    // CA bundle: TLS when given
  std::string tls_cert;  // client certificate and key: mutual TLS
  std::string tls_key;
};

bool ReadFile(const std::string& path, std::string* out) {
  std::ifstream in(path);
  if (!in) return false;
  std::stringstream text;
  text << in.rdbuf();
  *out = text.str();
  return true;
}

std::string FormatTime(const google::protobuf::Timestamp& ts) {
  if (ts.seconds() == 0 && ts.nanos() == 0) return "";
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", absl::FromUnixSeconds(ts.seconds()), absl::UTCTimeZone());
}

std::string Lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

json ToJson(const v1::Incident& i) {
  return json{{"id", i.id()},
              {"version", i.version()},
              {"kind", Lower(v1::IncidentKind_Name(i.kind()))},
              {"state", Lower(v1::IncidentState_Name(i.state()))},
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
              {"new_iban", i.new_iban()}};
}

void PrintIncident(const v1::Incident& i, bool as_json) {
  if (as_json) {
    std::cout << ToJson(i).dump(2, ' ', false, json::error_handler_t::replace) << "\n";
    return;
  }
  std::cout << "Incident " << i.id() << " (version " << i.version() << ", "
            << Lower(v1::IncidentState_Name(i.state())) << ")\n"
            << "  kind:          " << Lower(v1::IncidentKind_Name(i.kind())) << "\n"
            << "  services:      " << absl::StrJoin(i.services(), ", ") << "\n"
            << "  regions:       " << absl::StrJoin(i.regions(), ", ") << "\n"
            << "  reason (en):   " << i.reason().en() << "\n"
            << "  reason (ar):   " << i.reason().ar() << "\n"
            << "  starts:        " << FormatTime(i.starts_at()) << "\n"
            << "  restoration:   " << FormatTime(i.expected_restoration_at()) << "\n";
  if (i.has_resolved_at()) std::cout << "  resolved:      " << FormatTime(i.resolved_at()) << "\n";
  if (!i.old_iban().empty()) {
    std::cout << "  old IBAN:      " << i.old_iban() << "\n"
              << "  new IBAN:      " << i.new_iban() << "\n";
  }
}

// Parses RFC 3339 ("2026-11-23T18:00:00Z", "2026-11-23T21:00:00+03:00").
bool ParseTime(const std::string& text, google::protobuf::Timestamp* out, std::string* error) {
  absl::Time t;
  if (!absl::ParseTime(absl::RFC3339_full, text, &t, error)) return false;
  out->set_seconds(absl::ToUnixSeconds(t));
  return true;
}

int Fail(const grpc::Status& s) {
  std::cerr << "error: " << s.error_message() << " (" << s.error_code() << ")\n";
  return kExitFailed;
}

int UsageError(const std::string& msg) {
  std::cerr << "error: " << msg << "\n";
  return kExitUsage;
}

}  // namespace

int main(int argc, char** argv) {
  Options opt;
  CLI::App app{"forewarn: report and follow outages, planned maintenance and IBAN changes"};
  app.require_subcommand(1);
  app.fallthrough();  // global options (--json, --target) may follow the subcommand
  app.add_option("--target", opt.target, "intake address host:port")->envname("FOREWARN_TARGET");
  app.add_flag("--json", opt.json, "machine-readable output");
  app.add_option("--timeout", opt.timeout_seconds, "RPC deadline in seconds")->check(CLI::Range(1, 600));
  app.add_option("--token", opt.token, "bearer token for the intake")->envname("FOREWARN_TOKEN");
  app.add_option("--tls-ca", opt.tls_ca, "CA bundle (PEM) to verify the intake: use TLS")->envname("FOREWARN_TLS_CA");
  app.add_option("--tls-cert", opt.tls_cert, "client certificate (PEM) for mutual TLS")
      ->envname("FOREWARN_TLS_CLIENT_CERT");
  app.add_option("--tls-key", opt.tls_key, "client private key (PEM) for mutual TLS")
      ->envname("FOREWARN_TLS_CLIENT_KEY");

  auto* incident = app.add_subcommand("incident", "create, update, resolve and inspect incidents");
  incident->require_subcommand(1);

  // create
  auto* create = incident->add_subcommand("create", "report an unplanned outage");
  std::string key, reason_en, reason_ar, start, restore_at, restore_in;
  std::vector<std::string> services, regions;
  create->add_option("--idempotency-key", key, "unique key; a retry with the same key is safe")->required();
  create->add_option("--service", services, "affected service code (repeatable)")->required();
  create->add_option("--region", regions, "affected region code (repeatable)")->required();
  create->add_option("--reason-en", reason_en, "reason, English")->required();
  create->add_option("--reason-ar", reason_ar, "reason, Arabic")->required();
  create->add_option("--start", start, "start time, RFC 3339 (default: now)");
  auto* at = create->add_option("--restore-at", restore_at, "expected restoration, RFC 3339");
  auto* in = create->add_option("--restore-in", restore_in, "expected restoration from now, e.g. 90m, 3h");
  at->excludes(in);

  // update
  auto* update = incident->add_subcommand("update", "change the reason or expected restoration time");
  std::string id;
  int64_t expected_version = 0;
  update->add_option("id", id, "incident id")->required();
  update->add_option("--reason-en", reason_en, "new reason, English");
  update->add_option("--reason-ar", reason_ar, "new reason, Arabic");
  auto* uat = update->add_option("--restore-at", restore_at, "new expected restoration, RFC 3339");
  auto* uin = update->add_option("--restore-in", restore_in, "new expected restoration from now, e.g. 2h");
  uat->excludes(uin);
  update->add_option("--expected-version", expected_version, "fail if the incident changed meanwhile");

  auto* resolve = incident->add_subcommand("resolve", "mark service restored");
  resolve->add_option("id", id, "incident id")->required();
  resolve->add_option("--expected-version", expected_version, "fail if the incident changed meanwhile");

  auto* show = incident->add_subcommand("show", "show one incident");
  show->add_option("id", id, "incident id")->required();

  auto* list = incident->add_subcommand("list", "list incidents, newest first");
  std::string state_filter;
  int page_size = 50;
  list->add_option("--state", state_filter, "open, resolved or cancelled")
      ->check(CLI::IsMember({"open", "resolved", "cancelled"}));
  list->add_option("--limit", page_size, "at most this many")->check(CLI::Range(1, 500));

  auto* report = incident->add_subcommand("report", "delivery report: notices per channel and state, failures");
  report->add_option("id", id, "incident id")->required();

  auto* cancel = incident->add_subcommand("cancel", "call off a planned maintenance or IBAN change");
  cancel->add_option("id", id, "incident id")->required();
  cancel->add_option("--expected-version", expected_version, "fail if the incident changed meanwhile");

  auto* history = incident->add_subcommand("history", "audit trail: every version, who changed what and when");
  history->add_option("id", id, "incident id")->required();

  auto* reconcile = incident->add_subcommand(
      "reconcile", "completeness check: find affected customers never told, and re-send to them (operator)");
  reconcile->add_option("id", id, "incident id")->required();
  bool dry_run = false;
  int max_listed = 100;
  reconcile->add_flag("--dry-run", dry_run, "report only; do not re-send");
  reconcile->add_option("--max-listed", max_listed, "list at most this many uninformed recipients")
      ->check(CLI::Range(1, 10000));

  // The dead-letter queue.
  auto* dlq = app.add_subcommand("dlq", "notices that ran out of delivery attempts");
  dlq->require_subcommand(1);
  std::string dlq_incident;
  int dlq_limit = 100;
  auto* dlq_list = dlq->add_subcommand("list", "list dead-lettered notices waiting for a replay, oldest first");
  dlq_list->add_option("--incident", dlq_incident, "only this incident's");
  dlq_list->add_option("--limit", dlq_limit, "list at most this many")->check(CLI::Range(1, 10000));
  auto* dlq_replay =
      dlq->add_subcommand("replay", "send dead-lettered notices again with fresh attempts (operator)");
  dlq_replay->add_option("--incident", dlq_incident, "only this incident's");

  // Notice previews.
  auto* notice = app.add_subcommand("notice", "preview what customers would receive");
  notice->require_subcommand(1);
  int64_t customer_id = 0;
  std::string kind;
  auto* preview = notice->add_subcommand("preview", "render an incident's notice, with SMS cost and audience size");
  preview->add_option("id", id, "incident id")->required();
  preview->add_option("--customer", customer_id, "a customer id (default: a sample per language and channel)");
  preview->add_option("--kind", kind, "notice kind, e.g. outage_updated (default: the incident's latest)");

  // Planned maintenance.
  auto* maintenance = app.add_subcommand("maintenance", "schedule and reschedule planned maintenance");
  maintenance->require_subcommand(1);
  std::string end;
  auto* schedule = maintenance->add_subcommand("schedule", "announce planned maintenance");
  schedule->add_option("--idempotency-key", key, "unique key; a retry with the same key is safe")->required();
  schedule->add_option("--service", services, "affected service code (repeatable)")->required();
  schedule->add_option("--region", regions, "affected region code (repeatable)")->required();
  schedule->add_option("--reason-en", reason_en, "reason, English")->required();
  schedule->add_option("--reason-ar", reason_ar, "reason, Arabic")->required();
  schedule->add_option("--start", start, "planned start, RFC 3339")->required();
  schedule->add_option("--end", end, "planned end, RFC 3339")->required();
  auto* reschedule = maintenance->add_subcommand("reschedule", "move a planned maintenance");
  reschedule->add_option("id", id, "incident id")->required();
  reschedule->add_option("--start", start, "new planned start, RFC 3339");
  reschedule->add_option("--end", end, "new planned end, RFC 3339");
  reschedule->add_option("--expected-version", expected_version, "fail if the incident changed meanwhile");

  // IBAN changes.
  auto* iban = app.add_subcommand("iban", "announce IBAN changes to holders and beneficiaries");
  iban->require_subcommand(1);
  std::string old_iban, new_iban, effective;
  auto* announce = iban->add_subcommand("announce", "announce that an account's IBAN changes");
  announce->add_option("--idempotency-key", key, "unique key; a retry with the same key is safe")->required();
  announce->add_option("--old", old_iban, "current IBAN")->required();
  announce->add_option("--new", new_iban, "new IBAN")->required();
  announce->add_option("--effective", effective, "effective date-time, RFC 3339")->required();
  announce->add_option("--reason-en", reason_en, "reason, English")->required();
  announce->add_option("--reason-ar", reason_ar, "reason, Arabic")->required();

  CLI11_PARSE(app, argc, argv);

  std::shared_ptr<grpc::ChannelCredentials> credentials = grpc::InsecureChannelCredentials();
  if (!opt.tls_ca.empty() || !opt.tls_cert.empty() || !opt.tls_key.empty()) {
    grpc::SslCredentialsOptions ssl;
    if (!opt.tls_ca.empty() && !ReadFile(opt.tls_ca, &ssl.pem_root_certs)) {
      return UsageError("--tls-ca: cannot read " + opt.tls_ca);
    }
    if (opt.tls_cert.empty() != opt.tls_key.empty()) return UsageError("give both --tls-cert and --tls-key");
    if (!opt.tls_cert.empty()) {
      if (!ReadFile(opt.tls_cert, &ssl.pem_cert_chain)) return UsageError("--tls-cert: cannot read " + opt.tls_cert);
      if (!ReadFile(opt.tls_key, &ssl.pem_private_key)) return UsageError("--tls-key: cannot read " + opt.tls_key);
    }
    credentials = grpc::SslCredentials(ssl);
  }
  auto channel = grpc::CreateChannel(opt.target, credentials);
  auto stub = v1::IncidentService::NewStub(channel);
  auto ctx = [&] {
    auto c = std::make_unique<grpc::ClientContext>();
    c->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(opt.timeout_seconds));
    if (!opt.token.empty()) c->AddMetadata("authorization", "Bearer " + opt.token);
    return c;
  };
  auto restoration = [&](google::protobuf::Timestamp* out) -> std::string {
    std::string err;
    if (!restore_at.empty()) {
      if (!ParseTime(restore_at, out, &err)) return "--restore-at: " + err;
    } else if (!restore_in.empty()) {
      absl::Duration d;
      if (!absl::ParseDuration(restore_in, &d) || d <= absl::ZeroDuration()) {
        return "--restore-in: expected a positive duration like 90m or 3h";
      }
      out->set_seconds(absl::ToUnixSeconds(absl::Now() + d));
    }
    return "";
  };

  if (create->parsed()) {
    v1::CreateIncidentRequest req;
    req.set_idempotency_key(key);
    req.set_kind(v1::UNPLANNED_OUTAGE);
    for (const auto& s : services) req.add_services(s);
    for (const auto& r : regions) req.add_regions(r);
    req.mutable_reason()->set_en(reason_en);
    req.mutable_reason()->set_ar(reason_ar);
    std::string err;
    if (!start.empty() && !ParseTime(start, req.mutable_starts_at(), &err)) return UsageError("--start: " + err);
    if (restore_at.empty() && restore_in.empty()) return UsageError("one of --restore-at or --restore-in is required");
    if (auto e = restoration(req.mutable_expected_restoration_at()); !e.empty()) return UsageError(e);
    v1::Incident resp;
    auto s = stub->CreateIncident(ctx().get(), req, &resp);
    if (!s.ok()) return Fail(s);
    PrintIncident(resp, opt.json);
  } else if (update->parsed()) {
    v1::UpdateIncidentRequest req;
    req.set_id(id);
    req.set_expected_version(expected_version);
    if (!reason_en.empty() || !reason_ar.empty()) {
      if (reason_en.empty() || reason_ar.empty()) return UsageError("give both --reason-en and --reason-ar");
      req.mutable_reason()->set_en(reason_en);
      req.mutable_reason()->set_ar(reason_ar);
    }
    if (!restore_at.empty() || !restore_in.empty()) {
      if (auto e = restoration(req.mutable_expected_restoration_at()); !e.empty()) return UsageError(e);
    }
    if (!req.has_reason() && !req.has_expected_restoration_at()) {
      return UsageError("nothing to update: give --reason-en/--reason-ar and/or --restore-at/--restore-in");
    }
    v1::Incident resp;
    auto s = stub->UpdateIncident(ctx().get(), req, &resp);
    if (!s.ok()) return Fail(s);
    PrintIncident(resp, opt.json);
  } else if (resolve->parsed()) {
    v1::ResolveIncidentRequest req;
    req.set_id(id);
    req.set_expected_version(expected_version);
    v1::Incident resp;
    auto s = stub->ResolveIncident(ctx().get(), req, &resp);
    if (!s.ok()) return Fail(s);
    PrintIncident(resp, opt.json);
  } else if (preview->parsed()) {
    v1::PreviewNoticesRequest req;
    req.set_incident_id(id);
    req.set_customer_id(customer_id);
    req.set_notice_kind(kind);
    v1::PreviewNoticesResponse resp;
    auto s = stub->PreviewNotices(ctx().get(), req, &resp);
    if (!s.ok()) return Fail(s);
    bool over = false;
    for (const auto& p : resp.previews()) over = over || p.over_budget();
    const double eta = resp.has_estimated_completion()
                           ? resp.estimated_completion().seconds() + resp.estimated_completion().nanos() / 1e9
                           : -1;
    if (opt.json) {
      json previews = json::array();
      for (const auto& p : resp.previews()) {
        json item{{"customer_id", p.customer_id()}, {"locale", p.locale()},
                  {"channel", Lower(v1::Channel_Name(p.channel()))}, {"text", p.text()}};
        if (!p.subject().empty()) item["subject"] = p.subject();
        if (p.channel() == v1::SMS) {
          item["sms_encoding"] = p.sms_encoding();
          item["sms_segments"] = p.sms_segments();
          item["sms_budget"] = p.sms_budget();
          item["over_budget"] = p.over_budget();
        }
        previews.push_back(item);
      }
      json out{{"notice_kind", resp.notice_kind()}, {"incident_version", resp.incident_version()},
               {"previews", previews}, {"sms_recipients", resp.sms_recipients()},
               {"email_recipients", resp.email_recipients()}, {"sms_rate", resp.sms_rate()},
               {"email_rate", resp.email_rate()}};
      if (eta >= 0) out["estimated_completion_seconds"] = eta;
      std::cout << out.dump(2, ' ', false, json::error_handler_t::replace) << "\n";
    } else {
      std::cout << "Notice " << resp.notice_kind() << " of version " << resp.incident_version() << "\n";
      for (const auto& p : resp.previews()) {
        std::cout << "\n-- customer " << p.customer_id() << ", " << p.locale() << ", "
                  << Lower(v1::Channel_Name(p.channel()));
        if (p.channel() == v1::SMS) {
          std::cout << " (" << p.sms_encoding() << ", " << p.sms_segments() << " segment"
                    << (p.sms_segments() == 1 ? "" : "s") << ", budget " << p.sms_budget() << ")";
        }
        std::cout << "\n";
        if (!p.subject().empty()) std::cout << "Subject: " << p.subject() << "\n";
        std::cout << p.text() << "\n";
        if (p.over_budget()) {
          std::cerr << "warning: the SMS to customer " << p.customer_id() << " (" << p.locale() << ") is "
                    << p.sms_segments() << " segments, over the budget of " << p.sms_budget() << "\n";
        }
      }
      std::cout << "\nAudience: " << resp.sms_recipients() << " SMS, " << resp.email_recipients() << " email\n";
      if (eta >= 0) {
        std::cout << absl::StrFormat("Estimated completion at %g SMS/s and %g email/s: %.0f s\n", resp.sms_rate(),
                                     resp.email_rate(), eta);
      } else {
        std::cout << "Estimated completion: no provider rate limits configured\n";
      }
    }
    if (over) std::cerr << "warning: some SMS exceed their segment budget (see above)\n";
  } else if (cancel->parsed()) {
    v1::CancelIncidentRequest req;
    req.set_id(id);
    req.set_expected_version(expected_version);
    v1::Incident resp;
    auto s = stub->CancelIncident(ctx().get(), req, &resp);
    if (!s.ok()) return Fail(s);
    PrintIncident(resp, opt.json);
  } else if (schedule->parsed()) {
    v1::ScheduleMaintenanceRequest req;
    req.set_idempotency_key(key);
    for (const auto& s : services) req.add_services(s);
    for (const auto& r : regions) req.add_regions(r);
    req.mutable_reason()->set_en(reason_en);
    req.mutable_reason()->set_ar(reason_ar);
    std::string err;
    if (!ParseTime(start, req.mutable_starts_at(), &err)) return UsageError("--start: " + err);
    if (!ParseTime(end, req.mutable_ends_at(), &err)) return UsageError("--end: " + err);
    v1::Incident resp;
    auto s = stub->ScheduleMaintenance(ctx().get(), req, &resp);
    if (!s.ok()) return Fail(s);
    PrintIncident(resp, opt.json);
  } else if (reschedule->parsed()) {
    v1::UpdateIncidentRequest req;
    req.set_id(id);
    req.set_expected_version(expected_version);
    std::string err;
    if (start.empty() && end.empty()) return UsageError("give --start and/or --end");
    if (!start.empty() && !ParseTime(start, req.mutable_starts_at(), &err)) return UsageError("--start: " + err);
    if (!end.empty() && !ParseTime(end, req.mutable_expected_restoration_at(), &err)) {
      return UsageError("--end: " + err);
    }
    v1::Incident resp;
    auto s = stub->UpdateIncident(ctx().get(), req, &resp);
    if (!s.ok()) return Fail(s);
    PrintIncident(resp, opt.json);
  } else if (announce->parsed()) {
    v1::AnnounceIbanChangeRequest req;
    req.set_idempotency_key(key);
    req.set_old_iban(old_iban);
    req.set_new_iban(new_iban);
    req.mutable_reason()->set_en(reason_en);
    req.mutable_reason()->set_ar(reason_ar);
    std::string err;
    if (!ParseTime(effective, req.mutable_effective_at(), &err)) return UsageError("--effective: " + err);
    v1::Incident resp;
    auto s = stub->AnnounceIbanChange(ctx().get(), req, &resp);
    if (!s.ok()) return Fail(s);
    PrintIncident(resp, opt.json);
  } else if (show->parsed()) {
    v1::GetIncidentRequest req;
    req.set_id(id);
    v1::Incident resp;
    auto s = stub->GetIncident(ctx().get(), req, &resp);
    if (!s.ok()) return Fail(s);
    PrintIncident(resp, opt.json);
  } else if (list->parsed()) {
    v1::ListIncidentsRequest req;
    if (state_filter == "open") req.set_state(v1::OPEN);
    if (state_filter == "resolved") req.set_state(v1::RESOLVED);
    if (state_filter == "cancelled") req.set_state(v1::CANCELLED);
    req.set_page_size(page_size);
    v1::ListIncidentsResponse resp;
    auto s = stub->ListIncidents(ctx().get(), req, &resp);
    if (!s.ok()) return Fail(s);
    if (opt.json) {
      json out = json::array();
      for (const auto& i : resp.incidents()) out.push_back(ToJson(i));
      std::cout << out.dump(2, ' ', false, json::error_handler_t::replace) << "\n";
    } else {
      std::cout << absl::StrFormat("%-36s  %3s  %-8s  %-20s  %-20s  %s\n", "ID", "VER", "STATE", "STARTS",
                                   "RESTORATION", "SERVICES/REGIONS");
      for (const auto& i : resp.incidents()) {
        std::cout << absl::StrFormat("%-36s  %3d  %-8s  %-20s  %-20s  %s / %s\n", i.id(), i.version(),
                                     Lower(v1::IncidentState_Name(i.state())), FormatTime(i.starts_at()),
                                     FormatTime(i.expected_restoration_at()), absl::StrJoin(i.services(), ","),
                                     absl::StrJoin(i.regions(), ","));
      }
    }
  } else if (history->parsed()) {
    v1::GetIncidentHistoryRequest req;
    req.set_id(id);
    v1::IncidentHistory resp;
    auto s = stub->GetIncidentHistory(ctx().get(), req, &resp);
    if (!s.ok()) return Fail(s);
    if (opt.json) {
      json changes = json::array();
      for (const auto& c : resp.changes()) {
        changes.push_back({{"version", c.version()},
                           {"change", c.change()},
                           {"actor", c.actor()},
                           {"changed_at", FormatTime(c.changed_at())},
                           {"summary", c.summary()},
                           {"incident", ToJson(c.snapshot())}});
      }
      json out{{"incident_id", resp.incident_id()}, {"changes", changes}};
      std::cout << out.dump(2, ' ', false, json::error_handler_t::replace) << "\n";
    } else {
      std::cout << "History of incident " << resp.incident_id() << "\n";
      std::cout << absl::StrFormat("  %3s  %-20s  %-9s  %-20s  %s\n", "VER", "WHEN", "CHANGE", "ACTOR", "WHAT");
      for (const auto& c : resp.changes()) {
        std::cout << absl::StrFormat("  %3d  %-20s  %-9s  %-20s  %s\n", c.version(), FormatTime(c.changed_at()),
                                     c.change(), c.actor(), c.summary());
      }
    }
  } else if (dlq_list->parsed()) {
    v1::ListDeadLettersRequest req;
    req.set_incident_id(dlq_incident);
    req.set_limit(dlq_limit);
    v1::ListDeadLettersResponse resp;
    auto s = stub->ListDeadLetters(ctx().get(), req, &resp);
    if (!s.ok()) return Fail(s);
    if (opt.json) {
      json items = json::array();
      for (const auto& d : resp.dead_letters()) {
        items.push_back({{"incident_id", d.incident_id()}, {"incident_version", d.incident_version()},
                         {"notice_kind", d.notice_kind()}, {"occasion", d.occasion()},
                         {"customer_id", d.customer_id()}, {"channel", Lower(v1::Channel_Name(d.channel()))},
                         {"to", d.masked_address()}, {"attempts", d.attempts()}, {"last_error", d.last_error()},
                         {"dead_at", FormatTime(d.dead_at())}});
      }
      json out{{"pending", resp.pending()}, {"dead_letters", items}};
      std::cout << out.dump(2, ' ', false, json::error_handler_t::replace) << "\n";
    } else {
      std::cout << resp.pending() << " dead-lettered notice" << (resp.pending() == 1 ? "" : "s")
                << " waiting for a replay\n";
      if (resp.dead_letters_size() > 0) {
        std::cout << absl::StrFormat("  %-20s  %-36s  %3s  %-22s  %10s  %-5s  %-16s  %3s  %s\n", "DEAD AT", "INCIDENT",
                                     "VER", "KIND", "CUSTOMER", "CHAN", "TO", "ATT", "LAST ERROR");
      }
      for (const auto& d : resp.dead_letters()) {
        std::cout << absl::StrFormat("  %-20s  %-36s  %3d  %-22s  %10d  %-5s  %-16s  %3d  %s\n",
                                     FormatTime(d.dead_at()), d.incident_id(), d.incident_version(),
                                     d.notice_kind() + (d.occasion().empty() ? "" : "/" + d.occasion()),
                                     d.customer_id(), Lower(v1::Channel_Name(d.channel())), d.masked_address(),
                                     d.attempts(), d.last_error());
      }
      if (resp.dead_letters_size() < resp.pending()) {
        std::cout << "  ... and " << resp.pending() - resp.dead_letters_size() << " more\n";
      }
    }
  } else if (dlq_replay->parsed()) {
    v1::ReplayDeadLettersRequest req;
    req.set_incident_id(dlq_incident);
    v1::ReplayDeadLettersResponse resp;
    auto s = stub->ReplayDeadLetters(ctx().get(), req, &resp);
    if (!s.ok()) return Fail(s);
    if (opt.json) {
      std::cout << json{{"replayed", resp.replayed()}}.dump(2) << "\n";
    } else {
      std::cout << "Replayed " << resp.replayed() << " dead-lettered notice" << (resp.replayed() == 1 ? "" : "s")
                << " with fresh delivery attempts.\n";
    }
  } else if (reconcile->parsed()) {
    v1::ReconcileIncidentRequest req;
    req.set_id(id);
    req.set_dry_run(dry_run);
    req.set_max_listed(max_listed);
    v1::ReconcileIncidentResponse resp;
    auto s = stub->ReconcileIncident(ctx().get(), req, &resp);
    if (!s.ok()) return Fail(s);
    if (opt.json) {
      json recipients = json::array();
      for (const auto& r : resp.recipients()) {
        recipients.push_back({{"customer_id", r.customer_id()},
                              {"channel", Lower(v1::Channel_Name(r.channel()))},
                              {"state", r.state() == v1::NOTICE_STATE_UNSPECIFIED
                                            ? std::string("missing")
                                            : Lower(v1::NoticeState_Name(r.state()))}});
      }
      json out{{"incident_id", resp.incident_id()}, {"incident_version", resp.incident_version()},
               {"notice_kind", resp.notice_kind()}, {"occasion", resp.occasion()},
               {"audience", resp.audience()}, {"uninformed", resp.uninformed()},
               {"uninformed_customers", resp.uninformed_customers()}, {"missing", resp.missing()},
               {"failed", resp.failed()}, {"pending", resp.pending()}, {"dead_lettered", resp.dead_lettered()},
               {"recipients", recipients}, {"redriven", resp.redriven()}, {"note", resp.note()}};
      std::cout << out.dump(2, ' ', false, json::error_handler_t::replace) << "\n";
    } else {
      std::cout << "Completeness of incident " << resp.incident_id() << " version " << resp.incident_version();
      if (!resp.notice_kind().empty()) {
        std::cout << " (" << resp.notice_kind() << (resp.occasion().empty() ? "" : ", " + resp.occasion()) << ")";
      }
      std::cout << "\n  audience:    " << resp.audience() << " notices (customer x channel)\n"
                << "  uninformed:  " << resp.uninformed() << " notices to " << resp.uninformed_customers()
                << " customers (" << resp.missing() << " missing, " << resp.failed() << " failed, "
                << resp.dead_lettered() << " dead-lettered, " << resp.pending() << " pending)\n";
      for (const auto& r : resp.recipients()) {
        std::cout << "    customer " << r.customer_id() << " " << Lower(v1::Channel_Name(r.channel())) << ": "
                  << (r.state() == v1::NOTICE_STATE_UNSPECIFIED ? std::string("missing")
                                                                : Lower(v1::NoticeState_Name(r.state())))
                  << "\n";
      }
      if (resp.recipients_size() < resp.uninformed()) {
        std::cout << "    ... and " << resp.uninformed() - resp.recipients_size() << " more\n";
      }
      if (resp.redriven()) {
        std::cout << "Re-driven: the fan-out of version " << resp.incident_version()
                  << " was queued again; only those not yet told will get a notice.\n";
      } else if (!resp.note().empty()) {
        std::cout << "Not re-driven: " << resp.note() << "\n";
      }
    }
  } else if (report->parsed()) {
    v1::GetDeliveryReportRequest req;
    req.set_incident_id(id);
    v1::DeliveryReport resp;
    auto s = stub->GetDeliveryReport(ctx().get(), req, &resp);
    if (!s.ok()) return Fail(s);
    if (opt.json) {
      json counts = json::array(), failures = json::array();
      for (const auto& c : resp.counts()) {
        counts.push_back({{"incident_version", c.incident_version()},
                          {"notice_kind", c.notice_kind()},
                          {"occasion", c.occasion()},
                          {"channel", Lower(v1::Channel_Name(c.channel()))},
                          {"state", Lower(v1::NoticeState_Name(c.state()))},
                          {"count", c.count()}});
      }
      for (const auto& f : resp.failures()) {
        failures.push_back({{"customer_id", f.customer_id()},
                            {"channel", Lower(v1::Channel_Name(f.channel()))},
                            {"incident_version", f.incident_version()},
                            {"notice_kind", f.notice_kind()},
                            {"error", f.error()}});
      }
      json out{{"incident_id", resp.incident_id()},
               {"incident_version", resp.incident_version()},
               {"counts", counts},
               {"failures", failures},
               {"uninformed", resp.uninformed()},
               {"uninformed_customers", resp.uninformed_customers()},
               {"uninformed_notice_kind", resp.uninformed_notice_kind()}};
      std::cout << out.dump(2, ' ', false, json::error_handler_t::replace) << "\n";
    } else {
      std::cout << "Delivery report for incident " << resp.incident_id() << " (now at version "
                << resp.incident_version() << ")\n";
      std::cout << absl::StrFormat("  %-7s  %-34s  %-7s  %-10s  %8s\n", "VERSION", "NOTICE", "CHANNEL", "STATE",
                                   "COUNT");
      for (const auto& c : resp.counts()) {
        const std::string notice =
            c.occasion().empty() ? c.notice_kind() : absl::StrCat(c.notice_kind(), " (", c.occasion(), ")");
        std::cout << absl::StrFormat("  %-7d  %-34s  %-7s  %-10s  %8d\n", c.incident_version(), notice,
                                     Lower(v1::Channel_Name(c.channel())), Lower(v1::NoticeState_Name(c.state())),
                                     c.count());
      }
      if (resp.counts().empty()) std::cout << "  (no notices recorded yet)\n";
      if (!resp.uninformed_notice_kind().empty()) {
        std::cout << "Not yet told of version " << resp.incident_version() << " (" << resp.uninformed_notice_kind()
                  << "): " << resp.uninformed() << " notice" << (resp.uninformed() == 1 ? "" : "s") << " to "
                  << resp.uninformed_customers() << " customer" << (resp.uninformed_customers() == 1 ? "" : "s")
                  << (resp.uninformed() > 0 ? " (see: forewarn incident reconcile ID)" : "") << "\n";
      }
      if (!resp.failures().empty()) {
        std::cout << "Failures:\n";
        for (const auto& f : resp.failures()) {
          std::cout << "  customer " << f.customer_id() << " " << Lower(v1::Channel_Name(f.channel())) << " v"
                    << f.incident_version() << " " << f.notice_kind() << ": " << f.error() << "\n";
        }
      }
    }
  }
  return 0;
}
