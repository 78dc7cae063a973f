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
void AddAudienceCommands(CLI::App& app, Commands& commands);

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

// Who an incident reaches (see forewarn.v1.Targets): --region and --asset
// (repeatable), --audience (an uploaded list's id), --area-file (a GeoJSON
// file, "-" for stdin) or --circle LAT,LON,METRES, with --area-name-en and
// --area-name-ar.
struct TargetFlags {
  std::vector<std::string> regions, assets;
  std::string audience, area_file, circle;
  ReasonFlags area_name;  // reused for its two languages
  void Add(CLI::App* app);
  bool given() const;
  // Fills `out` from the flags; returns the usage message naming the flag at
  // fault (an unreadable file, a malformed circle), or "".
  std::string Set(v1::Targets* out) const;
};

// What every new incident names (incident create, maintenance schedule):
// --idempotency-key, --service (repeatable), --reason-en and --reason-ar,
// all required, and its targets (TargetFlags, at least one selector); with
// --dry-run, the audience per selector is shown and nothing is created.
struct NewIncidentFlags {
  std::string key;
  std::vector<std::string> services;
  ReasonFlags reason;
  TargetFlags targets;
  bool dry_run = false;
  void Add(CLI::App* app);
  template <typename Request>
  std::string Set(Request* req) const {
    req->set_idempotency_key(key);
    for (const auto& s : services) req->add_services(s);
    reason.Set(req->mutable_reason());
    v1::Targets t;
    if (auto e = targets.Set(&t); !e.empty()) return e;
    *req->mutable_regions() = t.regions();
    *req->mutable_asset_codes() = t.asset_codes();
    req->set_audience_id(t.audience_id());
    if (t.has_area()) *req->mutable_area() = t.area();
    return "";
  }
  // --dry-run: the audience of an incident of `kind`, per selector.
  int DryRun(Session& session, v1::IncidentKind kind) const;
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
