// forewarn assets import | list: the network asset tree customers attach to
// (role directory or operator).
//
// import reads a CSV file (header: code, kind, name_ar, name_en required,
// parent_code optional; RFC 4180 as the customer files) and sends it in
// batches of --batch-size through CustomerDirectory.UpsertAssets, each batch
// all or nothing: a parent must come in the same batch (any order) or an
// earlier one, or be stored. A malformed file stops before its bad record
// ("assets.csv:12: 4 fields, expected 5"); an asset the intake refuses stops
// the import with its line ("assets.csv:7: assets[5].parent_code: no asset
// 'F-9' ..."); the batches before stay stored.
#include <fstream>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "services/cli/command.h"
#include "services/cli/customer_file.h"

namespace forewarn::cli {
namespace {

// In the order the import reads them; the first four are required.
const std::vector<std::string>& AssetCsvColumns() {
  static const std::vector<std::string> kColumns = {"code", "kind", "name_ar", "name_en", "parent_code"};
  return kColumns;
}

// The file line of the asset an error names ("assets[5].parent_code: ..."),
// or 0.
int64_t LineOfError(const std::string& message, const std::vector<int64_t>& lines) {
  absl::string_view rest = message;
  if (!absl::ConsumePrefix(&rest, "assets[")) return 0;
  const size_t close = rest.find(']');
  size_t index = 0;
  if (close == absl::string_view::npos || !absl::SimpleAtoi(rest.substr(0, close), &index) || index >= lines.size()) {
    return 0;
  }
  return lines[index];
}

class ImportAssets final : public Command {
 public:
  explicit ImportAssets(CLI::App& group)
      : Command(group.add_subcommand("import",
                                     "create or update assets from a CSV file (code,kind,parent_code,name_ar,name_en)")) {
    app_->add_option("file", path_, "the file, or - for standard input")->required();
    app_->add_option("--batch-size", batch_size_, "assets per request (all or nothing each)")
        ->check(CLI::Range(1, 10000));
  }

  int Run(Session& session) override {
    std::ifstream file;
    if (path_ != "-") {
      file.open(path_, std::ios::binary);
      if (!file) return session.UsageError(absl::StrCat("cannot read ", path_));
    }
    CsvTable table(path_ == "-" ? std::cin : file, path_ == "-" ? "stdin" : path_);
    if (absl::Status s = table.ReadHeader(AssetCsvColumns(), 4); !s.ok()) return Malformed(session, s);
    v1::UpsertAssetsResponse totals;
    v1::UpsertAssetsRequest req;
    std::vector<int64_t> lines;
    std::vector<std::string> fields;
    int64_t line = 0;
    for (;;) {
      auto more = table.Next(&fields, &line);
      if (!more.ok()) return Malformed(session, more.status());
      if (*more) Add(fields, line, &req, &lines);
      if ((!*more && req.assets_size() > 0) || req.assets_size() == batch_size_) {
        if (int rc = Send(session, req, lines, &totals); rc != 0) return rc;
        req.Clear();
        lines.clear();
      }
      if (!*more) break;
    }
    session.printer().Print(totals);
    return 0;
  }

 private:
  static void Add(const std::vector<std::string>& f, int64_t line, v1::UpsertAssetsRequest* req,
                  std::vector<int64_t>* lines) {
    auto* a = req->add_assets();
    a->set_code(f[0]);
    a->set_kind(f[1]);
    a->mutable_name()->set_ar(f[2]);
    a->mutable_name()->set_en(f[3]);
    a->set_parent_code(f[4]);
    lines->push_back(line);
  }

  int Send(Session& session, const v1::UpsertAssetsRequest& req, const std::vector<int64_t>& lines,
           v1::UpsertAssetsResponse* totals) {
    v1::UpsertAssetsResponse resp;
    grpc::Status status = session.Invoke(&Session::DirectoryStub::UpsertAssets, req, &resp);
    if (!status.ok()) {
      const int64_t at = LineOfError(status.error_message(), lines);
      if (at == 0) return session.Fail(status);
      session.err() << "error: " << path_ << ":" << at << ": " << status.error_message() << " ("
                    << status.error_code() << ")\n";
      if (totals->inserted() + totals->updated() + totals->unchanged() > 0) {
        session.err() << "stored before it: inserted " << totals->inserted() << ", updated " << totals->updated()
                      << ", unchanged " << totals->unchanged() << "\n";
      }
      return kExitFailed;
    }
    totals->set_inserted(totals->inserted() + resp.inserted());
    totals->set_updated(totals->updated() + resp.updated());
    totals->set_unchanged(totals->unchanged() + resp.unchanged());
    return 0;
  }

  static int Malformed(Session& session, const absl::Status& s) {
    session.err() << "error: " << s.message() << "\n";
    return kExitFailed;
  }

  std::string path_;
  int batch_size_ = 10000;
};

class ListAssets final : public Command {
 public:
  explicit ListAssets(CLI::App& group)
      : Command(group.add_subcommand("list", "the children of an asset (default: the roots), with their customers")) {
    app_->add_option("--parent", parent_, "the parent asset's code");
  }

  int Run(Session& session) override {
    v1::ListAssetsRequest req;
    req.set_parent_code(parent_);
    req.set_page_size(1000);
    v1::ListAssetsResponse all;
    do {
      v1::ListAssetsResponse page;
      if (auto status = session.Invoke(&Session::DirectoryStub::ListAssets, req, &page); !status.ok()) {
        return session.Fail(status);
      }
      all.mutable_assets()->MergeFrom(page.assets());
      all.mutable_customers()->MergeFrom(page.customers());
      req.set_page_token(page.next_page_token());
    } while (!req.page_token().empty());
    session.printer().Print(all);
    return 0;
  }

 private:
  std::string parent_;
};

}  // namespace

void AddAssetCommands(CLI::App& app, Commands& commands) {
  auto& group = AddGroup(app, "assets", "the network asset tree customers attach to: import, list");
  commands.push_back(std::make_unique<ImportAssets>(group));
  commands.push_back(std::make_unique<ListAssets>(group));
}

}  // namespace forewarn::cli
