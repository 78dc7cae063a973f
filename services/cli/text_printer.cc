#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "services/cli/format.h"
#include "services/cli/printer.h"

namespace forewarn::cli {
namespace {

// "sms, email", "sms", "email" or "none".
std::string Channels(const v1::ChannelSet& set, bool present) {
  if (!present || (set.sms() && set.email())) return "sms, email";
  if (set.sms()) return "sms";
  return set.email() ? "email" : "none";
}

// "missing" for a recipient without a notice, else the notice's state.
std::string RecipientState(const v1::UninformedRecipient& r) {
  return r.state() == v1::NOTICE_STATE_UNSPECIFIED ? std::string("missing") : Name(r.state());
}

class TextPrinter final : public Printer {
 public:
  TextPrinter(std::ostream& out, std::ostream& err) : out_(out), err_(err) {}

  void Print(const v1::Incident& i) override {
    out_ << "Incident " << (i.ref().empty() ? "" : i.ref() + " ") << i.id() << " (version " << i.version() << ", " << Name(i.state()) << ")\n"
         << "  kind:          " << Name(i.kind()) << "\n"
         << "  services:      " << absl::StrJoin(i.services(), ", ") << "\n"
         << "  regions:       " << absl::StrJoin(i.regions(), ", ") << "\n";
    if (i.asset_codes_size() > 0) out_ << "  assets:        " << absl::StrJoin(i.asset_codes(), ", ") << "\n";
    if (!i.audience_id().empty()) out_ << "  audience list: " << i.audience_id() << "\n";
    if (i.has_area()) out_ << "  area:          " << DescribeArea(i.area()) << "\n";
    out_ << "  reason (en):   " << i.reason().en() << "\n"
         << "  reason (ar):   " << i.reason().ar() << "\n"
         << "  starts:        " << FormatTime(i.starts_at()) << "\n"
         << "  restoration:   " << FormatTime(i.expected_restoration_at()) << "\n";
    if (i.has_resolved_at()) out_ << "  resolved:      " << FormatTime(i.resolved_at()) << "\n";
    if (!i.old_iban().empty()) {
      out_ << "  old IBAN:      " << i.old_iban() << "\n"
           << "  new IBAN:      " << i.new_iban() << "\n";
    }
  }

  void Print(const v1::ListIncidentsResponse& list) override {
    out_ << absl::StrFormat("%-10s  %-36s  %3s  %-8s  %-20s  %-20s  %s\n", "REF", "ID", "VER", "STATE", "STARTS",
                            "RESTORATION", "SERVICES/REGIONS");
    for (const auto& i : list.incidents()) {
      out_ << absl::StrFormat("%-10s  %-36s  %3d  %-8s  %-20s  %-20s  %s / %s\n", i.ref(), i.id(), i.version(),
                              Name(i.state()),
                              FormatTime(i.starts_at()), FormatTime(i.expected_restoration_at()),
                              absl::StrJoin(i.services(), ","), absl::StrJoin(i.regions(), ","));
    }
  }

  void Print(const v1::IncidentHistory& history) override {
    out_ << "History of incident " << history.incident_id() << "\n";
    out_ << absl::StrFormat("  %3s  %-20s  %-9s  %-20s  %s\n", "VER", "WHEN", "CHANGE", "ACTOR", "WHAT");
    for (const auto& c : history.changes()) {
      out_ << absl::StrFormat("  %3d  %-20s  %-9s  %-20s  %s\n", c.version(), FormatTime(c.changed_at()), c.change(),
                              c.actor(), c.summary());
    }
  }

