// forewarn customers import | get | delete | export | preferences: the
// customer directory (role directory or operator).
#include <fstream>
#include <iostream>

#include "absl/strings/str_cat.h"
#include "services/cli/command.h"
#include "services/cli/customer_file.h"
#include "services/cli/customer_import.h"

namespace forewarn::cli {
namespace {

class ImportCustomers final : public Command {
 public:
  explicit ImportCustomers(CLI::App& group)
      : Command(group.add_subcommand(
            "import",
            "create or update customers from a CSV or JSON-lines file (exit 0: all stored; 1: rows rejected, "
            "see the report, or a malformed file; 2: bad usage)")) {
    app_->add_option("file", flags_.path, "the file, or - for standard input")->required();
    app_->add_option("--format", flags_.format, "csv or jsonl (default: by the extension; - is csv)")
        ->check(CLI::IsMember({"csv", "jsonl"}));
    app_->add_option("--batch-size", flags_.batch_size, "customers per request")->check(CLI::Range(1, 5000));
    app_->add_option("--window", flags_.window, "batches sent ahead of their answers")->check(CLI::Range(1, 64));
    app_->add_flag("--dry-run", flags_.dry_run, "validate and classify only; write nothing");
    app_->add_flag("--delete-missing", flags_.delete_missing,
                   "full sync: erase every stored customer not in the file (only when the whole file went through)");
    app_->add_option("--report", flags_.report,
                     "rejected rows (line,external_id,field,reason); default FILE.rejected.csv, rejected.csv for -");
  }

  int Run(Session& session) override { return RunImport(session, flags_); }

 private:
  ImportFlags flags_;
};

class GetCustomer final : public Command {
 public:
  explicit GetCustomer(CLI::App& group) : Command(group.add_subcommand("get", "show one customer")) {
    app_->add_option("external_id", external_id_, "the CRM's key")->required();
  }

  int Run(Session& session) override {
    v1::GetCustomerRequest req;
    req.set_external_id(external_id_);
    v1::Customer customer;
    if (auto status = session.Invoke(&Session::DirectoryStub::GetCustomer, req, &customer); !status.ok()) {
      return session.Fail(status);
    }
    session.printer().Print(customer);
    return 0;
  }

 private:
  std::string external_id_;
};

class DeleteCustomer final : public Command {
 public:
  explicit DeleteCustomer(CLI::App& group)
      : Command(group.add_subcommand("delete", "erase a customer: personal data removed, open notices closed")) {
    app_->add_option("external_id", external_id_, "the CRM's key")->required();
  }

  int Run(Session& session) override {
    v1::DeleteCustomerRequest req;
    req.set_external_id(external_id_);
    v1::DeleteCustomerResponse resp;
    if (auto status = session.Invoke(&Session::DirectoryStub::DeleteCustomer, req, &resp); !status.ok()) {
      return session.Fail(status);
    }
    session.printer().Print(resp);
    return 0;
  }

 private:
  std::string external_id_;
};

class ExportCustomers final : public Command {
 public:
  explicit ExportCustomers(CLI::App& group)
      : Command(group.add_subcommand("export", "write customers in the import format (all pages)")) {
    app_->add_option("--format", format_, "csv or jsonl (default: by the -o extension, else csv)")
        ->check(CLI::IsMember({"csv", "jsonl"}));
    app_->add_option("--service", service_, "only customers of this service");
    app_->add_option("--region", region_, "only customers in this region");
    app_->add_option("-o,--output", output_, "the file (default: standard output)");
  }

  int Run(Session& session) override {
    auto format = ChooseCustomerFormat(format_, output_.empty() ? "-" : output_);
    if (!format.ok()) return session.UsageError(std::string(format.status().message()));
    std::ofstream file;
    if (!output_.empty()) {
      file.open(output_, std::ios::trunc | std::ios::binary);
      if (!file) return session.UsageError(absl::StrCat("-o: cannot write ", output_));
    }
    auto writer = CustomerWriter::Open(output_.empty() ? std::cout : file, *format);
    v1::ListCustomersRequest req;
    req.set_service(service_);
    req.set_region(region_);
    req.set_page_size(1000);
    do {
      v1::ListCustomersResponse page;
      if (auto status = session.Invoke(&Session::DirectoryStub::ListCustomers, req, &page); !status.ok()) {
        return session.Fail(status);
      }
      for (const auto& c : page.customers()) {
        if (absl::Status s = writer->Write(c); !s.ok()) {
          session.err() << "error: " << s.message() << "\n";
          return kExitFailed;
        }
      }
      req.set_page_token(page.next_page_token());
    } while (!req.page_token().empty());
    return 0;
  }

 private:
  std::string format_, service_, region_, output_;
};

class SetCustomerPreferences final : public Command {
 public:
  explicit SetCustomerPreferences(CLI::App& group)
      : Command(group.add_subcommand("preferences",
                                     "set a customer's channels per notice category (the others keep theirs)")) {
    app_->add_option("external_id", external_id_, "the CRM's key")->required();
    const char* help = "sms;email, sms, email or none";
    app_->add_option("--unplanned-outages", unplanned_, help);
    app_->add_option("--planned-maintenance", planned_, help);
    app_->add_option("--banking-changes", banking_, help);
  }

  int Run(Session& session) override {
    v1::GetCustomerRequest get;
    get.set_external_id(external_id_);
    v1::Customer current;
    v1::SetPreferencesRequest req;
    req.set_external_id(external_id_);
    const std::pair<const char*, const std::string*> given[] = {
        {"--unplanned-outages", &unplanned_}, {"--planned-maintenance", &planned_}, {"--banking-changes", &banking_}};
    std::optional<v1::ChannelSet> sets[3];
    for (int i = 0; i < 3; ++i) {
      if (given[i].second->empty()) continue;
      auto set = ParseChannels(*given[i].second);
      if (!set.ok()) return session.UsageError(absl::StrCat(given[i].first, ": ", set.status().message()));
      sets[i] = set->value_or(v1::ChannelSet{});
    }
    if (!sets[0] && !sets[1] && !sets[2]) {
      return session.UsageError("give at least one of --unplanned-outages, --planned-maintenance, --banking-changes");
    }
    if (auto status = session.Invoke(&Session::DirectoryStub::GetCustomer, get, &current); !status.ok()) {
      return session.Fail(status);
    }
    v1::Preferences* prefs = req.mutable_preferences();
    *prefs = current.preferences();
    if (sets[0]) *prefs->mutable_unplanned_outages() = *sets[0];
    if (sets[1]) *prefs->mutable_planned_maintenance() = *sets[1];
    if (sets[2]) *prefs->mutable_banking_changes() = *sets[2];
    v1::Customer updated;
    if (auto status = session.Invoke(&Session::DirectoryStub::SetPreferences, req, &updated); !status.ok()) {
      return session.Fail(status);
    }
    session.printer().Print(updated);
    return 0;
  }

 private:
  std::string external_id_, unplanned_, planned_, banking_;
};

}  // namespace

void AddCustomerCommands(CLI::App& app, Commands& commands) {
  auto& group = AddGroup(app, "customers", "the customer directory: import, look up, erase, export, preferences");
  commands.push_back(std::make_unique<ImportCustomers>(group));
  commands.push_back(std::make_unique<GetCustomer>(group));
  commands.push_back(std::make_unique<DeleteCustomer>(group));
  commands.push_back(std::make_unique<ExportCustomers>(group));
  commands.push_back(std::make_unique<SetCustomerPreferences>(group));
}

}  // namespace forewarn::cli
