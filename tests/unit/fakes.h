#pragma once

// In-memory fakes of the core ports, for unit tests.

#include <functional>
#include <map>
#include <set>
#include <tuple>
#include <vector>

#include "absl/strings/str_cat.h"
#include "services/core/incident_ref.h"
#include "services/core/ports.h"

namespace forewarn::testing {

inline auto Tuple(const NoticeKey& k) {
  return std::make_tuple(k.incident_id, k.version, k.kind, k.occasion, k.customer_id, k.channel);
}

inline NoticePlan NoPlan(const Incident&) { return {}; }

// A fake port's answer: `error` when one is set, else OK after appending
// `items` to `to` (what the port was given).
template <typename T>
absl::Status RecordUnless(const absl::Status& error, const std::vector<T>& items, std::vector<T>& to) {
  if (!error.ok()) return error;
  to.insert(to.end(), items.begin(), items.end());
  return absl::OkStatus();
}

class FakeIncidentStore : public IncidentStore, public IncidentReader {
 public:
  absl::StatusOr<Incident> Create(const NewIncident& req, absl::Time now,
                                  const std::function<NoticePlan(const Incident&)>& plan,
                                  const ChangeAudit& audit = {}) override {
    if (auto it = by_key_.find(req.idempotency_key); it != by_key_.end()) return incidents_[it->second];
    Incident i;
    const std::string n = std::to_string(next_++);
    i.id = absl::StrCat("00000000-0000-0000-0000-", std::string(12 - n.size(), '0'), n);
    i.ref = absl::StrCat("OUT-", CrockfordEncode(static_cast<uint64_t>(next_ - 1), 4));
    i.version = 1;
    i.kind = req.kind;
    i.services = req.services;
    i.regions = req.regions;
    i.reason = req.reason;
    i.starts_at = req.starts_at.value_or(now);
    i.expected_restoration_at = req.expected_restoration_at;
    i.idempotency_key = req.idempotency_key;
    i.old_iban = req.old_iban;
    i.new_iban = req.new_iban;
    i.created_at = i.updated_at = now;
    plans.push_back(plan(i));
    incidents_[i.id] = i;
    versions_[{i.id, 1}] = i;
    Record(i, "created", audit, now);
    by_key_[req.idempotency_key] = i.id;
    return i;
  }
  absl::StatusOr<Incident> Update(const IncidentUpdate& req, absl::Time now, const NoticePlan& plan,
                                  const ChangeAudit& audit = {}) override {
    plans.push_back(plan);
    auto it = incidents_.find(req.id);
    if (it == incidents_.end()) return absl::NotFoundError("no such incident");
    if (req.expected_version != 0 && req.expected_version != it->second.version) return absl::AbortedError("stale");
    if (req.reason) it->second.reason = *req.reason;
    if (req.starts_at) it->second.starts_at = *req.starts_at;
    if (req.expected_restoration_at) it->second.expected_restoration_at = *req.expected_restoration_at;
    if (req.targets) SetTargets(it->second, *req.targets);
    it->second.version++;
    it->second.updated_at = now;
    versions_[{req.id, it->second.version}] = it->second;
    Record(it->second, "updated", audit, now);
    return it->second;
  }
  absl::StatusOr<Incident> Resolve(const std::string& id, int64_t, absl::Time now, const NoticePlan& plan,
                                   const ChangeAudit& audit = {}) override {
    return Close(id, IncidentState::kResolved, now, plan, audit);
  }
  absl::StatusOr<Incident> Cancel(const std::string& id, int64_t, absl::Time now, const NoticePlan& plan,
                                  const ChangeAudit& audit = {}) override {
    return Close(id, IncidentState::kCancelled, now, plan, audit);
  }
  absl::StatusOr<std::vector<IncidentChangeRecord>> History(const std::string& id) override {
    if (!incidents_.count(id)) return absl::NotFoundError("no such incident");
    return history_[id];
  }
  absl::StatusOr<Completeness> CheckCompleteness(const std::string& id, int, absl::Time,
                                                 const RedriveDecision& redrive = {}) override {
    if (!incidents_.count(id)) return absl::NotFoundError("no such incident");
    Completeness c = completeness;
    c.incident_id = id;
    c.version = incidents_[id].version;
    c.redriven = redrive && c.kind && redrive(c, activity);
    return c;
  }
  absl::StatusOr<std::map<std::string, int64_t>> CurrentVersions(const std::vector<std::string>& ids) override {
    std::map<std::string, int64_t> out;
    for (const auto& id : ids) {
      if (auto it = incidents_.find(id); it != incidents_.end()) out[id] = it->second.version;
    }
    return out;
  }
  absl::StatusOr<Incident> Get(const std::string& id) override {
    auto it = incidents_.find(id);
    if (it == incidents_.end()) return absl::NotFoundError("no such incident");
    return it->second;
  }
  absl::StatusOr<std::string> IdForRef(const std::string& ref) override {
    for (const auto& [id, incident] : incidents_) {
      if (incident.ref == ref) return id;
    }
    return absl::NotFoundError(absl::StrCat("incident ", ref, " not found"));
  }
  absl::StatusOr<Incident> GetVersion(const std::string& id, int64_t version) override {
    ++version_reads;
    auto it = versions_.find({id, version});
    if (it == versions_.end()) return absl::NotFoundError("no such version");
    return it->second;
  }
  absl::StatusOr<IncidentPage> List(const ListFilter&) override {
    IncidentPage p;
    for (const auto& [id, i] : incidents_) p.incidents.push_back(i);
    return p;
  }
  absl::StatusOr<DeliveryReport> Report(const std::string& id, int) override {
    DeliveryReport r;
    r.incident_id = id;
    return r;
  }