  void Print(const v1::DeliveryReport& report) override {
    out_ << "Delivery report for incident " << report.incident_id() << " (now at version "
         << report.incident_version() << ")\n";
    out_ << absl::StrFormat("  %-7s  %-34s  %-7s  %-10s  %8s\n", "VERSION", "NOTICE", "CHANNEL", "STATE", "COUNT");
    for (const auto& c : report.counts()) {
      const std::string notice =
          c.occasion().empty() ? c.notice_kind() : absl::StrCat(c.notice_kind(), " (", c.occasion(), ")");
      out_ << absl::StrFormat("  %-7d  %-34s  %-7s  %-10s  %8d\n", c.incident_version(), notice, Name(c.channel()),
                              Name(c.state()), c.count());
    }
    if (report.counts().empty()) out_ << "  (no notices recorded yet)\n";
    if (!report.uninformed_notice_kind().empty()) {
      out_ << "Not yet told of version " << report.incident_version() << " (" << report.uninformed_notice_kind()
           << "): " << report.uninformed() << " notice" << Plural(report.uninformed()) << " to "
           << report.uninformed_customers() << " customer" << Plural(report.uninformed_customers())
           << (report.uninformed() > 0 ? " (see: forewarn incident reconcile ID)" : "") << "\n";
    }
    if (!report.failures().empty()) {
      out_ << "Failures:\n";
      for (const auto& f : report.failures()) {
        out_ << "  customer " << f.customer_id() << " " << Name(f.channel()) << " v" << f.incident_version() << " "
             << f.notice_kind() << ": " << f.error() << "\n";
      }
    }
  }

  void Print(const v1::ReconcileIncidentResponse& r) override {
    out_ << "Completeness of incident " << r.incident_id() << " version " << r.incident_version();
    if (!r.notice_kind().empty()) {
      out_ << " (" << r.notice_kind() << (r.occasion().empty() ? "" : ", " + r.occasion()) << ")";
    }
    out_ << "\n  audience:    " << r.audience() << " notices (customer x channel)\n"
         << "  uninformed:  " << r.uninformed() << " notices to " << r.uninformed_customers() << " customers ("
         << r.missing() << " missing, " << r.failed() << " failed, " << r.dead_lettered() << " dead-lettered, "
         << r.pending() << " pending)\n";
    for (const auto& u : r.recipients()) {
      out_ << "    customer " << u.customer_id() << " " << Name(u.channel()) << ": " << RecipientState(u) << "\n";
    }
    if (r.recipients_size() < r.uninformed()) {
      out_ << "    ... and " << r.uninformed() - r.recipients_size() << " more\n";
    }
    if (r.redriven()) {
      out_ << "Re-driven: the fan-out of version " << r.incident_version()
           << " was queued again; only those not yet told will get a notice.\n";
    } else if (!r.note().empty()) {
      out_ << "Not re-driven: " << r.note() << "\n";
    }
  }

  void Print(const v1::PreviewNoticesResponse& resp) override {
    out_ << "Notice " << resp.notice_kind() << " of version " << resp.incident_version() << "\n";
    for (const auto& p : resp.previews()) PrintPreview(p);
    out_ << "\nAudience: " << resp.sms_recipients() << " SMS, " << resp.email_recipients() << " email\n";
    if (resp.has_audience()) PrintSelectors(resp.audience());
    if (const double eta = EstimatedSeconds(resp); eta >= 0) {
      out_ << absl::StrFormat("Estimated completion at %g SMS/s and %g email/s: %.0f s\n", resp.sms_rate(),
                              resp.email_rate(), eta);
    } else {
      out_ << "Estimated completion: no provider rate limits configured\n";
    }
  }

  void Print(const v1::AudienceSize& size) override {
    out_ << "Audience: " << size.customers() << " customer" << Plural(size.customers()) << " ("
         << size.sms_recipients() << " SMS, " << size.email_recipients() << " email)\n";
    PrintSelectors(size);
  }

