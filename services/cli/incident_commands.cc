// forewarn incident create | update | resolve | show | list | report | cancel | history | reconcile | proof
#include <iostream>
#include <optional>

#include "services/cli/command.h"
#include "services/cli/format.h"
#include "services/convert/proto_convert.h"

namespace forewarn::cli {
namespace {

using Stub = Session::Stub;

class CreateIncident final : public Command {
 public:
  explicit CreateIncident(CLI::App& group) : Command(group.add_subcommand("create", "report an unplanned outage")) {
    incident_.Add(app_);
    app_->add_option("--start", start_, "start time, RFC 3339 (default: now)");
    restoration_.Add(app_, "expected restoration, RFC 3339", "expected restoration from now, e.g. 90m, 3h");
  }

  int Run(Session& session) override {
    if (incident_.dry_run) return incident_.DryRun(session, v1::UNPLANNED_OUTAGE);
    v1::CreateIncidentRequest req;
    if (auto e = incident_.Set(&req); !e.empty()) return session.UsageError(e);
    req.set_kind(v1::UNPLANNED_OUTAGE);
    std::string err;
    if (!start_.empty() && !ParseTime(start_, req.mutable_starts_at(), &err)) {
      return session.UsageError("--start: " + err);
    }
    if (!restoration_.given()) return session.UsageError("one of --restore-at or --restore-in is required");
    if (auto e = restoration_.Set(req.mutable_expected_restoration_at()); !e.empty()) return session.UsageError(e);
    return session.Call(&Stub::CreateIncident, req);
  }

 private:
  NewIncidentFlags incident_;
  std::string start_;
  RestorationFlags restoration_;
};

class UpdateIncident final : public Command {
 public:
  explicit UpdateIncident(CLI::App& group)
      : Command(group.add_subcommand(
            "update", "change the reason, expected restoration time or targets (--region, --asset, --audience, "
                      "--area-file, --circle given: they replace every selector)")) {
    AddIncidentId(app_, id_);
    reason_.Add(app_, "new reason, English", "new reason, Arabic", /*required=*/false);
    restoration_.Add(app_, "new expected restoration, RFC 3339", "new expected restoration from now, e.g. 2h");
    targets_.Add(app_);
    AddExpectedVersion(app_, expected_version_);
  }

  int Run(Session& session) override {
    v1::UpdateIncidentRequest req;
    req.set_id(id_);
    req.set_expected_version(expected_version_);
    if (!reason_.en.empty() || !reason_.ar.empty()) {
      if (reason_.en.empty() || reason_.ar.empty()) return session.UsageError("give both --reason-en and --reason-ar");
      reason_.Set(req.mutable_reason());
    }
    if (restoration_.given()) {
      if (auto e = restoration_.Set(req.mutable_expected_restoration_at()); !e.empty()) return session.UsageError(e);
    }
    if (targets_.given()) {
      if (auto e = targets_.Set(req.mutable_targets()); !e.empty()) return session.UsageError(e);
    }
    if (!req.has_reason() && !req.has_expected_restoration_at() && !req.has_targets()) {
      return session.UsageError(
          "nothing to update: give --reason-en/--reason-ar, --restore-at/--restore-in and/or new targets");
    }
    return session.Call(&Stub::UpdateIncident, req);
  }

 private:
  std::string id_;
  int64_t expected_version_ = 0;
  ReasonFlags reason_;
  RestorationFlags restoration_;
  TargetFlags targets_;
};

// resolve and cancel: an id and --expected-version.
template <typename Request>
class VersionedChange final : public Command {
 public:
  using Rpc = grpc::Status (Stub::*)(grpc::ClientContext*, const Request&, v1::Incident*);
  VersionedChange(CLI::App& group, const char* name, const char* help, Rpc rpc)
      : Command(group.add_subcommand(name, help)), rpc_(rpc) {
    AddIncidentId(app_, id_);
    AddExpectedVersion(app_, expected_version_);
  }

  int Run(Session& session) override {
    Request req;
    req.set_id(id_);
    req.set_expected_version(expected_version_);
    return session.Call(rpc_, req);
  }

 private:
  Rpc rpc_;
  std::string id_;
  int64_t expected_version_ = 0;
};

// show, report and history: an incident id.
template <typename Request, typename Response>
class ShowById final : public Command {
 public:
  using Rpc = grpc::Status (Stub::*)(grpc::ClientContext*, const Request&, Response*);
  using SetId = void (*)(Request&, const std::string&);
  ShowById(CLI::App& group, const char* name, const char* help, Rpc rpc, SetId set_id)
      : Command(group.add_subcommand(name, help)), rpc_(rpc), set_id_(set_id) {
    AddIncidentId(app_, id_);
  }

  int Run(Session& session) override {
    Request req;
    set_id_(req, id_);
    return session.Call(rpc_, req);
  }

 private:
  Rpc rpc_;
  SetId set_id_;
  std::string id_;
};

class ListIncidents final : public Command {
 public:
  explicit ListIncidents(CLI::App& group) : Command(group.add_subcommand("list", "list incidents, newest first")) {
    app_->add_option("--state", state_, "open, resolved or cancelled")
        ->check(CLI::IsMember({"open", "resolved", "cancelled"}));
    app_->add_option("--limit", page_size_, "at most this many")->check(CLI::Range(1, 500));
  }

