// forewarn dlq list | replay
#include "services/cli/commands/command.h"

namespace forewarn::cli {
namespace {

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

void AddDlqCommands(CLI::App& app, Commands& commands) {
  auto& group = AddGroup(app, "dlq", "notices that ran out of delivery attempts");
  commands.push_back(std::make_unique<ListDeadLetters>(group));
  commands.push_back(std::make_unique<ReplayDeadLetters>(group));
}

}  // namespace forewarn::cli
