// forewarn iban announce
#include "services/cli/commands/command.h"
#include "services/cli/commands/format.h"

namespace forewarn::cli {
namespace {

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

void AddIbanCommands(CLI::App& app, Commands& commands) {
  auto& group = AddGroup(app, "iban", "announce IBAN changes to holders and beneficiaries");
  commands.push_back(std::make_unique<AnnounceIbanChange>(group));
}

}  // namespace forewarn::cli
