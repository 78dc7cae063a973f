#pragma once

#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace forewarn {

enum class IncidentKind { kUnplannedOutage, kPlannedMaintenance, kIbanChange };
// Open: outage ongoing, maintenance scheduled or in progress, IBAN change
// announced. Resolved: restored / completed. Cancelled: maintenance or IBAN
// change called off.
enum class IncidentState { kOpen, kResolved, kCancelled };
enum class Channel { kSms, kEmail };
// held: waiting for the customer's quiet hours to end. superseded: the
// incident changed before it was sent; the newer notice carries the facts.
// retrying: a delivery attempt failed transiently; the notice waits on the
// retry topic. dead: it ran out of attempts and waits on the dead-letter
// topic for an operator's replay.
// kDelivered, kUndelivered and kExpired settle a kSent notice when its
// channel's delivery receipt arrives (services/core/receipts.h).
enum class NoticeState { kClaimed, kSent, kFailed, kHeld, kSuperseded, kRetrying, kDead, kDelivered, kUndelivered, kExpired };

// What a notice tells the customer. Stored as text ("outage_started", ...) in
// the ledger, on Kafka and as the templates/ folder name.
enum class NoticeKind {
  kOutageStarted,
  kOutageUpdated,
  kOutageRestored,
  kOutageOverdue,           // expected restoration passed, still open
  kMaintenanceScheduled,    // announced inside the first lead time ("short notice")
  kMaintenanceReminder,     // one per lead time (occasion "lead-48h", ...)
  kMaintenanceStarted,
  kMaintenanceCompleted,
  kMaintenanceRescheduled,
  kMaintenanceCancelled,
  kIbanChangeHolder,        // to the account holder: new IBAN in full
  kIbanChangeBeneficiary,   // to customers who saved the old IBAN: masked
};

// What a customer chooses channels for (and may, by policy, silence): each
// notice kind belongs to one.
enum class NoticeCategory { kUnplannedOutages, kPlannedMaintenance, kBankingChanges };
constexpr NoticeCategory kAllNoticeCategories[] = {NoticeCategory::kUnplannedOutages,
                                                   NoticeCategory::kPlannedMaintenance,
                                                   NoticeCategory::kBankingChanges};
NoticeCategory CategoryOf(IncidentKind k);
NoticeCategory CategoryOf(NoticeKind k);

const std::string& ToString(IncidentKind k);
const std::string& ToString(IncidentState s);
const std::string& ToString(Channel c);
const std::string& ToString(NoticeState s);
const std::string& ToString(NoticeKind k);
absl::StatusOr<IncidentKind> ParseIncidentKind(std::string_view s);
absl::StatusOr<IncidentState> ParseIncidentState(std::string_view s);
absl::StatusOr<Channel> ParseChannel(std::string_view s);
absl::StatusOr<NoticeState> ParseNoticeState(std::string_view s);
absl::StatusOr<NoticeKind> ParseNoticeKind(std::string_view s);
// Every notice kind, in the order of the enum.
const std::vector<NoticeKind>& AllNoticeKinds();
// "unplanned_outages" | "planned_maintenance" | "banking_changes"
const std::string& ToString(NoticeCategory c);
absl::StatusOr<NoticeCategory> ParseNoticeCategory(std::string_view s);

struct LocalizedText {
  std::string ar;
  std::string en;
  bool operator==(const LocalizedText&) const = default;
};

// A circle on the map, WGS 84.
struct Circle {
  double latitude = 0;
  double longitude = 0;
  double radius_meters = 0;
  bool operator==(const Circle&) const = default;
};

// A map area: customers whose location lies inside or on the boundary.
// Exactly one of `geojson` (a GeoJSON MultiPolygon, [lon, lat] positions;
// ValidateArea makes any accepted input this canonical form) and `circle`.
struct Area {
  std::string geojson;
  std::optional<Circle> circle;
  LocalizedText name;  // the place as customers know it
  bool operator==(const Area&) const = default;
};

