// forewarn notice preview; forewarn dlq list | replay: notices
#include "services/cli/command.h"
#include "services/cli/format.h"

namespace forewarn::cli {
namespace {

class PreviewNotices final : public Command {
 public:
  explicit PreviewNotices(CLI::App& group)
      : Command(group.add_subcommand("preview", "render an incident's notice, with SMS cost and audience size")) {
    AddIncidentId(app_, id_);
    app_->add_option("--customer", customer_id_, "a customer id (default: a sample per language and channel)");
    app_->add_option("--kind", kind_, "notice kind, e.g. outage_updated (default: the incident's latest)");
  }

  int Run(Session& session) override {
    v1::PreviewNoticesRequest req;
    req.set_incident_id(id_);
    req.set_customer_id(customer_id_);
    req.set_notice_kind(kind_);
    v1::PreviewNoticesResponse resp;
    if (auto status = session.Invoke(&Session::Stub::PreviewNotices, req, &resp); !status.ok()) {
      return session.Fail(status);
    }
    session.printer().Print(resp);
    if (AnyOverBudget(resp)) session.err() << "warning: some SMS exceed their segment budget (see above)\n";
    return 0;
  }

 private:
  std::string id_, kind_;
  int64_t customer_id_ = 0;
};

class ListDeadLetters final : public Command {
 public:
  explicit ListDeadLetters(CLI::App& group)
      : Command(group.add_subcommand("list", "list dead-lettered notices waiting for a replay, oldest first")) {
    app_->add_option("--incident", incident_, "only this incident's");
    app_->add_option("--limit", limit_, "list at most this many")->check(CLI::Range(1, 10000));
  }

  int Run(Session& session) override {
    v1::ListDeadLettersRequest req;
    req.set_incident_id(incident_);
    req.set_limit(limit_);
    return session.Call(&Session::Stub::ListDeadLetters, req);
  }

 private:
  std::string incident_;
  int limit_ = 100;
};

class ReplayDeadLetters final : public Command {
 public:
  explicit ReplayDeadLetters(CLI::App& group)
      : Command(group.add_subcommand("replay", "send dead-lettered notices again with fresh attempts (operator)")) {
    app_->add_option("--incident", incident_, "only this incident's");
  }

  int Run(Session& session) override {
    v1::ReplayDeadLettersRequest req;
    req.set_incident_id(incident_);
    return session.Call(&Session::Stub::ReplayDeadLetters, req);
  }

 private:
  std::string incident_;
};

}  // namespace

void AddNoticeCommands(CLI::App& app, Commands& commands) {
  auto& group = AddGroup(app, "notice", "preview what customers would receive");
  commands.push_back(std::make_unique<PreviewNotices>(group));
}

void AddDlqCommands(CLI::App& app, Commands& commands) {
  auto& group = AddGroup(app, "dlq", "notices that ran out of delivery attempts");
  commands.push_back(std::make_unique<ListDeadLetters>(group));
  commands.push_back(std::make_unique<ReplayDeadLetters>(group));
}

}  // namespace forewarn::cli