  int version_reads = 0;
  Completeness completeness;  // what CheckCompleteness reports
  FanOutActivity activity;    // what CheckCompleteness hands a re-drive decision
  std::vector<NoticePlan> plans;  // one per mutation, in order

 private:
  void Record(const Incident& i, const std::string& change, const ChangeAudit& audit, absl::Time now) {
    history_[i.id].push_back({i.version, change, audit.actor, audit.summary, now, i});
  }
  absl::StatusOr<Incident> Close(const std::string& id, IncidentState state, absl::Time now, const NoticePlan& plan,
                                 const ChangeAudit& audit) {
    auto it = incidents_.find(id);
    if (it == incidents_.end()) return absl::NotFoundError("no such incident");
    plans.push_back(plan);
    it->second.state = state;
    if (state == IncidentState::kResolved) it->second.resolved_at = now;
    it->second.version++;
    versions_[{id, it->second.version}] = it->second;
    Record(it->second, state == IncidentState::kResolved ? "resolved" : "cancelled", audit, now);
    return it->second;
  }

  int next_ = 1;
  std::map<std::string, std::vector<IncidentChangeRecord>> history_;
  std::map<std::string, Incident> incidents_;
  std::map<std::pair<std::string, int64_t>, Incident> versions_;
  std::map<std::string, std::string> by_key_;
};

// Due notices handed to the decision in order; what it decided is kept.
class FakeNoticeScheduler : public NoticeScheduler {
 public:
  absl::StatusOr<int> ReleaseDue(absl::Time, int limit, const DueNoticeDecision& decide) override {
    int released = 0;
    while (!due.empty() && limit-- > 0) {
      DueNoticeAction action = decide(due.front());
      if (action.what != DueNoticeAction::Do::kCancel) ++released;
      settled.emplace_back(due.front(), std::move(action));
      due.erase(due.begin());
    }
    return released;
  }

