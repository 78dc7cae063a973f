// The printers of `forewarn incident proof`: a table, CSV and JSON, each
// written as the proofs stream in (memory does not grow with the incident).
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/strip.h"
#include "nlohmann/json.hpp"
#include "services/cli/customer_file.h"
#include "services/cli/format.h"
#include "services/cli/printer.h"
#include "services/convert/proto_convert.h"
#include "services/core/notice_proof.h"

namespace forewarn::cli {
namespace {

using nlohmann::json;

// "met", "missed" or "pending" against the CLI's clock.
std::string OutcomeName(const v1::NoticeProof& p, absl::Time now) {
  return ToString(JudgeNotice(p.met(), FromProto(p.deadline()), now));
}

// "3 notices with a deadline: 1 met, 1 missed, 1 pending".
std::string SummaryLine(const v1::ProofSummary& s) {
  return absl::StrCat(s.customers(), " notice", Plural(s.customers()), " with a deadline: ", s.met(), " met, ",
                      s.missed(), " missed (not delivered by the deadline), ", s.pending(),
                      " pending (deadline not passed yet)");
}

const char* YesNo(bool b) { return b ? "yes" : "no"; }

// A time for a table cell: "-" when unset.
std::string Cell(const google::protobuf::Timestamp& ts) {
  std::string t = FormatTime(ts);
  return t.empty() ? "-" : t;
}

class TextProofPrinter final : public ProofPrinter {
 public:
  TextProofPrinter(std::ostream& out, std::string incident_id, absl::Time now)
      : out_(out), incident_id_(std::move(incident_id)), now_(now) {}

  void Add(const v1::NoticeProof& p) override {
    if (!started_) Start();
    const std::string outcome = OutcomeName(p, now_);
    const std::string flag = outcome == "met" ? "" : outcome == "missed" ? "MISSED" : "pending";
    for (const auto& c : p.channels()) {
      std::string line = absl::StrFormat("%10d  %-23s  %-10s  %3d  %-20s  %-7s  %-11s  %-20s  %-20s  %-3s  %-9s  %s",
                              p.customer_id(), p.notice_kind(), p.occasion().empty() ? "-" : p.occasion(),
                              p.incident_version(), Cell(p.deadline()), Name(c.channel()), Name(c.state()),
                              Cell(c.sent_at()), Cell(c.delivered_at()), YesNo(c.met()),
                              c.escalation() ? "yes" : "-", flag);
      out_ << absl::StripTrailingAsciiWhitespace(line) << "\n";
    }
    ++rows_;
  }

  void End(const v1::ProofSummary* summary) override {
    if (summary == nullptr) return;  // the error says why
    if (!started_) Start();
    if (rows_ == 0) out_ << "(no notices listed)\n";
    out_ << SummaryLine(*summary) << "\n";
  }

 private:
  void Start() {
    started_ = true;
    out_ << "Proof of notice for incident " << incident_id_ << "\n";
    out_ << absl::StrFormat("%10s  %-23s  %-10s  %3s  %-20s  %-7s  %-11s  %-20s  %-20s  %-3s  %-9s  %s\n", "CUSTOMER",
                            "KIND", "OCCASION", "VER", "DEADLINE", "CHANNEL", "STATE", "SENT", "DELIVERED", "MET",
                            "ESCALATED", "FLAG");
  }

  std::ostream& out_;
  std::string incident_id_;
  absl::Time now_;
  bool started_ = false;
  int64_t rows_ = 0;
};

class CsvProofPrinter final : public ProofPrinter {
 public:
  CsvProofPrinter(std::ostream& out, std::ostream& err, absl::Time now) : out_(out), err_(err), now_(now) {}

  void Add(const v1::NoticeProof& p) override {
    if (!started_) Start();
    const std::string outcome = OutcomeName(p, now_);
    for (const auto& c : p.channels()) {
      const std::vector<std::string> fields = {
          absl::StrCat(p.customer_id()), p.notice_kind(), p.occasion(), absl::StrCat(p.incident_version()),
          FormatTime(p.deadline()), Name(c.channel()), Name(c.state()), FormatTime(c.sent_at()),
          FormatTime(c.delivered_at()), c.met() ? "true" : "false", c.escalation() ? "true" : "false",
          p.met() ? "true" : "false", outcome};
      for (size_t i = 0; i < fields.size(); ++i) out_ << (i == 0 ? "" : ",") << CsvField(fields[i]);
      out_ << "\n";
    }
  }

