#include "services/core/model.h"
#include "services/core/ports.h"

#include <array>
#include <string>
#include <utility>

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"

namespace forewarn {
namespace {

template <typename E, size_t N>
absl::StatusOr<E> ParseEnum(std::string_view s, const std::array<std::pair<E, std::string>, N>& table,
                            const char* what) {
  for (const auto& [value, name] : table) {
    if (name == s) return value;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("unknown ", what, " '", absl::string_view(s.data(), s.size()), "'"));
}

template <typename E, size_t N>
const std::string& NameOf(E v, const std::array<std::pair<E, std::string>, N>& table) {
  static const std::string kUnknown = "unknown";
  for (const auto& [value, name] : table) {
    if (value == v) return name;
  }
  return kUnknown;
}

const std::array<std::pair<IncidentKind, std::string>, 3> kIncidentKinds{{
    {IncidentKind::kUnplannedOutage, "unplanned_outage"},
    {IncidentKind::kPlannedMaintenance, "planned_maintenance"},
    {IncidentKind::kIbanChange, "iban_change"},
}};
const std::array<std::pair<IncidentState, std::string>, 3> kIncidentStates{{
    {IncidentState::kOpen, "open"},
    {IncidentState::kResolved, "resolved"},
    {IncidentState::kCancelled, "cancelled"},
}};
const std::array<std::pair<Channel, std::string>, 2> kChannels{{
    {Channel::kSms, "sms"},
    {Channel::kEmail, "email"},
}};
const std::array<std::pair<NoticeState, std::string>, 10> kNoticeStates{{
    {NoticeState::kClaimed, "claimed"},
    {NoticeState::kSent, "sent"},
    {NoticeState::kFailed, "failed"},
    {NoticeState::kHeld, "held"},
    {NoticeState::kSuperseded, "superseded"},
    {NoticeState::kRetrying, "retrying"},
    {NoticeState::kDead, "dead"},
    {NoticeState::kDelivered, "delivered"},
    {NoticeState::kUndelivered, "undelivered"},
    {NoticeState::kExpired, "expired"},
}};
const std::array<std::pair<NoticeKind, std::string>, 12> kNoticeKinds{{
    {NoticeKind::kOutageStarted, "outage_started"},
    {NoticeKind::kOutageUpdated, "outage_updated"},
    {NoticeKind::kOutageRestored, "outage_restored"},
    {NoticeKind::kOutageOverdue, "outage_overdue"},
    {NoticeKind::kMaintenanceScheduled, "maintenance_scheduled"},
    {NoticeKind::kMaintenanceReminder, "maintenance_reminder"},
    {NoticeKind::kMaintenanceStarted, "maintenance_started"},
    {NoticeKind::kMaintenanceCompleted, "maintenance_completed"},
    {NoticeKind::kMaintenanceRescheduled, "maintenance_rescheduled"},
    {NoticeKind::kMaintenanceCancelled, "maintenance_cancelled"},
    {NoticeKind::kIbanChangeHolder, "iban_change_holder"},
    {NoticeKind::kIbanChangeBeneficiary, "iban_change_beneficiary"},
}};

const std::array<std::pair<NoticeCategory, std::string>, 3> kNoticeCategories{{
    {NoticeCategory::kUnplannedOutages, "unplanned_outages"},
    {NoticeCategory::kPlannedMaintenance, "planned_maintenance"},
    {NoticeCategory::kBankingChanges, "banking_changes"},
}};

const std::array<std::pair<AudienceRole, std::string>, 3> kRoles{{
    {AudienceRole::kAffected, "affected"},
    {AudienceRole::kAccountHolder, "holder"},
    {AudienceRole::kBeneficiary, "beneficiary"},
}};

}  // namespace

const std::string& ToString(AudienceRole r) { return NameOf(r, kRoles); }
AudienceRole ParseAudienceRole(std::string_view s) {
  return ParseEnum(s, kRoles, "audience role").value_or(AudienceRole::kAffected);
}

AudienceScope ScopeOfOccasion(std::string_view occasion) {
  if (occasion == "joined") return AudienceScope::kJoined;
  if (occasion == "left") return AudienceScope::kLeft;
  if (occasion == "stayed") return AudienceScope::kStayed;
  return AudienceScope::kAll;
}

std::string_view OccasionOf(AudienceScope scope) {
  switch (scope) {
    case AudienceScope::kJoined: return "joined";
    case AudienceScope::kLeft: return "left";
    case AudienceScope::kStayed: return "stayed";
    case AudienceScope::kAll: break;
  }
  return "";
}

bool SupersededBy(int64_t current_version, int64_t version, std::string_view occasion) {
  const AudienceScope scope = ScopeOfOccasion(occasion);
  return current_version > version && scope != AudienceScope::kJoined && scope != AudienceScope::kLeft;
}

std::optional<absl::Time> RestoredAt(const Incident& incident, std::string_view occasion) {
  if (incident.resolved_at || ScopeOfOccasion(occasion) != AudienceScope::kLeft) return incident.resolved_at;
  return incident.updated_at;
}

Targets TargetsOf(const Incident& i) { return Targets{i.regions, i.asset_codes, i.audience_id, i.area}; }

void SetTargets(Incident& i, const Targets& t) {
  i.regions = t.regions;
  i.asset_codes = t.asset_codes;
  i.audience_id = t.audience_id;
  i.area = t.area;
}

const std::string& ToString(IncidentKind k) { return NameOf(k, kIncidentKinds); }
const std::string& ToString(IncidentState s) { return NameOf(s, kIncidentStates); }
const std::string& ToString(Channel c) { return NameOf(c, kChannels); }
const std::string& ToString(NoticeState s) { return NameOf(s, kNoticeStates); }
const std::string& ToString(NoticeKind k) { return NameOf(k, kNoticeKinds); }

const std::string& ToString(NoticeCategory c) { return NameOf(c, kNoticeCategories); }
absl::StatusOr<NoticeCategory> ParseNoticeCategory(std::string_view s) {
  return ParseEnum(s, kNoticeCategories, "notice category");
}

NoticeCategory CategoryOf(IncidentKind k) {
  switch (k) {
    case IncidentKind::kUnplannedOutage: return NoticeCategory::kUnplannedOutages;
    case IncidentKind::kPlannedMaintenance: return NoticeCategory::kPlannedMaintenance;
    case IncidentKind::kIbanChange: return NoticeCategory::kBankingChanges;
  }
  return NoticeCategory::kUnplannedOutages;
}

NoticeCategory CategoryOf(NoticeKind k) {
  switch (k) {
    case NoticeKind::kOutageStarted:
    case NoticeKind::kOutageUpdated:
    case NoticeKind::kOutageRestored:
    case NoticeKind::kOutageOverdue:
      return NoticeCategory::kUnplannedOutages;
    case NoticeKind::kIbanChangeHolder:
    case NoticeKind::kIbanChangeBeneficiary:
      return NoticeCategory::kBankingChanges;
    default:
      return NoticeCategory::kPlannedMaintenance;
  }
}

absl::StatusOr<IncidentKind> ParseIncidentKind(std::string_view s) {
  return ParseEnum(s, kIncidentKinds, "incident kind");
}
absl::StatusOr<IncidentState> ParseIncidentState(std::string_view s) {
  return ParseEnum(s, kIncidentStates, "incident state");
}
absl::StatusOr<Channel> ParseChannel(std::string_view s) { return ParseEnum(s, kChannels, "channel"); }
absl::StatusOr<NoticeState> ParseNoticeState(std::string_view s) {
  return ParseEnum(s, kNoticeStates, "notice state");
}
absl::StatusOr<NoticeKind> ParseNoticeKind(std::string_view s) {
  return ParseEnum(s, kNoticeKinds, "notice kind");
}
const std::vector<NoticeKind>& AllNoticeKinds() {
  static const std::vector<NoticeKind>* kinds = [] {
    auto* out = new std::vector<NoticeKind>;
    for (const auto& [kind, name] : kNoticeKinds) out->push_back(kind);
    return out;
  }();
  return *kinds;
}

bool IsRetryable(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kDeadlineExceeded:
    case absl::StatusCode::kAborted:
    case absl::StatusCode::kResourceExhausted:
    case absl::StatusCode::kInternal:
    case absl::StatusCode::kUnknown:
      return true;
    default:
      return false;
  }
}