  int Run(Session& session) override {
    v1::ListIncidentsRequest req;
    if (!state_.empty()) {
      auto state = ParseIncidentState(state_);
      if (!state.ok()) return session.UsageError("--state: " + std::string(state.status().message()));
      req.set_state(ToProto(*state));
    }
    req.set_page_size(page_size_);
    return session.Call(&Stub::ListIncidents, req);
  }

 private:
  std::string state_;
  int page_size_ = 50;
};

class ReconcileIncident final : public Command {
 public:
  explicit ReconcileIncident(CLI::App& group)
      : Command(group.add_subcommand(
            "reconcile", "completeness check: find affected customers never told, and re-send to them (operator)")) {
    AddIncidentId(app_, id_);
    app_->add_flag("--dry-run", dry_run_, "report only; do not re-send");
    app_->add_option("--max-listed", max_listed_, "list at most this many uninformed recipients")
        ->check(CLI::Range(1, 10000));
  }

  int Run(Session& session) override {
    v1::ReconcileIncidentRequest req;
    req.set_id(id_);
    req.set_dry_run(dry_run_);
    req.set_max_listed(max_listed_);
    return session.Call(&Stub::ReconcileIncident, req);
  }

 private:
  std::string id_;
  bool dry_run_ = false;
  int max_listed_ = 100;
};

// Proof of notice: streamed (ProveNotice), printed as it comes.
class ProveNotice final : public Command {
 public:
  explicit ProveNotice(CLI::App& group)
      : Command(group.add_subcommand("proof",
                                     "proof of notice: per customer and channel of the notices with a deadline, "
                                     "sent at, delivered at, and whether the deadline was met")) {
    AddIncidentId(app_, id_);
    app_->add_option("--kind", kind_, "only this notice kind, e.g. maintenance_reminder");
    app_->add_option("--occasion", occasion_, "only this occasion, e.g. lead-48h");
    app_->add_flag("--missed-only", missed_only_,
                   "list only the notices whose deadline passed undelivered (the summary still counts all)");
    app_->add_flag("--csv", csv_, "CSV with a header row; the summary line goes to standard error");
  }

  int Run(Session& session) override {
    if (csv_ && session.options().json) return session.UsageError("--csv and --json: give one of them");
    v1::ProveNoticeRequest req;
    req.set_incident_id(id_);
    req.set_notice_kind(kind_);
    req.set_occasion(occasion_);
    req.set_missed_only(missed_only_);
    // No deadline: an incident of a million customers streams for longer
    // than --timeout.
    auto context = session.NewContext(/*deadline=*/false);
    auto reader = session.stub().ProveNotice(context.get(), req);
    const absl::Time now = absl::Now();
    auto printer = csv_ ? MakeCsvProofPrinter(std::cout, session.err(), now) : session.printer().Proofs(id_, now);
    v1::ProveNoticeChunk chunk;
    std::optional<v1::ProofSummary> summary;
    while (reader->Read(&chunk)) {
      for (const auto& proof : chunk.proofs()) printer->Add(proof);
      if (chunk.last()) summary = chunk.summary();
    }
    const grpc::Status status = reader->Finish();
    if (!status.ok() || !summary) {
      printer->End(nullptr);
      if (!status.ok()) return session.Fail(status);
      session.err() << "error: the proof ended without its summary (incomplete)\n";
      return kExitFailed;
    }
    printer->End(&*summary);
    return 0;
  }

 private:
  std::string id_, kind_, occasion_;
  bool missed_only_ = false;
  bool csv_ = false;
};

}  // namespace

void AddIncidentCommands(CLI::App& app, Commands& commands) {
  auto& group = AddGroup(app, "incident", "create, update, resolve and inspect incidents");
  commands.push_back(std::make_unique<CreateIncident>(group));
  commands.push_back(std::make_unique<UpdateIncident>(group));
  commands.push_back(std::make_unique<VersionedChange<v1::ResolveIncidentRequest>>(
      group, "resolve", "mark service restored", &Stub::ResolveIncident));
  commands.push_back(std::make_unique<ShowById<v1::GetIncidentRequest, v1::Incident>>(
      group, "show", "show one incident", &Stub::GetIncident,
      [](v1::GetIncidentRequest& req, const std::string& id) { req.set_id(id); }));
  commands.push_back(std::make_unique<ListIncidents>(group));
  commands.push_back(std::make_unique<ShowById<v1::GetDeliveryReportRequest, v1::DeliveryReport>>(
      group, "report", "delivery report: notices per channel and state, failures", &Stub::GetDeliveryReport,
      [](v1::GetDeliveryReportRequest& req, const std::string& id) { req.set_incident_id(id); }));
  commands.push_back(std::make_unique<VersionedChange<v1::CancelIncidentRequest>>(
      group, "cancel", "call off a planned maintenance or IBAN change", &Stub::CancelIncident));
  commands.push_back(std::make_unique<ShowById<v1::GetIncidentHistoryRequest, v1::IncidentHistory>>(
      group, "history", "audit trail: every version, who changed what and when", &Stub::GetIncidentHistory,
      [](v1::GetIncidentHistoryRequest& req, const std::string& id) { req.set_id(id); }));
  commands.push_back(std::make_unique<ReconcileIncident>(group));
  commands.push_back(std::make_unique<ProveNotice>(group));
}

}  // namespace forewarn::cli
