// forewarn: the operators' CLI. Talks gRPC to forewarn-intake.
//   forewarn --target 127.0.0.1:PORT incident create --idempotency-key K
//       --service electricity --region riyadh --reason-en "..." --reason-ar "..."
//       --restore-in 3h
// Each command (its flags and its run) is a class in commands/; this file
// builds the app from them, parses, connects and runs the one parsed.
#include <grpcpp/grpcpp.h>

#include <iostream>

#include "CLI/CLI.hpp"
#include "forewarn/v1/directory.grpc.pb.h"
#include "forewarn/v1/incident.grpc.pb.h"
#include "services/cli/command.h"
#include "services/cli/printer.h"
#include "services/cli/session.h"

int main(int argc, char** argv) {
  namespace cli = forewarn::cli;
  cli::GlobalOptions options;
  CLI::App app{"forewarn: report and follow outages, planned maintenance and IBAN changes"};
  app.require_subcommand(1);
  app.fallthrough();  // global options (--json, --target) may follow the subcommand
  cli::AddGlobalOptions(app, options);
  cli::Commands commands;
  cli::AddIncidentCommands(app, commands);
  cli::AddDlqCommands(app, commands);
  cli::AddNoticeCommands(app, commands);
  cli::AddMaintenanceCommands(app, commands);
  cli::AddIbanCommands(app, commands);
  cli::AddCustomerCommands(app, commands);
  cli::AddAssetCommands(app, commands);
  cli::AddAudienceCommands(app, commands);

  CLI11_PARSE(app, argc, argv);

  auto credentials = cli::MakeCredentials(options);
  if (!credentials.ok()) return cli::UsageError(std::cerr, std::string(credentials.status().message()));
  auto printer = options.json ? cli::MakeJsonPrinter(std::cout) : cli::MakeTextPrinter(std::cout, std::cerr);
  auto channel = grpc::CreateChannel(options.target, *credentials);
  cli::Session session(forewarn::v1::IncidentService::NewStub(channel), options, *printer, std::cerr,
                       forewarn::v1::CustomerDirectory::NewStub(channel));
  for (const auto& command : commands) {
    if (command->parsed()) return command->Run(session);
  }
  return 0;
}
