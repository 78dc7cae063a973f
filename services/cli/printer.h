#pragma once

// How the CLI shows a result: as text for people or as JSON for scripts
// (--json). A command fetches its result and hands it to the printer; it never
// formats output itself.

#include <memory>
#include <ostream>

#include <string>

#include "absl/time/time.h"
#include "forewarn/v1/directory.pb.h"
#include "forewarn/v1/incident.pb.h"

namespace forewarn::cli {

// What `customers import` ends with.
struct ImportReport {
  v1::ImportSummary summary;  // the intake's; the committed batches' when the stream failed
  double elapsed_seconds = 0;
  std::string report_path;  // the rejected rows; "" when none
  bool complete = false;    // the stream ended cleanly with the intake's summary
};

// Proof of notice as it streams in (`incident proof`): Add for each proof in
// order, then End with the summary, or with nullptr when the stream failed
// before its last chunk (what was printed stays well-formed; nothing is
// printed when it failed before its first proof). Each proof is
// flagged met, missed or pending (JudgeNotice) against `now`, the CLI's
// clock; the summary is the intake's.
class ProofPrinter {
 public:
  virtual ~ProofPrinter() = default;
  virtual void Add(const v1::NoticeProof& proof) = 0;
  virtual void End(const v1::ProofSummary* summary) = 0;
};

// A table, one row per notice and channel, and the summary line after it.
std::unique_ptr<ProofPrinter> MakeTextProofPrinter(std::ostream& out, const std::string& incident_id,
                                                   absl::Time now);
// CSV (RFC 4180) with a header row, one record per notice and channel; the
// summary line goes to `err`, so `out` holds only the table.
std::unique_ptr<ProofPrinter> MakeCsvProofPrinter(std::ostream& out, std::ostream& err, absl::Time now);
// One JSON document {"incident_id", "proofs": [...], "summary"} written as
// the proofs come, in the JSON printer's layout (indented by 2, keys
// sorted); "summary" is null when the stream failed.
std::unique_ptr<ProofPrinter> MakeJsonProofPrinter(std::ostream& out, const std::string& incident_id,
                                                   absl::Time now);

class Printer {
 public:
  virtual ~Printer() = default;
  virtual void Print(const v1::Incident& incident) = 0;
  virtual void Print(const v1::ListIncidentsResponse& list) = 0;
  virtual void Print(const v1::IncidentHistory& history) = 0;
  virtual void Print(const v1::DeliveryReport& report) = 0;
  virtual void Print(const v1::ReconcileIncidentResponse& completeness) = 0;
  virtual void Print(const v1::PreviewNoticesResponse& previews) = 0;
  virtual void Print(const v1::AudienceSize& size) = 0;
  virtual void Print(const v1::ListDeadLettersResponse& dead_letters) = 0;
  virtual void Print(const v1::ReplayDeadLettersResponse& replay) = 0;
  virtual void Print(const v1::Customer& customer) = 0;
  virtual void Print(const v1::DeleteCustomerResponse& erasure) = 0;
  virtual void Print(const ImportReport& report) = 0;
  virtual void Print(const v1::UpsertAssetsResponse& counts) = 0;  // an assets import's totals
  virtual void Print(const v1::ListAssetsResponse& assets) = 0;
  virtual void Print(const v1::UploadedAudience& audience) = 0;
  // This printer's form of a proof of notice (text: the table; JSON: the document).
  virtual std::unique_ptr<ProofPrinter> Proofs(const std::string& incident_id, absl::Time now) = 0;
};

// Tables and labelled lines on `out`; warnings (an SMS over its segment
// budget) on `err`.
std::unique_ptr<Printer> MakeTextPrinter(std::ostream& out, std::ostream& err);
// One JSON document per result on `out`, indented by 2, keys sorted; invalid
// UTF-8 replaced by U+FFFD.
std::unique_ptr<Printer> MakeJsonPrinter(std::ostream& out);

}  // namespace forewarn::cli