  void Print(const v1::ListDeadLettersResponse& resp) override {
    out_ << resp.pending() << " dead-lettered notice" << Plural(resp.pending()) << " waiting for a replay\n";
    if (resp.dead_letters_size() > 0) {
      out_ << absl::StrFormat("  %-20s  %-36s  %3s  %-22s  %10s  %-5s  %-16s  %3s  %s\n", "DEAD AT", "INCIDENT", "VER",
                              "KIND", "CUSTOMER", "CHAN", "TO", "ATT", "LAST ERROR");
    }
    for (const auto& d : resp.dead_letters()) {
      out_ << absl::StrFormat("  %-20s  %-36s  %3d  %-22s  %10d  %-5s  %-16s  %3d  %s\n", FormatTime(d.dead_at()),
                              d.incident_id(), d.incident_version(),
                              d.notice_kind() + (d.occasion().empty() ? "" : "/" + d.occasion()), d.customer_id(),
                              Name(d.channel()), d.masked_address(), d.attempts(), d.last_error());
    }
    if (resp.dead_letters_size() < resp.pending()) {
      out_ << "  ... and " << resp.pending() - resp.dead_letters_size() << " more\n";
    }
  }

  void Print(const v1::ReplayDeadLettersResponse& resp) override {
    out_ << "Replayed " << resp.replayed() << " dead-lettered notice" << Plural(resp.replayed())
         << " with fresh delivery attempts.\n";
  }

  void Print(const v1::Customer& c) override {
    std::vector<std::string> services, beneficiaries;
    for (const auto& s : c.services()) services.push_back(absl::StrCat(s.service(), "/", s.region()));
    for (const auto& b : c.beneficiaries()) {
      beneficiaries.push_back(b.nickname().empty() ? b.iban() : absl::StrCat(b.iban(), " (", b.nickname(), ")"));
    }
    const v1::Preferences& p = c.preferences();
    out_ << "Customer " << c.external_id() << " (id " << c.id() << ")\n"
         << "  name:                " << c.name() << "\n"
         << "  language:            " << c.language() << "\n"
         << "  time zone:           " << c.time_zone() << "\n"
         << "  phone:               " << c.phone() << "\n"
         << "  email:               " << c.email() << "\n"
         << "  services:            " << absl::StrJoin(services, ", ") << "\n"
         << "  accounts:            " << absl::StrJoin(c.accounts(), ", ") << "\n"
         << "  beneficiaries:       " << absl::StrJoin(beneficiaries, ", ") << "\n"
         << "  unplanned outages:   " << Channels(p.unplanned_outages(), p.has_unplanned_outages()) << "\n"
         << "  planned maintenance: " << Channels(p.planned_maintenance(), p.has_planned_maintenance()) << "\n"
         << "  banking changes:     " << Channels(p.banking_changes(), p.has_banking_changes()) << "\n";
    std::vector<std::string> links;
    for (const auto& l : c.assets()) links.push_back(absl::StrCat(l.service(), ":", l.asset()));
    if (!links.empty()) out_ << "  assets:              " << absl::StrJoin(links, ", ") << "\n";
    if (c.has_location()) {
      out_ << "  location:            " << c.location().latitude() << ", " << c.location().longitude() << "\n";
    }
  }

  void Print(const v1::DeleteCustomerResponse& r) override {
    out_ << "Erased customer " << r.id() << ": personal data removed; " << r.held_notices_removed() << " held notice"
         << Plural(r.held_notices_removed()) << " removed, " << r.notices_closed() << " open notice"
         << Plural(r.notices_closed()) << " closed\n";
  }

  void Print(const v1::UploadedAudience& a) override {
    out_ << "Audience " << a.audience_id() << ": " << a.entries() << " entr" << (a.entries() == 1 ? "y" : "ies")
         << ", " << a.customers() << " customer" << Plural(a.customers()) << ", " << a.unknown() << " unknown\n";
    if (a.unknown_sample_size() == 0) return;
    out_ << "Unknown entries" << (a.unknown_sample_size() < a.unknown() ? " (first " : " (")
         << a.unknown_sample_size() << "):\n";
    for (const auto& s : a.unknown_sample()) out_ << "  " << s << "\n";
  }