  std::vector<DueNotice> due;  // pending, oldest first
  std::vector<std::pair<DueNotice, DueNoticeAction>> settled;
};

class FakeLedger : public NoticeLedger {
 public:
  using Tuple6 = std::tuple<std::string, int64_t, NoticeKind, std::string, int64_t, Channel>;
  absl::StatusOr<std::vector<Claimed>> Claim(const std::vector<ClaimRequest>& requests, absl::Time) override {
    if (!claim_error.ok()) return claim_error;
    ++claim_calls;
    std::vector<Claimed> out;
    for (const auto& r : requests) {
      const auto t = Tuple(r.key);
      if (busy.contains(t)) {
        out.push_back({false, true, 0});
        continue;
      }
      auto [it, inserted] = rows.try_emplace(t, NoticeState::kClaimed);
      const NoticeState st = it->second;
      const bool open = inserted || st == NoticeState::kClaimed || st == NoticeState::kHeld ||
                        (st == NoticeState::kRetrying && r.attempt >= delivery_attempts[t]) ||
                        (st == NoticeState::kDead && r.revive);
      if (open) it->second = NoticeState::kClaimed;
      out.push_back({open, false, open ? ++claims[t] : 0});
    }
    return out;
  }
  absl::StatusOr<bool> Fence(const NoticeKey& key) override {
    ++fence_calls;
    if (!fence_error.ok()) return fence_error;
    return !lost.contains(Tuple(key));
  }
  absl::Status Record(const std::vector<Outcome>& outcomes, absl::Time) override {
    ++record_calls;
    if (!record_failures.empty()) {
      auto s = record_failures.front();
      record_failures.erase(record_failures.begin());
      if (!s.ok()) return s;
    }
    for (const auto& o : outcomes) {
      rows[Tuple(o.key)] = o.state;
      if (o.state == NoticeState::kRetrying || o.state == NoticeState::kDead) delivery_attempts[Tuple(o.key)] = o.attempts;
    }
    recorded_groups.push_back(outcomes.size());
    return absl::OkStatus();
  }
  absl::Status Hold(const std::vector<std::pair<NoticeJob, absl::Time>>& jobs, absl::Time) override {
    for (const auto& [job, until] : jobs) {
      rows[Tuple(KeyOf(job))] = NoticeState::kHeld;
      held.emplace_back(job, until);
    }
    return absl::OkStatus();
  }
  std::map<Tuple6, int> claims;
  std::map<Tuple6, NoticeState> rows;
  std::map<Tuple6, int> delivery_attempts;
  std::vector<std::pair<NoticeJob, absl::Time>> held;
  std::set<Tuple6> busy;  // under another worker's live lease
  std::set<Tuple6> lost;  // taken over after this worker's lease expired
  absl::Status claim_error = absl::OkStatus();
  absl::Status fence_error = absl::OkStatus();
  std::vector<absl::Status> record_failures;  // consumed one per Record
  std::vector<size_t> recorded_groups;        // outcomes per successful Record
  int claim_calls = 0, fence_calls = 0, record_calls = 0;
};

class FakeRenderer : public Renderer {
 public:
  absl::StatusOr<RenderedNotice> Render(const NoticeJob& job, const Incident& incident) override {
    RenderedNotice n;
    n.text = absl::StrCat(job.recipient.locale == "ar" ? incident.reason.ar : incident.reason.en);
    n.message_id = MessageIdFor(KeyOf(job));
    return n;
  }
};

class FakeChannel : public DeliveryChannel {
 public:
  absl::StatusOr<std::string> Send(const Recipient& to, const RenderedNotice& notice) override {
    if (on_send) on_send();
    if (!failures.empty()) {
      auto s = failures.front();
      failures.erase(failures.begin());
      if (!s.ok()) return s;
    }
    sent.push_back({to, notice});
    return notice.message_id;
  }
  absl::StatusOr<std::set<std::string>> Delivered(const std::vector<std::string>& ids) override {
    std::set<std::string> out;
    for (const auto& id : ids) {
      for (const auto& [to, n] : sent) {
        if (n.message_id == id) out.insert(id);
      }
    }
    return out;
  }
  std::vector<std::pair<Recipient, RenderedNotice>> sent;
  std::vector<absl::Status> failures;  // consumed one per Send
  std::function<void()> on_send;       // e.g. moves a FakeClock (a slow provider)
};

// The same recipients for every query (per scope when `by_scope` has it);
// records what was asked.
class FakeAudience : public AudienceSource {
 public:
  struct Asked {
    int64_t version = 0;
    AudienceScope scope = AudienceScope::kAll;
    int64_t previous_version = 0;  // 0: none given
  };
  absl::Status Stream(const AudienceQuery& q, const std::function<absl::Status(const Recipient&)>& fn) override {
    asked.push_back({q.incident.version, q.scope, q.previous ? q.previous->version : 0});
    auto it = by_scope.find(q.scope);
    for (const auto& r : it == by_scope.end() ? recipients : it->second) {
      if (auto s = fn(r); !s.ok()) return s;
    }
    return absl::OkStatus();
  }
  absl::StatusOr<AudienceSize> Size(IncidentKind, const std::vector<std::string>&, const Targets&) override {
    AudienceSize size;
    std::set<int64_t> customers;
    for (const auto& r : recipients) {
      customers.insert(r.customer_id);
      (r.channel == Channel::kSms ? size.sms_recipients : size.email_recipients)++;
    }
    size.customers = static_cast<int64_t>(customers.size());
    return size;
  }
  std::vector<Recipient> recipients;
  std::map<AudienceScope, std::vector<Recipient>> by_scope;
  std::vector<Asked> asked;
};

class FakeSink : public NoticeSink {
 public:
  absl::Status Enqueue(const NoticeJob& job) override {
    pending.push_back(job);
    return absl::OkStatus();
  }
  absl::Status Flush() override {
    if (!flush_error.ok()) return flush_error;
    acked.insert(acked.end(), pending.begin(), pending.end());
    pending.clear();
    return absl::OkStatus();
  }
  std::vector<NoticeJob> pending, acked;
  absl::Status flush_error = absl::OkStatus();
};

class FakeRequeue : public NoticeRequeue {
 public:
  absl::Status Retry(const std::vector<NoticeJob>& jobs) override { return RecordUnless(error, jobs, retried); }
  absl::Status DeadLetter(const std::vector<NoticeJob>& jobs) override { return RecordUnless(error, jobs, dead); }
  std::vector<NoticeJob> retried, dead;
  absl::Status error = absl::OkStatus();
};

// The dead-letter topic and the ledger's view of it, backed by a FakeLedger.
class FakeDeadLetters : public DeadLetterSource, public DeadLetterLedger {
 public:
  explicit FakeDeadLetters(FakeLedger& ledger) : ledger_(ledger) {}
  absl::StatusOr<std::vector<NoticeJob>> ReadAll() override { return topic; }
  absl::StatusOr<std::vector<bool>> AreDead(const std::vector<NoticeKey>& keys) override {
    std::vector<bool> out;
    for (const auto& k : keys) {
      auto it = ledger_.rows.find(Tuple(k));
      out.push_back(it != ledger_.rows.end() && it->second == NoticeState::kDead);
    }
    return out;
  }
  absl::StatusOr<int64_t> CountDead() override {
    int64_t n = 0;
    for (const auto& [k, st] : ledger_.rows) n += st == NoticeState::kDead;
    return n;
  }
  std::vector<NoticeJob> topic;

 private:
  FakeLedger& ledger_;
};

class FakeOutbox : public OutboxSource {
 public:
  absl::StatusOr<std::vector<IncidentEvent>> FetchUnpublished(int limit) override {
    std::vector<IncidentEvent> out;
    for (const auto& e : events) {
      if (!published.count(e.outbox_id) && static_cast<int>(out.size()) < limit) out.push_back(e);
    }
    return out;
  }
  absl::Status MarkPublished(const std::vector<int64_t>& ids) override {
    if (!mark_error.ok()) return mark_error;
    published.insert(ids.begin(), ids.end());
    return absl::OkStatus();
  }
  absl::Status WaitForNew(absl::Duration) override { return absl::OkStatus(); }
  std::vector<IncidentEvent> events;
  std::set<int64_t> published;
  absl::Status mark_error = absl::OkStatus();
};

class FakePublisher : public EventPublisher {
 public:
  absl::Status Publish(const std::vector<IncidentEvent>& events) override {
    return RecordUnless(error, events, published);
  }
  std::vector<IncidentEvent> published;
  absl::Status error = absl::OkStatus();
};

}  // namespace forewarn::testing