  void End(const v1::ProofSummary* summary) override {
    if (summary == nullptr) return;  // the error says why
    if (!started_) Start();
    out_.flush();
    err_ << SummaryLine(*summary) << "\n";
  }

 private:
  void Start() {
    started_ = true;
    out_ << "customer_id,notice_kind,occasion,incident_version,deadline,channel,state,sent_at,delivered_at,met,"
            "escalation,notice_met,outcome\n";
  }

  std::ostream& out_;
  std::ostream& err_;
  absl::Time now_;
  bool started_ = false;
};

json ToJson(const v1::ChannelProof& c) {
  return {{"channel", Name(c.channel())},         {"state", Name(c.state())},
          {"sent_at", FormatTime(c.sent_at())},   {"delivered_at", FormatTime(c.delivered_at())},
          {"met", c.met()},                       {"escalation", c.escalation()}};
}

// `doc` as the JSON printer lays it out (indented by 2, keys sorted), its
// lines after the first indented by `indent` more.
std::string Dumped(const json& doc, const std::string& indent) {
  return absl::StrReplaceAll(doc.dump(2, ' ', false, json::error_handler_t::replace), {{"\n", "\n" + indent}});
}

class JsonProofPrinter final : public ProofPrinter {
 public:
  JsonProofPrinter(std::ostream& out, std::string incident_id, absl::Time now)
      : out_(out), incident_id_(std::move(incident_id)), now_(now) {}

  void Add(const v1::NoticeProof& p) override {
    json channels = json::array();
    for (const auto& c : p.channels()) channels.push_back(ToJson(c));
    const json proof{{"customer_id", p.customer_id()},   {"notice_kind", p.notice_kind()},
                     {"occasion", p.occasion()},         {"incident_version", p.incident_version()},
                     {"deadline", FormatTime(p.deadline())}, {"channels", channels},
                     {"met", p.met()},                   {"outcome", OutcomeName(p, now_)}};
    out_ << (listed_ == 0 ? Head() + "[\n    " : std::string(",\n    ")) << Dumped(proof, "    ");
    ++listed_;
  }

  void End(const v1::ProofSummary* summary) override {
    if (summary == nullptr && listed_ == 0) return;  // nothing begun: the error says why
    out_ << (listed_ == 0 ? Head() + "[],\n" : std::string("\n  ],\n")) << "  \"summary\": ";
    if (summary == nullptr) {
      out_ << "null";
    } else {
      out_ << Dumped({{"customers", summary->customers()},
                      {"met", summary->met()},
                      {"missed", summary->missed()},
                      {"pending", summary->pending()}},
                     "  ");
    }
    out_ << "\n}\n";
  }

 private:
  // The document up to the proofs' array.
  std::string Head() const {
    return absl::StrCat("{\n  \"incident_id\": ", json(incident_id_).dump(-1, ' ', false, json::error_handler_t::replace),
                        ",\n  \"proofs\": ");
  }

  std::ostream& out_;
  std::string incident_id_;
  absl::Time now_;
  int64_t listed_ = 0;
};

}  // namespace

std::unique_ptr<ProofPrinter> MakeTextProofPrinter(std::ostream& out, const std::string& incident_id,
                                                   absl::Time now) {
  return std::make_unique<TextProofPrinter>(out, incident_id, now);
}

std::unique_ptr<ProofPrinter> MakeCsvProofPrinter(std::ostream& out, std::ostream& err, absl::Time now) {
  return std::make_unique<CsvProofPrinter>(out, err, now);
}

std::unique_ptr<ProofPrinter> MakeJsonProofPrinter(std::ostream& out, const std::string& incident_id,
                                                   absl::Time now) {
  return std::make_unique<JsonProofPrinter>(out, incident_id, now);
}

}  // namespace forewarn::cli
