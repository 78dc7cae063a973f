// forewarn maintenance schedule | reschedule; forewarn iban announce: planned changes
#include "services/cli/command.h"
#include "services/cli/format.h"

namespace forewarn::cli {
namespace {

class ScheduleMaintenance final : public Command {
 public:
  explicit ScheduleMaintenance(CLI::App& group)
      : Command(group.add_subcommand("schedule", "announce planned maintenance")) {
    incident_.Add(app_);
    app_->add_option("--start", start_, "planned start, RFC 3339")->required();
    app_->add_option("--end", end_, "planned end, RFC 3339")->required();
  }

  int Run(Session& session) override {
    if (incident_.dry_run) return incident_.DryRun(session, v1::PLANNED_MAINTENANCE);
    v1::ScheduleMaintenanceRequest req;
    if (auto e = incident_.Set(&req); !e.empty()) return session.UsageError(e);
    std::string err;
    if (!ParseTime(start_, req.mutable_starts_at(), &err)) return session.UsageError("--start: " + err);
    if (!ParseTime(end_, req.mutable_ends_at(), &err)) return session.UsageError("--end: " + err);
    return session.Call(&Session::Stub::ScheduleMaintenance, req);
  }

 private:
  NewIncidentFlags incident_;
  std::string start_, end_;
};

class RescheduleMaintenance final : public Command {
 public:
  explicit RescheduleMaintenance(CLI::App& group)
      : Command(group.add_subcommand("reschedule", "move a planned maintenance")) {
    AddIncidentId(app_, id_);
    app_->add_option("--start", start_, "new planned start, RFC 3339");
    app_->add_option("--end", end_, "new planned end, RFC 3339");
    AddExpectedVersion(app_, expected_version_);
  }

  int Run(Session& session) override {
    v1::UpdateIncidentRequest req;
    req.set_id(id_);
    req.set_expected_version(expected_version_);
    std::string err;
    if (start_.empty() && end_.empty()) return session.UsageError("give --start and/or --end");
    if (!start_.empty() && !ParseTime(start_, req.mutable_starts_at(), &err)) {
      return session.UsageError("--start: " + err);
    }
    if (!end_.empty() && !ParseTime(end_, req.mutable_expected_restoration_at(), &err)) {
      return session.UsageError("--end: " + err);
    }
    return session.Call(&Session::Stub::UpdateIncident, req);
  }

 private:
  std::string id_, start_, end_;
  int64_t expected_version_ = 0;
};

class AnnounceIbanChange final : public Command {
 public:
  explicit AnnounceIbanChange(CLI::App& group)
      : Command(group.add_subcommand("announce", "announce that an account's IBAN changes")) {
    AddIdempotencyKey(app_, key_);
    app_->add_option("--old", old_iban_, "current IBAN")->required();
    app_->add_option("--new", new_iban_, "new IBAN")->required();
    app_->add_option("--effective", effective_, "effective date-time, RFC 3339")->required();
    reason_.Add(app_, "reason, English", "reason, Arabic", /*required=*/true);
  }

  int Run(Session& session) override {
    v1::AnnounceIbanChangeRequest req;
    req.set_idempotency_key(key_);
    req.set_old_iban(old_iban_);
    req.set_new_iban(new_iban_);
    reason_.Set(req.mutable_reason());
    std::string err;
    if (!ParseTime(effective_, req.mutable_effective_at(), &err)) return session.UsageError("--effective: " + err);
    return session.Call(&Session::Stub::AnnounceIbanChange, req);
  }

 private:
  std::string key_, old_iban_, new_iban_, effective_;
  ReasonFlags reason_;
};

}  // namespace

void AddMaintenanceCommands(CLI::App& app, Commands& commands) {
  auto& group = AddGroup(app, "maintenance", "schedule and reschedule planned maintenance");
  commands.push_back(std::make_unique<ScheduleMaintenance>(group));
  commands.push_back(std::make_unique<RescheduleMaintenance>(group));
}

void AddIbanCommands(CLI::App& app, Commands& commands) {
  auto& group = AddGroup(app, "iban", "announce IBAN changes to holders and beneficiaries");
  commands.push_back(std::make_unique<AnnounceIbanChange>(group));
}

}  // namespace forewarn::cli
