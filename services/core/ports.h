#pragma once

// Ports: the interfaces the domain core needs from the outside world.
// Adapters (Postgres, Kafka, channels) implement them; main() wires them.

#include <functional>
#include <map>
#include <set>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "services/core/model.h"
#include "services/core/notice_policy.h"

namespace forewarn {

// True for codes worth retrying: transient infrastructure failures
// (UNAVAILABLE, DEADLINE_EXCEEDED, ABORTED, RESOURCE_EXHAUSTED, INTERNAL,
// UNKNOWN). Anything else is permanent for the given input.
bool IsRetryable(const absl::Status& status);

// UNAVAILABLE without calling the provider (its circuit is open): the notice
// was not attempted, so it does not use up one of its delivery attempts.
absl::Status ProviderPausedError(std::string_view message);
bool IsProviderPaused(const absl::Status& status);

// A provider or configuration fault (TLS, certificate, authentication, a
// misconfigured endpoint): it says nothing about the notice and will fail
// every notice alike until someone fixes the set-up. UNAVAILABLE (retryable:
// the notice is not at fault) carrying `reason` ("tls", "auth", "config"); a
// circuit breaker opens at once on it. ProviderFaultReason is empty for any
// other status.
absl::Status ProviderFaultError(std::string_view reason, std::string_view message);
std::string ProviderFaultReason(const absl::Status& status);

// A send whose outcome is unknown: the request reached the provider but no
// answer came back (a timeout after the request was sent, an SMTP connection
// dropped after the message). The provider may have the message; the retry
// carries the same message id (derived from the notice key only), which is
// the provider's idempotency reference. DEADLINE_EXCEEDED (retryable).
absl::Status AmbiguousSendError(std::string_view message);
bool IsAmbiguousSend(const absl::Status& status);

// Who made a change and what it changed: recorded with the version snapshot
// in the same transaction (the audit trail).
struct ChangeAudit {
  std::string actor = "system";  // the authenticated caller's name
  std::string summary;           // "expected_restoration_at: A -> B; ..."
};

// One entry of an incident's history: a committed version.
struct IncidentChangeRecord {
  int64_t version = 0;
  std::string change;  // "created" | "updated" | "resolved" | "cancelled"
  std::string actor;
  std::string summary;
  absl::Time changed_at;
  Incident snapshot;  // the incident as it was at this version
};

// An audience member on one channel without a SENT notice.
struct UninformedRecipient {
  int64_t customer_id = 0;
  Channel channel = Channel::kSms;
  std::optional<NoticeState> state;  // unset: no ledger row at all
};

// The completeness check of an incident's current version: its affected
// audience (as the resolver computes it) against the ledger for the
// version's latest immediate notice.
struct Completeness {
  std::string incident_id;
  int64_t version = 0;
  // The notice compared against; unset when nothing was queued for the
  // current version yet (e.g. maintenance before its first reminder).
  std::optional<NoticeKind> kind;
  std::string occasion;
  int64_t audience = 0;              // recipients (customer, channel)
  int64_t uninformed = 0;            // recipients without a SENT notice
  int64_t uninformed_customers = 0;  // distinct customers among them
  int64_t missing = 0;               // no ledger row (lost somewhere)
  int64_t failed = 0;                // permanently failed
  int64_t pending = 0;               // claimed, held or retrying (in flight / quiet hours)
  int64_t dead = 0;                  // out of attempts, on the dead-letter topic
  std::vector<UninformedRecipient> listed;  // up to the requested number
  bool redriven = false;             // a new outbox event was queued
  std::string note;                  // why nothing was re-driven, if so
};

// What of an incident's fan-out is still under way: a re-drive now could
// race it.
struct FanOutActivity {
  int64_t unpublished_events = 0;  // outbox events of the incident not yet published
  int64_t notices_sending = 0;     // its notices claimed within the last minute
};
// Whether to re-drive after a completeness check (see DecideRedrive in
// services/core/reconcile.h); may set the check's note.
using RedriveDecision = std::function<bool(Completeness&, const FanOutActivity&)>;

// Incidents and their history. Every mutating call commits, in a single
// transaction, the incident row, its immutable version snapshot, an outbox
// event per immediate notice of `plan` and its scheduled notices (cancelling
// pending ones of earlier versions when the plan says so).
class IncidentStore {
 public:
  virtual ~IncidentStore() = default;
  // Returns the created incident, or the existing one when the idempotency
  // key was used before with identical content (ALREADY_EXISTS when the
  // content differs). INVALID_ARGUMENT for unknown services or regions.
  // `plan` is computed from the incident as created.
  // `audit` is stored with the new version (actor "system" when omitted).
  virtual absl::StatusOr<Incident> Create(const NewIncident& req, absl::Time now,
                                          const std::function<NoticePlan(const Incident&)>& plan,
                                          const ChangeAudit& audit = {}) = 0;
  // NOT_FOUND; FAILED_PRECONDITION when not open; ABORTED on a version mismatch.
  virtual absl::StatusOr<Incident> Update(const IncidentUpdate& req, absl::Time now, const NoticePlan& plan,
                                          const ChangeAudit& audit = {}) = 0;
  virtual absl::StatusOr<Incident> Resolve(const std::string& id, int64_t expected_version, absl::Time now,
                                           const NoticePlan& plan, const ChangeAudit& audit = {}) = 0;
  virtual absl::StatusOr<Incident> Cancel(const std::string& id, int64_t expected_version, absl::Time now,
                                          const NoticePlan& plan, const ChangeAudit& audit = {}) = 0;
  // Every version, oldest first, with who changed what. NOT_FOUND.
  virtual absl::StatusOr<std::vector<IncidentChangeRecord>> History(const std::string& id) = 0;
  // The completeness check of the current version, listing at most
  // `max_listed` uninformed recipients; `kind` stays unset when no notice
  // was queued for the current version yet (nothing else is then filled
  // in). With `redrive`, the incident is locked for the check, its fan-out
  // activity read and `redrive` asked; when it returns true, a new outbox
  // event for the current version and its latest notice is queued in the
  // same transaction (the resolver fans it out again and the ledger skips
  // everyone already told) and `redriven` is set. NOT_FOUND.
  virtual absl::StatusOr<Completeness> CheckCompleteness(const std::string& id, int max_listed, absl::Time now,
                                                         const RedriveDecision& redrive = {}) = 0;
  virtual absl::StatusOr<Incident> Get(const std::string& id) = 0;
  // The id of the incident whose reference is `ref` (normalized: see
  // NormalizeIncidentRef). NOT_FOUND naming the reference.
  virtual absl::StatusOr<std::string> IdForRef(const std::string& ref) = 0;
  // The incident exactly as it was at `version` (history is immutable).
  virtual absl::StatusOr<Incident> GetVersion(const std::string& id, int64_t version) = 0;
  virtual absl::StatusOr<IncidentPage> List(const ListFilter& filter) = 0;
  virtual absl::StatusOr<DeliveryReport> Report(const std::string& id, int max_failures) = 0;
};

// Read side used by the resolver and notifier: versions are immutable.
class IncidentReader {
 public:
  virtual ~IncidentReader() = default;
  virtual absl::StatusOr<Incident> GetVersion(const std::string& id, int64_t version) = 0;
  // The latest version of each incident (for supersession checks).
  virtual absl::StatusOr<std::map<std::string, int64_t>> CurrentVersions(const std::vector<std::string>& ids) = 0;
};

// A scheduled notice that has come due, as NoticeScheduler hands it over.
struct DueNotice {
  std::string incident_id;
  int64_t version = 0;  // the incident version that planned it
  NoticeKind kind = NoticeKind::kMaintenanceReminder;
  std::string occasion;
  absl::Time due_at;
  // The incident as it is now.
  IncidentKind incident_kind = IncidentKind::kPlannedMaintenance;
  int64_t current_version = 0;
  IncidentState current_state = IncidentState::kOpen;
};

// What becomes of a due notice (decided by ScheduledReleases).
struct DueNoticeAction {
  enum class Do { kCancel, kRelease, kClose };
  Do what = Do::kCancel;
  // kClose: the incident is resolved as of `closed_at` as a new version
  // recorded with `audit`, and `plan` is committed as for every change.
  absl::Time closed_at;
  NoticePlan plan;
  ChangeAudit audit;
};
using DueNoticeDecision = std::function<DueNoticeAction(const DueNotice&)>;

// Time-driven notices (reminders, start/completion, overdue follow-ups).
class NoticeScheduler {
 public:
  virtual ~NoticeScheduler() = default;
  // In one transaction: takes up to `limit` pending scheduled notices due at
  // `now`, row-locked so that concurrent schedulers never take the same one,
  // asks `decide` about each and carries its action out, settling the
  // notice in the same transaction (a restart neither skips nor repeats
  // one). kRelease queues it as an outbox event of its version; kClose
  // resolves the incident (cancelling the notice instead when the incident
  // is no longer open at that version) and commits the plan; kCancel
  // cancels it. Returns how many were released or closed.
  virtual absl::StatusOr<int> ReleaseDue(absl::Time now, int limit, const DueNoticeDecision& decide) = 0;
};

// Notices held for quiet hours, released to the notices topic when due.
class HeldNotices {
 public:
  virtual ~HeldNotices() = default;
  struct Held {
    int64_t id = 0;
    int64_t hold = 0;  // which hold of the notice this is (a notice can be held again)
    NoticeJob job;
  };
  virtual absl::StatusOr<std::vector<Held>> FetchDue(absl::Time now, int limit) = 0;
  // Settles these holds, once their notices are back on the notices topic. A
  // notice held again since it was fetched stays due: it comes back again.
  virtual absl::Status MarkReleased(const std::vector<Held>& released, absl::Time now) = 0;
};

// Outbox rows not yet published, oldest first.
class OutboxSource {
 public:
  virtual ~OutboxSource() = default;
  virtual absl::StatusOr<std::vector<IncidentEvent>> FetchUnpublished(int limit) = 0;
  virtual absl::Status MarkPublished(const std::vector<int64_t>& outbox_ids) = 0;
  // Blocks up to `max` or until new rows may be available.
  virtual absl::Status WaitForNew(absl::Duration max) = 0;
};

// Publishes events durably: returns OK only once the broker acknowledged all.
class EventPublisher {
 public:
  virtual ~EventPublisher() = default;
  virtual absl::Status Publish(const std::vector<IncidentEvent>& events) = 0;
};

// Which audience to stream: an incident version's, or for a delta scope
// (an update that changed the targets) its difference with the version
// before (`previous`, required unless kAll).
struct AudienceQuery {
  const Incident& incident;
  AudienceScope scope = AudienceScope::kAll;
  const Incident* previous = nullptr;
};

// How many customers each selector of a target set reaches (a customer
// reached by several counts in each), and the audience: the union, with
// the recipients its channel choices give.
struct AudienceSize {
  struct Selector {
    std::string name;  // "regions" | "assets" | "audience" | "area"
    int64_t customers = 0;
  };
  std::vector<Selector> selectors;
  int64_t customers = 0;
  int64_t sms_recipients = 0;
  int64_t email_recipients = 0;
};

// Streams the affected recipients (one per customer and chosen channel)
// without holding the audience in memory. `fn` returning non-OK aborts.
class AudienceSource {
 public:
  virtual ~AudienceSource() = default;
  virtual absl::Status Stream(const AudienceQuery& query,
                              const std::function<absl::Status(const Recipient&)>& fn) = 0;
  // The whole audience of `incident`'s version.
  absl::Status ForEachRecipient(const Incident& incident, const std::function<absl::Status(const Recipient&)>& fn) {
    return Stream(AudienceQuery{incident}, fn);
  }
  // The audience `targets` would give an incident of `kind` (an outage or
  // maintenance) on `services`, before it exists. INVALID_ARGUMENT naming
  // the field for an unknown asset or uploaded list, or an area PostGIS
  // finds invalid (self-intersection).
  virtual absl::StatusOr<AudienceSize> Size(IncidentKind kind, const std::vector<std::string>& services,
                                            const Targets& targets) = 0;
};

// Where the resolver puts notice jobs (Kafka topic forewarn.notices).
class NoticeSink {
 public:
  virtual ~NoticeSink() = default;
  // May buffer; Flush() returns OK once everything enqueued is acknowledged.
  virtual absl::Status Enqueue(const NoticeJob& job) = 0;
  virtual absl::Status Flush() = 0;
};

// The notice ledger: exactly-once effect per NoticeKey.
class NoticeLedger {
 public:
  virtual ~NoticeLedger() = default;
  struct ClaimRequest {
    ClaimRequest(NoticeKey k, int a = 0, bool r = false) : key(std::move(k)), attempt(a), revive(r) {}  // NOLINT
    NoticeKey key;
    int attempt = 0;      // the job's failed delivery attempts so far
    bool revive = false;  // a dead-letter replay
  };
  // What a claim decided for one key.
  struct Claimed {
    bool send = false;  // this caller holds it now: send it (or settle it)
    // Another live worker holds the key under its lease: not final and not
    // this caller's turn. The caller must come back later (and must not
    // commit its input past the job) until the key is settled or the
    // holder's lease expires.
    bool busy = false;
    // When `send`: above 1, an earlier claim did not finish (a worker that
    // died, or whose lease expired, while sending) and the notice may
    // already have reached the provider.
    int claims = 0;
  };
  // Claims the keys that are open: new, CLAIMED (an earlier claim never
  // finished), HELD, RETRYING when `attempt` reached the ledger's count (an
  // older copy of the job is skipped while its retry waits), DEAD only when
  // `revive`. SENT, FAILED and SUPERSEDED are final. A key held under
  // another worker's live lease is `busy`; one under an expired lease is
  // taken over (claims 2 or more). The claimed keys are in flight under this
  // ledger's lease (durable before Claim returns) until Record or Hold
  // settles them; the lease lasts as long as the ledger renews it (Fence).
  // Claims of the same incident are serialised, so two workers never hold
  // the same key at once.
  virtual absl::StatusOr<std::vector<Claimed>> Claim(const std::vector<ClaimRequest>& requests, absl::Time now) = 0;
  // Called right before sending a claimed key. true: the key is still held
  // under this worker's lease (renewed here when it is getting old), so it
  // may be sent now. false: the lease was lost (expired while this process
  // was paused, and another worker took the key over): do not send it and
  // do not record it. UNAVAILABLE: the lease could not be confirmed (the
  // database is unreachable): do not send now.
  virtual absl::StatusOr<bool> Fence(const NoticeKey& key) = 0;
  struct Outcome {
    NoticeKey key;
    NoticeState state = NoticeState::kSent;
    // When sent, the provider's own message id; empty when the provider
    // took ours (MessageIdFor: file outbox, SMTP), which is not stored twice.
    std::string provider_id;
    std::string error;        // when failed, retrying or dead
    int attempts = 0;         // the job's failed delivery attempts (retrying, dead: including this one)
    // When the customer must have it by (NoticeDeadline); none without a lead time.
    std::optional<absl::Time> deadline = std::nullopt;
    // When sent on a channel that reports deliveries: when to escalate if
    // no receipt came (ReceiptDue).
    std::optional<absl::Time> receipt_due = std::nullopt;
  };
  // Writes the outcomes and takes their keys out of flight, in one
  // transaction. A failure writes nothing: retry the same call (an outcome
  // whose key someone else settled meanwhile keeps the first row).
  virtual absl::Status Record(const std::vector<Outcome>& outcomes, absl::Time now) = 0;
  // Parks claimed jobs until `until` (quiet hours): state HELD, re-claimable
  // when the scheduler re-releases them. Idempotent.
  virtual absl::Status Hold(const std::vector<std::pair<NoticeJob, absl::Time>>& jobs, absl::Time now) = 0;
};

// Where a notice goes after a transient delivery failure: the retry topic
// (tried again at job.not_before) or, out of attempts, the dead-letter
// topic. Both return OK only once the broker has the jobs.
class NoticeRequeue {
 public:
  virtual ~NoticeRequeue() = default;
  virtual absl::Status Retry(const std::vector<NoticeJob>& jobs) = 0;
  virtual absl::Status DeadLetter(const std::vector<NoticeJob>& jobs) = 0;
};

// Reads the dead-letter topic, oldest first (every copy; replayed ones too).
class DeadLetterSource {
 public:
  virtual ~DeadLetterSource() = default;
  virtual absl::StatusOr<std::vector<NoticeJob>> ReadAll() = 0;
};

// The ledger side of dead letters.
class DeadLetterLedger {
 public:
  virtual ~DeadLetterLedger() = default;
  // For each key, whether its ledger row is (still) DEAD.
  virtual absl::StatusOr<std::vector<bool>> AreDead(const std::vector<NoticeKey>& keys) = 0;
  // How many notices are DEAD (the dead-letter queue's size).
  virtual absl::StatusOr<int64_t> CountDead() = 0;
};

// Proof of notice (services/core/notice_proof.h): which of an incident's
// notices with a deadline to read. Empty strings select every kind or
// every occasion.
struct ProofQuery {
  std::string incident_id;
  std::string notice_kind;
  std::string occasion;
};

// One ledger row of a notice with a deadline, as proof of notice reads it.
struct ProofRow {
  int64_t customer_id = 0;
  int64_t version = 0;
  NoticeKind kind = NoticeKind::kMaintenanceReminder;
  std::string occasion;
  Channel channel = Channel::kSms;
  NoticeState state = NoticeState::kSent;
  absl::Time updated_at;                 // the send's time once sent (receipts leave it alone)
  absl::Time deadline;                   // when the customer must have it by
  std::optional<absl::Time> receipt_at;  // when the receipt's event happened
  std::optional<Channel> escalated_to;   // this notice was escalated to that channel
};

// The ledger's side of proof of notice.
class ProofSource {
 public:
  virtual ~ProofSource() = default;
  // Streams the rows of incident `query.incident_id` that have a deadline
  // and are not SUPERSEDED (a newer version's notice replaced them), of the
  // kind and occasion asked for, ordered by customer, version, kind,
  // occasion, then SMS before email: one notice's channels come together.
  // One consistent snapshot through a server-side cursor, so memory does not
  // grow with the incident. `fn` returning non-OK stops the stream and is
  // returned. NOT_FOUND for an unknown incident; nothing was streamed then.
  virtual absl::Status Stream(const ProofQuery& query, const std::function<absl::Status(const ProofRow&)>& fn) = 0;
};

// Turns a job plus the incident into text for one channel.
class Renderer {
 public:
  virtual ~Renderer() = default;
  virtual absl::StatusOr<RenderedNotice> Render(const NoticeJob& job, const Incident& incident) = 0;
};

// A delivery channel (file outbox, SMTP, SMS gateway).
class DeliveryChannel {
 public:
  virtual ~DeliveryChannel() = default;
  // Returns the provider's message id. UNAVAILABLE/DEADLINE_EXCEEDED are
  // retryable; INVALID_ARGUMENT/FAILED_PRECONDITION are permanent. A
  // provider fault (ProviderFaultError) or an unknown outcome
  // (AmbiguousSendError) is retryable and says so.
  virtual absl::StatusOr<std::string> Send(const Recipient& to, const RenderedNotice& notice) = 0;
  // A channel may buffer accepted notices (e.g. one file write per batch):
  // they are delivered once Flush returns OK, and the notifier records them
  // as sent only then. Not OK: none of the buffered ones were delivered.
  virtual absl::Status Flush() { return absl::OkStatus(); }
  // Of these message ids, the ones the provider already has (a resend after
  // a crash must not deliver twice). Providers that deduplicate by message
  // id themselves (SMTP Message-ID, gateway reference) may return none.
  virtual absl::StatusOr<std::set<std::string>> Delivered(const std::vector<std::string>& message_ids) {
    return std::set<std::string>();
  }
};

}  // namespace forewarn
