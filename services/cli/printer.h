#pragma once

// How the CLI shows a result: as text for people or as JSON for scripts
// (--json). A command fetches its result and hands it to the printer; it never
// formats output itself.

#include <memory>
#include <ostream>

#include <string>

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
};

// Tables and labelled lines on `out`; warnings (an SMS over its segment
// budget) on `err`.
std::unique_ptr<Printer> MakeTextPrinter(std::ostream& out, std::ostream& err);
// One JSON document per result on `out`, indented by 2, keys sorted; invalid
// UTF-8 replaced by U+FFFD.
std::unique_ptr<Printer> MakeJsonPrinter(std::ostream& out);

}  // namespace forewarn::cli
