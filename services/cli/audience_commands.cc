// forewarn audience upload: a list of affected customers for an incident's
// targets (role submitter or operator).
#include "absl/strings/str_cat.h"
#include "services/cli/audience_upload.h"
#include "services/cli/command.h"
#include "services/core/validation.h"

namespace forewarn::cli {
namespace {

class UploadAudience final : public Command {
 public:
  explicit UploadAudience(CLI::App& group)
      : Command(group.add_subcommand(
            "upload",
            "upload a list of affected customers, one a line (exit 0: stored, unknown entries reported; 1: "
            "refused or an unreadable line; 2: bad usage)")) {
    app_->add_option("file", flags_.path, "the file, or - for standard input")->required();
    app_->add_option("--label", flags_.label, "what the list is, for the audit (at most 200 characters)");
    app_->add_option("--by", flags_.by,
                     "every line is a Forewarn id, an external id or an IBAN (default: lines say it, as id:123, "
                     "external:C-1, iban:SA03...)")
        ->check(CLI::IsMember({"id", "external_id", "iban"}));
  }

  int Run(Session& session) override {
    if (!IsValidUtf8(flags_.label)) return session.UsageError("--label: is not valid UTF-8");
    return RunAudienceUpload(session, flags_);
  }

 private:
  AudienceUploadFlags flags_;
};

}  // namespace

void AddAudienceCommands(CLI::App& app, Commands& commands) {
  auto& group = AddGroup(app, "audience", "uploaded lists of affected customers (Targets.audience_id)");
  commands.push_back(std::make_unique<UploadAudience>(group));
}

}  // namespace forewarn::cli
