// forewarn notice preview
#include "services/cli/commands/command.h"
#include "services/cli/commands/format.h"

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

}  // namespace

void AddNoticeCommands(CLI::App& app, Commands& commands) {
  auto& group = AddGroup(app, "notice", "preview what customers would receive");
  commands.push_back(std::make_unique<PreviewNotices>(group));
}

}  // namespace forewarn::cli