namespace {
constexpr char kProviderPaused[] = "type.forewarn/provider-paused";
}  // namespace

absl::Status ProviderPausedError(std::string_view message) {
  absl::Status status = absl::UnavailableError(std::string(message));
  status.SetPayload(kProviderPaused, absl::Cord("1"));
  return status;
}

bool IsProviderPaused(const absl::Status& status) {
  return status.code() == absl::StatusCode::kUnavailable && status.GetPayload(kProviderPaused).has_value();
}

namespace {
constexpr char kProviderFault[] = "type.forewarn/provider-fault";
constexpr char kAmbiguousSend[] = "type.forewarn/ambiguous-send";
}  // namespace

absl::Status ProviderFaultError(std::string_view reason, std::string_view message) {
  absl::Status status = absl::UnavailableError(std::string(message));
  status.SetPayload(kProviderFault, absl::Cord(reason.empty() ? std::string("config") : std::string(reason)));
  return status;
}

std::string ProviderFaultReason(const absl::Status& status) {
  if (status.code() != absl::StatusCode::kUnavailable) return "";
  const auto reason = status.GetPayload(kProviderFault);
  return reason.has_value() ? std::string(*reason) : "";
}

absl::Status AmbiguousSendError(std::string_view message) {
  absl::Status status = absl::DeadlineExceededError(std::string(message));
  status.SetPayload(kAmbiguousSend, absl::Cord("1"));
  return status;
}

bool IsAmbiguousSend(const absl::Status& status) {
  return status.code() == absl::StatusCode::kDeadlineExceeded && status.GetPayload(kAmbiguousSend).has_value();
}

NoticeKey KeyOf(const NoticeJob& job) {
  return NoticeKey{job.incident_id, job.version, job.kind, job.occasion, job.recipient.customer_id,
                   job.recipient.channel};
}

std::string MessageIdFor(const NoticeKey& key) {
  // "<incident.vN.kind[~occasion].cID.channel@forewarn>"
  return absl::StrCat("<", key.incident_id, ".v", key.version, ".", ToString(key.kind),
                      key.occasion.empty() ? "" : "~", key.occasion, ".c", key.customer_id, ".",
                      ToString(key.channel), "@forewarn>");
}

}  // namespace forewarn
