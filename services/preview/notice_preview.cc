#include "services/preview/notice_preview.h"

#include <fstream>
#include <set>

#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"
#include "notifier/sms/sms_segments.h"
#include "services/core/validation.h"

namespace forewarn {
namespace {

// What the incident's current state tells customers.
NoticeKind CurrentKind(const Incident& i) {
  switch (i.kind) {
    case IncidentKind::kUnplannedOutage:
      if (i.state != IncidentState::kOpen) return NoticeKind::kOutageRestored;
      return i.version == 1 ? NoticeKind::kOutageStarted : NoticeKind::kOutageUpdated;
    case IncidentKind::kPlannedMaintenance:
      if (i.state == IncidentState::kResolved) return NoticeKind::kMaintenanceCompleted;
      if (i.state == IncidentState::kCancelled) return NoticeKind::kMaintenanceCancelled;
      return i.version == 1 ? NoticeKind::kMaintenanceReminder : NoticeKind::kMaintenanceRescheduled;
    case IncidentKind::kIbanChange:
      return NoticeKind::kIbanChangeHolder;
  }
  return NoticeKind::kOutageStarted;
}

}  // namespace

absl::StatusOr<SmsBudgets> SmsBudgets::Load(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::FailedPreconditionError(absl::StrCat("cannot read SMS budgets ", path));
  SmsBudgets b;
  try {
    const auto doc = nlohmann::json::parse(in);
    for (const auto& [kind, v] : doc.items()) {
      if (kind.starts_with("_")) continue;
      if (kind != "default" && !ParseNoticeKind(kind).ok()) {
        return absl::FailedPreconditionError(absl::StrCat(path, ": unknown notice kind '", kind, "'"));
      }
      b.budgets_[kind] = {v.at("gsm7").get<int>(), v.at("ucs2").get<int>()};
    }
  } catch (const std::exception& e) {
    return absl::FailedPreconditionError(absl::StrCat(path, ": ", e.what()));
  }
  if (!b.budgets_.contains("default")) {
    return absl::FailedPreconditionError(absl::StrCat(path, ": a \"default\" budget is required"));
  }
  return b;
}

int SmsBudgets::Budget(NoticeKind kind, bool ucs2) const {
  auto it = budgets_.find(ToString(kind));
  if (it == budgets_.end()) it = budgets_.find("default");
  return ucs2 ? it->second.second : it->second.first;
}

absl::StatusOr<AudienceSize> NoticePreviewer::Audience(IncidentKind kind, const std::vector<std::string>& services,
                                                      const Targets& targets) {
  auto checked = ValidateSelection(services, targets, limits_);
  if (!checked.ok()) return checked.status();
  return audience_.Size(kind, services, *checked);
}

absl::StatusOr<Preview> NoticePreviewer::Run(const std::string& incident_id, int64_t customer_id,
                                             std::optional<NoticeKind> kind) {
  if (auto s = ValidateIncidentId("incident_id", incident_id); !s.ok()) return s;
  if (customer_id < 0) return absl::InvalidArgumentError("customer_id: must not be negative");
  auto current = store_.Get(incident_id);
  if (!current.ok()) return current.status();
  auto incident = reader_.GetVersion(incident_id, current->version);
  if (!incident.ok()) return incident.status();

  Preview preview;
  preview.kind = kind.value_or(CurrentKind(*incident));
  preview.version = incident->version;
  std::set<std::pair<std::string, Channel>> sampled;
  absl::Status render_status = absl::OkStatus();
  auto status = audience_.ForEachRecipient(*incident, [&](const Recipient& r) {
    (r.channel == Channel::kSms ? preview.sms_recipients : preview.email_recipients)++;
    const bool wanted = customer_id != 0 ? r.customer_id == customer_id : sampled.insert({r.locale, r.channel}).second;
    if (!wanted) return absl::OkStatus();
    NoticeJob job;
    job.incident_id = incident_id;
    job.version = incident->version;
    job.kind = preview.kind;
    job.recipient = r;
    if (r.role == AudienceRole::kBeneficiary) job.kind = NoticeKind::kIbanChangeBeneficiary;
    if (job.kind == NoticeKind::kMaintenanceReminder) job.occasion = "lead-48h";
    auto rendered = renderer_.Render(job, *incident);
    if (!rendered.ok()) {
      render_status = rendered.status();
      return absl::OkStatus();
    }
    PreviewItem item{r, *rendered, "", 0, 0};
    if (r.channel == Channel::kSms) {
      const SmsCost cost = CountSmsSegments(rendered->text);
      item.sms_encoding = ToString(cost.encoding);
      item.sms_segments = cost.segments;
      item.sms_budget = budgets_.Budget(job.kind, cost.encoding == SmsEncoding::kUcs2);
    }
    preview.items.push_back(std::move(item));
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  if (!render_status.ok()) return render_status;
  if (incident->kind != IncidentKind::kIbanChange) {
    auto size = audience_.Size(incident->kind, incident->services, TargetsOf(*incident));
    if (!size.ok()) return size.status();
    preview.audience = *std::move(size);
  }
  if (customer_id != 0 && preview.items.empty()) {
    return absl::NotFoundError(absl::StrCat("customer ", customer_id, " is not in this incident's audience"));
  }
  preview.estimated_completion = EstimatedCompletion(preview);
  return preview;
}

std::optional<absl::Duration> NoticePreviewer::EstimatedCompletion(const Preview& preview) const {
  absl::Duration eta = absl::ZeroDuration();
  bool limited = false;
  if (rates_.sms_per_second > 0) {
    eta = std::max(eta, absl::Seconds(preview.sms_recipients / rates_.sms_per_second));
    limited = true;
  }
  if (rates_.email_per_second > 0) {
    eta = std::max(eta, absl::Seconds(preview.email_recipients / rates_.email_per_second));
    limited = true;
  }
  if (!limited) return std::nullopt;
  return eta;
}

}  // namespace forewarn