  std::unique_ptr<ProofPrinter> Proofs(const std::string& incident_id, absl::Time now) override {
    return MakeTextProofPrinter(out_, incident_id, now);
  }

  void Print(const ImportReport& r) override {
    const auto& s = r.summary;
    const int64_t rows = s.inserted() + s.updated() + s.unchanged() + s.rejected();
    out_ << (s.dry_run() ? "Dry run (nothing written): " : "") << (r.complete ? "" : "incomplete: ") << "inserted "
         << s.inserted() << ", updated " << s.updated() << ", unchanged " << s.unchanged() << ", rejected "
         << s.rejected() << ", deleted " << s.deleted()
         << absl::StrFormat(" in %.1f s (%.0f rows/s)", r.elapsed_seconds,
                            r.elapsed_seconds > 0 ? rows / r.elapsed_seconds : 0.0)
         << "\n";
    if (!r.report_path.empty()) out_ << "Rejected rows: " << r.report_path << "\n";
  }

  void Print(const v1::UpsertAssetsResponse& r) override {
    out_ << "Assets: inserted " << r.inserted() << ", updated " << r.updated() << ", unchanged " << r.unchanged()
         << "\n";
  }

  void Print(const v1::ListAssetsResponse& list) override {
    out_ << absl::StrFormat("%-24s  %-12s  %-24s  %9s  %s\n", "CODE", "KIND", "PARENT", "CUSTOMERS", "NAME (EN / AR)");
    for (int i = 0; i < list.assets_size(); ++i) {
      const auto& a = list.assets(i);
      out_ << absl::StrFormat("%-24s  %-12s  %-24s  %9d  %s / %s\n", a.code(), a.kind(), a.parent_code(),
                              i < list.customers_size() ? list.customers(i) : 0, a.name().en(), a.name().ar());
    }
    if (list.assets().empty()) out_ << "(no assets)\n";
  }

 private:
  // Customers per selector: each counts a customer it reaches, even when
  // another selector reaches them too.
  void PrintSelectors(const v1::AudienceSize& size) {
    for (const auto& s : size.selectors()) {
      out_ << absl::StrFormat("  %-10s %10d customer%s\n", s.selector() + ":", s.customers(), Plural(s.customers()));
    }
  }

  static std::string DescribeArea(const v1::Area& a) {
    std::string out = a.has_circle() ? absl::StrFormat("circle %.6f,%.6f radius %.0f m", a.circle().latitude(),
                                                       a.circle().longitude(), a.circle().radius_meters())
                                     : absl::StrCat("polygon (", a.geojson().size(), " bytes of GeoJSON)");
    if (!a.name().en().empty()) absl::StrAppend(&out, " \"", a.name().en(), "\"");
    return out;
  }

  void PrintPreview(const v1::NoticePreview& p) {
    out_ << "\n-- customer " << p.customer_id() << ", " << p.locale() << ", " << Name(p.channel());
    if (p.channel() == v1::SMS) {
      out_ << " (" << p.sms_encoding() << ", " << p.sms_segments() << " segment" << Plural(p.sms_segments())
           << ", budget " << p.sms_budget() << ")";
    }
    out_ << "\n";
    if (!p.subject().empty()) out_ << "Subject: " << p.subject() << "\n";
    out_ << p.text() << "\n";
    if (p.over_budget()) {
      err_ << "warning: the SMS to customer " << p.customer_id() << " (" << p.locale() << ") is " << p.sms_segments()
           << " segments, over the budget of " << p.sms_budget() << "\n";
    }
  }

  std::ostream& out_;
  std::ostream& err_;
};

}  // namespace

std::unique_ptr<Printer> MakeTextPrinter(std::ostream& out, std::ostream& err) {
  return std::make_unique<TextPrinter>(out, err);
}

}  // namespace forewarn::cli
