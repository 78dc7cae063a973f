#include "services/core/incident_service.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "services/core/incident_ref.h"
#include "services/core/reconcile.h"

namespace forewarn {

namespace {

std::string AuditTime(absl::Time t) { return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", t, absl::UTCTimeZone()); }

// Quoted and shortened so that a summary stays one readable line.
std::string AuditText(const std::string& text) {
  constexpr size_t kMax = 120;
  std::string out = text.size() <= kMax ? text : text.substr(0, kMax);
  if (out.size() < text.size()) {
    while (!out.empty() && (static_cast<unsigned char>(out.back()) & 0xC0) == 0x80) out.pop_back();  // UTF-8
    if (!out.empty() && (static_cast<unsigned char>(out.back()) & 0xC0) == 0xC0) out.pop_back();
    out += "...";
  }
  for (auto& c : out) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  return absl::StrCat("\"", out, "\"");
}

std::string DescribeTargets(const Incident& i) {
  std::vector<std::string> parts;
  if (!i.regions.empty()) parts.push_back(absl::StrCat("regions: ", absl::StrJoin(i.regions, ",")));
  if (!i.asset_codes.empty()) parts.push_back(absl::StrCat("asset_codes: ", absl::StrJoin(i.asset_codes, ",")));
  if (!i.audience_id.empty()) parts.push_back(absl::StrCat("audience_id: ", i.audience_id));
  if (i.area) {
    std::string area = i.area->circle ? absl::StrCat("circle ", i.area->circle->latitude, ",", i.area->circle->longitude,
                                                     " r=", i.area->circle->radius_meters, "m")
                                      : "polygon";
    if (!i.area->name.en.empty()) absl::StrAppend(&area, " ", AuditText(i.area->name.en));
    parts.push_back(absl::StrCat("area: ", area));
  }
  return absl::StrJoin(parts, "; ");
}

}  // namespace

std::string DescribeCreate(const Incident& i) {
  std::string out = absl::StrCat("created ", ToString(i.kind));
  if (i.kind == IncidentKind::kIbanChange) {
    absl::StrAppend(&out, "; effective_at: ", AuditTime(i.starts_at));
  } else {
    absl::StrAppend(&out, "; services: ", absl::StrJoin(i.services, ","), "; ", DescribeTargets(i),
                    "; starts_at: ", AuditTime(i.starts_at), "; expected_restoration_at: ",
                    AuditTime(i.expected_restoration_at));
  }
  absl::StrAppend(&out, "; reason.en: ", AuditText(i.reason.en));
  return out;
}

std::string DescribeUpdate(const Incident& before, const Incident& after) {
  std::vector<std::string> parts;
  if (before.starts_at != after.starts_at) {
    parts.push_back(absl::StrCat("starts_at: ", AuditTime(before.starts_at), " -> ", AuditTime(after.starts_at)));
  }
  if (before.expected_restoration_at != after.expected_restoration_at) {
    parts.push_back(absl::StrCat("expected_restoration_at: ", AuditTime(before.expected_restoration_at), " -> ",
                                 AuditTime(after.expected_restoration_at)));
  }
  if (TargetsOf(before) != TargetsOf(after)) {
    parts.push_back(absl::StrCat("targets: {", DescribeTargets(before), "} -> {", DescribeTargets(after), "}"));
  }
  if (before.reason.en != after.reason.en) {
    parts.push_back(absl::StrCat("reason.en: ", AuditText(before.reason.en), " -> ", AuditText(after.reason.en)));
  }
  if (before.reason.ar != after.reason.ar) {
    parts.push_back(absl::StrCat("reason.ar: ", AuditText(before.reason.ar), " -> ", AuditText(after.reason.ar)));
  }
  if (parts.empty()) return "no field changed";
  return absl::StrJoin(parts, "; ");
}

absl::StatusOr<Incident> IncidentService::Create(const NewIncident& req, const std::string& actor) {
  const absl::Time now = clock_.Now();
  auto normalized = ValidateNewIncident(req, now, limits_);
  if (!normalized.ok()) return normalized.status();
  // The store keeps the request as sent (for idempotency) and fills the
  // defaults; the plan is made from the incident as stored.
  // The summary is made from the incident as stored, with the plan.
  ChangeAudit audit{actor, ""};
  return store_.Create(
      *normalized, now,
      [&](const Incident& created) {
        audit.summary = DescribeCreate(created);
        return PlanNotices(Change::kCreated, created, now, policy_);
      },
      audit);
}

absl::StatusOr<Incident> IncidentService::GetOpen(const std::string& id) {
  if (auto s = ValidateIncidentId("id", id); !s.ok()) return s;
  auto current = store_.Get(id);
  if (!current.ok()) return current.status();
  if (current->state != IncidentState::kOpen) {
    return absl::FailedPreconditionError(absl::StrCat("incident ", id, " is ", ToString(current->state)));
  }
  return current;
}

absl::StatusOr<Incident> IncidentService::Update(const IncidentUpdate& req, const std::string& actor) {
  auto current = GetOpen(req.id);
  if (!current.ok()) return current.status();
  const absl::Time now = clock_.Now();
  IncidentUpdate checked;
  if (auto s = ValidateUpdate(req, *current, now, limits_, &checked); !s.ok()) return s;
  // Pin the version we validated against so a concurrent change is detected.
  if (checked.expected_version == 0) checked.expected_version = current->version;
  Incident after = *current;
  if (req.reason) after.reason = *req.reason;
  if (req.starts_at) after.starts_at = *req.starts_at;
  if (req.expected_restoration_at) after.expected_restoration_at = *req.expected_restoration_at;
  if (checked.targets) SetTargets(after, *checked.targets);
  // The version is pinned, so `current` is exactly what this update changes.
  return store_.Update(checked, now, PlanUpdate(*current, after, now, policy_),
                       ChangeAudit{actor, DescribeUpdate(*current, after)});
}

absl::StatusOr<Incident> IncidentService::Resolve(const std::string& id, int64_t expected_version,
                                                  const std::string& actor) {
  if (expected_version < 0) return absl::InvalidArgumentError("expected_version: must not be negative");
  auto current = GetOpen(id);
  if (!current.ok()) return current.status();
  if (current->kind == IncidentKind::kIbanChange) {
    return absl::FailedPreconditionError("an IBAN change takes effect on its date; it can only be cancelled");
  }
  const absl::Time now = clock_.Now();
  return store_.Resolve(id, expected_version, now, PlanNotices(Change::kResolved, *current, now, policy_),
                        ChangeAudit{actor, "state: open -> resolved"});
}

absl::StatusOr<Incident> IncidentService::Cancel(const std::string& id, int64_t expected_version,
                                                 const std::string& actor) {
  if (expected_version < 0) return absl::InvalidArgumentError("expected_version: must not be negative");
  auto current = GetOpen(id);
  if (!current.ok()) return current.status();
  if (current->kind == IncidentKind::kUnplannedOutage) {
    return absl::FailedPreconditionError("an unplanned outage cannot be cancelled; resolve it when service is back");
  }
  const absl::Time now = clock_.Now();
  return store_.Cancel(id, expected_version, now, PlanNotices(Change::kCancelled, *current, now, policy_),
                       ChangeAudit{actor, "state: open -> cancelled"});
}

absl::StatusOr<Incident> IncidentService::Get(const std::string& id) {
  if (auto s = ValidateIncidentId("id", id); !s.ok()) return s;
  return store_.Get(id);
}

absl::StatusOr<IncidentPage> IncidentService::List(const ListFilter& filter) {
  if (filter.page_size < 0 || filter.page_size > 500) {
    return absl::InvalidArgumentError("page_size: must be between 0 and 500");
  }
  ListFilter f = filter;
  if (f.page_size == 0) f.page_size = 50;
  return store_.List(f);
}

absl::StatusOr<DeliveryReport> IncidentService::Report(const std::string& id, int max_failures) {
  if (auto s = ValidateIncidentId("incident_id", id); !s.ok()) return s;
  if (max_failures < 0 || max_failures > 10000) {
    return absl::InvalidArgumentError("max_failures: must be between 0 and 10000");
  }
  if (auto s = RequireLedger(retention_, id); !s.ok()) return s;
  return store_.Report(id, max_failures == 0 ? 100 : max_failures);
}

absl::StatusOr<std::vector<IncidentChangeRecord>> IncidentService::History(const std::string& id) {
  if (auto s = ValidateIncidentId("id", id); !s.ok()) return s;
  return store_.History(id);
}

absl::StatusOr<std::string> IncidentService::ResolveId(std::string_view field, std::string_view typed) {
  const absl::string_view text(typed.data(), typed.size());
  if (text.empty() || IsUuid(text)) return std::string(text);
  const std::string ref = NormalizeIncidentRef(typed);
  if (!IsIncidentRef(ref)) {
    constexpr size_t kShown = 40;  // of whatever was typed
    return absl::InvalidArgumentError(absl::StrCat(absl::string_view(field.data(), field.size()), ": '",
                                                   text.substr(0, kShown), text.size() > kShown ? "...'" : "'",
                                                   " is neither an incident id (a UUID) nor a reference like "
                                                   "RIY-4K7Q"));
  }
  return store_.IdForRef(ref);
}

absl::StatusOr<Completeness> IncidentService::Reconcile(const std::string& id, bool redrive, int max_listed) {
  if (auto s = ValidateIncidentId("id", id); !s.ok()) return s;
  if (max_listed < 0 || max_listed > 10000) {
    return absl::InvalidArgumentError("max_listed: must be between 0 and 10000");
  }
  if (auto s = RequireLedger(retention_, id); !s.ok()) return s;
  auto check = store_.CheckCompleteness(id, max_listed, clock_.Now(), redrive ? RedriveDecision(DecideRedrive)
                                                                             : RedriveDecision());
  if (check.ok() && !check->kind) check->note = NothingQueuedNote(check->version);
  return check;
}

}  // namespace forewarn
