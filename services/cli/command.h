#pragma once

// One CLI command: its flags, bound to its members when it is added to its
// group, and its run. main() parses the command line, then runs the one
// command that was parsed.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "forewarn/v1/incident.pb.h"
#include "services/cli/session.h"

namespace forewarn::cli {

class Command {
 public:
  explicit Command(CLI::App* app) : app_(app) {}
  Command(const Command&) = delete;
  Command& operator=(const Command&) = delete;
  virtual ~Command() = default;

  bool parsed() const { return app_->parsed(); }
  // Runs after a successful parse: checks what the flags cannot, calls the
  // intake, prints. Returns the exit code.
  virtual int Run(Session& session) = 0;

 protected:
  CLI::App* app_;
};

using Commands = std::vector<std::unique_ptr<Command>>;

// Each adds its command group to `app` (in the order of --help) and its
// commands to `commands`.
void AddIncidentCommands(CLI::App& app, Commands& commands);
void AddDlqCommands(CLI::App& app, Commands& commands);
void AddNoticeCommands(CLI::App& app, Commands& commands);
void AddMaintenanceCommands(CLI::App& app, Commands& commands);
void AddIbanCommands(CLI::App& app, Commands& commands);
void AddCustomerCommands(CLI::App& app, Commands& commands);
void AddAssetCommands(CLI::App& app, Commands& commands);

// Adds the command group `name` to `app`; it requires one of its commands.
CLI::App& AddGroup(CLI::App& app, const char* name, const char* help);

// --- flags several commands share ---

// The positional "id" (required).
void AddIncidentId(CLI::App* app, std::string& id);
// --expected-version: fail if the incident changed meanwhile.
void AddExpectedVersion(CLI::App* app, int64_t& expected_version);
// --idempotency-key (required).
void AddIdempotencyKey(CLI::App* app, std::string& key);

// --reason-en and --reason-ar.
struct ReasonFlags {
  std::string en, ar;
  void Add(CLI::App* app, const char* en_help, const char* ar_help, bool required);
  void Set(v1::LocalizedText* out) const;
};

// What every new incident names (incident create, maintenance schedule):
// --idempotency-key, --service and --region (repeatable), --reason-en and
// --reason-ar; all required.
struct NewIncidentFlags {
  std::string key;
  std::vector<std::string> services, regions;
  ReasonFlags reason;
  void Add(CLI::App* app);
  template <typename Request>
  void Set(Request* req) const {
    req->set_idempotency_key(key);
    for (const auto& s : services) req->add_services(s);
    for (const auto& r : regions) req->add_regions(r);
    reason.Set(req->mutable_reason());
  }
};

// --restore-at (RFC 3339) or --restore-in (a duration from now); not both.
struct RestorationFlags {
  std::string at, in;
  void Add(CLI::App* app, const char* at_help, const char* in_help);
  bool given() const { return !at.empty() || !in.empty(); }
  // Sets *out from whichever is given (nothing when neither is); returns the
  // usage message naming the flag at fault, or "".
  std::string Set(google::protobuf::Timestamp* out) const;
};

}  // namespace forewarn::cli