// Who an incident reaches: the union of its selectors, restricted to
// customers of the incident's services.
struct Targets {
  std::vector<std::string> regions;
  std::vector<std::string> asset_codes;  // the assets and everything below them
  std::string audience_id;               // an uploaded list (UUID), or empty
  std::optional<Area> area;
  bool operator==(const Targets&) const = default;
};

// Which part of an incident version's audience an event reaches. An update
// that changes the targets tells the customers it adds (kJoined) and the
// ones it drops (kLeft) apart from those it keeps (kStayed): each is the
// current version's audience against the previous version's. Carried as
// the event's occasion ("joined", "left", "stayed"; kAll: any other).
enum class AudienceScope { kAll, kJoined, kLeft, kStayed };
AudienceScope ScopeOfOccasion(std::string_view occasion);
std::string_view OccasionOf(AudienceScope scope);  // kAll: ""
// A notice of an earlier version is superseded by a newer version (not
// sent: the newer notice carries the facts) unless it tells customers they
// joined or left the audience, which no newer notice does for them.
bool SupersededBy(int64_t current_version, int64_t version, std::string_view occasion);

struct Incident {
  std::string id;   // UUID text
  std::string ref;  // short reference, e.g. RIY-4K7Q (incident_ref.h)
  int64_t version = 0;
  IncidentKind kind = IncidentKind::kUnplannedOutage;
  IncidentState state = IncidentState::kOpen;
  std::vector<std::string> services;
  std::vector<std::string> regions;
  LocalizedText reason;
  absl::Time starts_at;
  absl::Time expected_restoration_at;
  std::optional<absl::Time> resolved_at;
  std::string idempotency_key;
  absl::Time created_at;
  absl::Time updated_at;
  // IBAN changes only (starts_at is the effective date).
  std::string old_iban;
  std::string new_iban;
  // The selectors beside `regions` (see Targets).
  std::vector<std::string> asset_codes;
  std::string audience_id;
  std::optional<Area> area;
  // Display names of `services` and `regions` (same order), for notices.
  // Filled by IncidentReader::GetVersion; empty elsewhere.
  std::vector<LocalizedText> service_names;
  std::vector<LocalizedText> region_names;
  // The places customers know, for notices: the targeted assets' names
  // (order of asset_codes), then the area's name when it has one. Filled
  // by IncidentReader::GetVersion.
  std::vector<LocalizedText> place_names;
};

Targets TargetsOf(const Incident& i);
// When service came back for the recipients of a notice: the incident's
// resolution, or, for the customers an update dropped from the audience
// (occasion "left"; the incident may still be open), the time of that
// update (the version's updated_at).
std::optional<absl::Time> RestoredAt(const Incident& incident, std::string_view occasion);
void SetTargets(Incident& i, const Targets& t);

struct NewIncident {
  std::string idempotency_key;
  IncidentKind kind = IncidentKind::kUnplannedOutage;
  std::vector<std::string> services;
  std::vector<std::string> regions;
  LocalizedText reason;
  std::optional<absl::Time> starts_at;  // now when unset
  absl::Time expected_restoration_at;   // planned end for maintenance
  std::string old_iban;                 // IBAN changes (starts_at = effective date)
  std::string new_iban;
  // Selectors beside `regions` (see Targets).
  std::vector<std::string> asset_codes;
  std::string audience_id;
  std::optional<Area> area;
};

struct IncidentUpdate {
  std::string id;
  int64_t expected_version = 0;  // 0: no check
  std::optional<LocalizedText> reason;
  std::optional<absl::Time> starts_at;  // maintenance reschedule only
  std::optional<absl::Time> expected_restoration_at;
  std::optional<Targets> targets;  // replaces every selector
};

struct ListFilter {
  std::optional<IncidentState> state;
  int page_size = 50;
  std::string page_token;  // opaque
};

struct IncidentPage {
  std::vector<Incident> incidents;
  std::string next_page_token;
};

// One committed change of an incident, to be fanned out.
struct IncidentEvent {
  std::string incident_id;
  int64_t version = 0;
  NoticeKind notice_kind = NoticeKind::kOutageStarted;
  int64_t outbox_id = 0;
  // Distinguishes repeated notices of one kind and version, e.g. the
  // maintenance reminders "lead-48h" and "lead-2h". Empty otherwise.
  std::string occasion;
};

// Why a customer is in an incident's audience.
enum class AudienceRole { kAffected, kAccountHolder, kBeneficiary };

const std::string& ToString(AudienceRole r);  // "affected" | "holder" | "beneficiary"
AudienceRole ParseAudienceRole(std::string_view s);  // unknown text: kAffected

// One customer on one channel, as resolved from the audience.
struct Recipient {
  int64_t customer_id = 0;
  Channel channel = Channel::kSms;
  std::string address;    // E.164 phone or email
  std::string locale;     // "ar" | "en"
  std::string time_zone;  // IANA name
  std::string name;
  AudienceRole role = AudienceRole::kAffected;
  // SMS only: the customer's email, used when SMS fails permanently or the
  // number is invalid. Empty when there is none.
  std::string fallback_email;
};

// A unit of work for the notifier: tell this recipient about this version.
struct NoticeJob {
  std::string incident_id;
  int64_t version = 0;
  NoticeKind kind = NoticeKind::kOutageStarted;
  std::string occasion;
  Recipient recipient;
  // Delivery attempts that failed transiently so far (0 on first try).
  int attempt = 0;
  // A retry is not tried before this time.
  absl::Time not_before = absl::InfinitePast();
  // Replayed from the dead-letter topic: may re-open a dead ledger row.
  bool revive = false;
  // Why the last attempt failed (retry and dead-letter topics).
  std::string last_error;
  // When it was dead-lettered (dead-letter topic).
  absl::Time dead_at = absl::InfinitePast();
};

// The ledger's unique key: one notice per incident version, kind, customer, channel.
struct NoticeKey {
  std::string incident_id;
  int64_t version = 0;
  NoticeKind kind = NoticeKind::kOutageStarted;
  std::string occasion;
  int64_t customer_id = 0;
  Channel channel = Channel::kSms;
  auto operator<=>(const NoticeKey&) const = default;  // orders keys, e.g. as map keys
  template <typename H>
  friend H AbslHashValue(H h, const NoticeKey& k) {  // keys in hash maps
    return H::combine(std::move(h), k.incident_id, k.version, k.kind, k.occasion, k.customer_id, k.channel);
  }
};
NoticeKey KeyOf(const NoticeJob& job);

struct DeliveryCount {
  int64_t incident_version = 0;
  NoticeKind kind = NoticeKind::kOutageStarted;
  std::string occasion;
  Channel channel = Channel::kSms;
  NoticeState state = NoticeState::kSent;
  int64_t count = 0;
};

struct DeliveryFailure {
  int64_t customer_id = 0;
  Channel channel = Channel::kSms;
  int64_t incident_version = 0;
  NoticeKind kind = NoticeKind::kOutageStarted;
  std::string error;
};

struct DeliveryReport {
  std::string incident_id;
  int64_t incident_version = 0;
  std::vector<DeliveryCount> counts;
  std::vector<DeliveryFailure> failures;
};

// A rendered notice, ready for a channel.
struct RenderedNotice {
  std::string subject;    // email only
  std::string text;       // SMS text, or email plain-text body
  std::string html;       // email only; may be empty
  std::string message_id; // deterministic per NoticeKey
  // Email only: the one-click unsubscribe link (RFC 8058), or empty. The
  // SMTP channel sends it as List-Unsubscribe with List-Unsubscribe-Post.
  std::string unsubscribe_url = {};  // "= {}": initialisers naming the first four stay complete
};

// Deterministic id for a notice, so a resend is recognisable by the receiver.
std::string MessageIdFor(const NoticeKey& key);

}  // namespace forewarn
