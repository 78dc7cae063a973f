#include "services/pg/pg_receipts.h"

#include <map>
#include <set>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "services/pg/pg_pool.h"
#include "spdlog/spdlog.h"

namespace forewarn {
namespace {

// Stores each receipt once; returns the new ones.
constexpr char kInsertReceipts[] =
    "INSERT INTO notice_receipts (ref, status, by_provider, source, detail, reported_at, received_at) "
    "SELECT u.ref, u.status, u.byp, u.src, u.detail, " FW_AT("nullif(u.rep, 0)") ", " FW_AT("$7") " "
    "FROM unnest($1::text[], $2::text[], $3::bool[], $4::text[], $5::text[], $6::bigint[]) "
    "  AS u(ref, status, byp, src, detail, rep) "
    "ON CONFLICT DO NOTHING RETURNING ref, status";

// A receipt settles a SENT notice. Delivered stops the escalation timer;
// undelivered and expired make it due now, unless the notice was escalated
// already (a late receipt: it still settles the notice).
#define FW_SETTLE_BY_RECEIPT                                                                          \
  "UPDATE notice_ledger AS l SET state = u.status, receipt_at = " FW_AT("u.at") ", "                  \
  "  receipt_due_at = CASE WHEN u.status = 'delivered' OR l.escalated_at IS NOT NULL THEN NULL "       \
  "                        ELSE " FW_AT("$4") " END "
constexpr char kApplyByKey[] = FW_SETTLE_BY_RECEIPT
    "FROM unnest($1::text[], $2::text[], $3::bigint[], $5::uuid[], $6::bigint[], $7::text[], $8::text[], "
    "  $9::bigint[], $10::text[], $11::bigint[]) AS u(ref, status, at, iid, ver, kind, occ, cid, ch, ep) "
    "WHERE l.incident_epoch = u.ep AND l.incident_id = u.iid AND l.customer_id = u.cid AND l.channel = u.ch AND l.incident_version = u.ver "
    "  AND l.notice_kind = u.kind AND l.occasion = u.occ AND l.state = 'sent' "
    "RETURNING u.ref, u.status";
constexpr char kApplyByProvider[] = FW_SETTLE_BY_RECEIPT
    "FROM unnest($1::text[], $2::text[], $3::bigint[]) AS u(ref, status, at) "
    "WHERE l.provider_id = u.ref AND l.state = 'sent' "
    "RETURNING u.ref, u.status";
#undef FW_SETTLE_BY_RECEIPT

// The states of the notices the receipts name that were not applied.
constexpr char kStatesByKey[] =
    "SELECT u.ref, l.state FROM unnest($1::text[], $2::uuid[], $3::bigint[], $4::text[], $5::text[], "
    "  $6::bigint[], $7::text[], $8::bigint[]) AS u(ref, iid, ver, kind, occ, cid, ch, ep) "
    "JOIN notice_ledger l ON l.incident_epoch = u.ep AND l.incident_id = u.iid AND l.customer_id = u.cid AND l.channel = u.ch "
    "  AND l.incident_version = u.ver AND l.notice_kind = u.kind AND l.occasion = u.occ";
constexpr char kStatesByProvider[] =
    "SELECT u.ref, l.state FROM unnest($1::text[]) AS u(ref) JOIN notice_ledger l ON l.provider_id = u.ref";

constexpr char kMarkReceipts[] =
    "UPDATE notice_receipts AS r SET applied_at = " FW_AT("$4") ", outcome = u.outcome "
    "FROM unnest($1::text[], $2::text[], $3::text[]) AS u(ref, status, outcome) "
    "WHERE r.ref = u.ref AND r.status = u.status";

constexpr char kFetchPending[] =
    "SELECT ref, status, by_provider, " FW_TS("coalesce(reported_at, received_at)") ", " FW_TS("received_at") " "
    "FROM notice_receipts WHERE applied_at IS NULL ORDER BY received_at LIMIT 1000 FOR UPDATE SKIP LOCKED";

// One receipt to apply: its reference, status and time, and (for our
// message ids) its notice's key.
struct Pending {
  std::string ref;
  std::string status;
  int64_t at_us = 0;
  bool by_provider = false;
  NoticeKey key;
  int64_t received_us = 0;
};

enum class Applied { kApplied, kConflicting, kPending };

// Settles what it can; the outcome of each receipt by (ref, status).
std::map<std::pair<std::string, std::string>, Applied> Apply(pqxx::work& tx, const std::vector<Pending>& receipts,
                                                             int64_t now_us) {
  std::vector<std::string> krefs, kstatus, prefs, pstatus;
  std::vector<int64_t> kat, pat;
  pg::KeyArrays keys;
  for (const Pending& p : receipts) {
    if (p.by_provider) {
      prefs.push_back(p.ref), pstatus.push_back(p.status), pat.push_back(p.at_us);
    } else {
      krefs.push_back(p.ref), kstatus.push_back(p.status), kat.push_back(p.at_us), keys.Add(p.key);
    }
  }
  std::map<std::pair<std::string, std::string>, Applied> out;
  for (const Pending& p : receipts) out[{p.ref, p.status}] = Applied::kPending;
  std::set<std::string> applied_refs;
  auto applied = [&](const pqxx::result& rows) {
    for (const auto& r : rows) {
      out[{r[0].as<std::string>(), r[1].as<std::string>()}] = Applied::kApplied;
      applied_refs.insert(r[0].as<std::string>());
    }
  };
  if (!krefs.empty()) {
    applied(tx.exec_params(kApplyByKey, pg::TextArray(krefs), pg::TextArray(kstatus), pg::IntArray(kat), now_us,
                           pg::TextArray(keys.ids), pg::IntArray(keys.versions), pg::TextArray(keys.kinds),
                           pg::TextArray(keys.occasions), pg::IntArray(keys.customers), pg::TextArray(keys.channels),
                           pg::IntArray(keys.epochs)));
  }
  if (!prefs.empty()) {
    applied(tx.exec_params(kApplyByProvider, pg::TextArray(prefs), pg::TextArray(pstatus), pg::IntArray(pat),
                           now_us));
  }
  // Not applied: a notice settled otherwise (by another receipt, or never
  // sent) conflicts; one not there or not settled yet waits. So does one
  // found SENT now: a worker recorded it after the update above read the
  // ledger, and the next ApplyPending applies the receipt.
  std::set<std::string> settled;
  auto states = [&](const pqxx::result& rows) {
    static const std::set<std::string> kSettledOtherwise = {"delivered", "undelivered", "expired",
                                                            "failed",    "superseded",  "dead"};
    for (const auto& r : rows) {
      if (kSettledOtherwise.contains(r[1].as<std::string>())) settled.insert(r[0].as<std::string>());
    }
  };
  if (!krefs.empty()) {
    states(tx.exec_params(kStatesByKey, pg::TextArray(krefs), pg::TextArray(keys.ids), pg::IntArray(keys.versions),
                          pg::TextArray(keys.kinds), pg::TextArray(keys.occasions), pg::IntArray(keys.customers),
                          pg::TextArray(keys.channels), pg::IntArray(keys.epochs)));
  }
  if (!prefs.empty()) states(tx.exec_params(kStatesByProvider, pg::TextArray(prefs)));
  for (auto& [id, outcome] : out) {
    if (outcome == Applied::kPending && settled.contains(id.first)) outcome = Applied::kConflicting;
  }
  return out;
}

// Marks the receipts that are done; counts every outcome.
ReceiptTally Mark(pqxx::work& tx, const std::map<std::pair<std::string, std::string>, Applied>& outcomes,
                  const std::set<std::pair<std::string, std::string>>& orphaned, int64_t now_us) {
  std::vector<std::string> refs, statuses, names;
  ReceiptTally tally;
  for (const auto& [id, outcome] : outcomes) {
    const char* name = outcome == Applied::kApplied ? "applied" : outcome == Applied::kConflicting ? "conflicting"
                       : orphaned.contains(id)      ? "orphaned"
                                                    : nullptr;
    if (outcome == Applied::kApplied) ++tally.applied;
    if (outcome == Applied::kConflicting) ++tally.conflicting;
    if (outcome == Applied::kPending && name == nullptr) ++tally.pending;
    if (name == nullptr) continue;
    refs.push_back(id.first), statuses.push_back(id.second), names.emplace_back(name);
  }
  if (!refs.empty()) {
    tx.exec_params(kMarkReceipts, pg::TextArray(refs), pg::TextArray(statuses), pg::TextArray(names), now_us);
  }
  return tally;
}

absl::StatusOr<Pending> ToPending(const Receipt& r, int64_t now_us) {
  Pending p;
  p.status = std::string(ToString(r.status));
  p.at_us = r.reported_at == absl::InfinitePast() ? now_us : pg::ToMicros(r.reported_at);
  p.received_us = now_us;
  if (!r.message_id.empty()) {
    auto key = ParseMessageId(r.message_id);
    if (!key.ok()) return key.status();
    p.ref = r.message_id;
    p.key = *std::move(key);
  } else if (!r.provider_id.empty()) {
    p.ref = r.provider_id;
    p.by_provider = true;
  } else {
    return absl::InvalidArgumentError("receipt: names no message (message_id or provider_id)");
  }
  return p;
}

}  // namespace

PgReceiptStore::PgReceiptStore(PgDatabase db) : pool_(db.pool()) {}
PgReceiptStore::~PgReceiptStore() = default;

absl::StatusOr<ReceiptTally> PgReceiptStore::Record(const std::vector<Receipt>& receipts, absl::Time now) {
  const int64_t now_us = pg::ToMicros(now);
  std::vector<Pending> all;
  std::vector<std::string> refs, statuses, sources, details;
  std::vector<bool> by_provider;
  std::vector<int64_t> reported;
  for (const Receipt& r : receipts) {
    auto p = ToPending(r, now_us);
    if (!p.ok()) return p.status();
    refs.push_back(p->ref), statuses.push_back(p->status), by_provider.push_back(p->by_provider);
    sources.push_back(r.source), details.push_back(r.detail);
    reported.push_back(r.reported_at == absl::InfinitePast() ? 0 : p->at_us);
    all.push_back(*std::move(p));
  }
  ReceiptTally tally;
  auto status = pool_->Run([&](pqxx::connection& c) -> absl::Status {
    pqxx::work tx(c);
    std::set<std::pair<std::string, std::string>> fresh;
    for (const auto& r : tx.exec_params(kInsertReceipts, pg::TextArray(refs), pg::TextArray(statuses),
                                        pg::BoolArray(by_provider), pg::TextArray(sources), pg::TextArray(details),
                                        pg::IntArray(reported), now_us)) {
      fresh.emplace(r[0].as<std::string>(), r[1].as<std::string>());
    }
    std::vector<Pending> apply;
    for (const Pending& p : all) {
      if (fresh.erase({p.ref, p.status})) apply.push_back(p);
    }
    tally = Mark(tx, Apply(tx, apply, now_us), {}, now_us);
    tally.duplicate = static_cast<int64_t>(all.size() - apply.size());
    tx.commit();
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  return tally;
}

absl::StatusOr<ReceiptTally> PgReceiptStore::ApplyPending(absl::Time now, absl::Duration give_up_after) {
  const int64_t now_us = pg::ToMicros(now);
  const int64_t give_up_us = pg::ToMicros(now - give_up_after);
  ReceiptTally tally;
  auto status = pool_->Run([&](pqxx::connection& c) -> absl::Status {
    pqxx::work tx(c);
    std::vector<Pending> pending;
    for (const auto& r : tx.exec(kFetchPending)) {
      Pending p{r[0].as<std::string>(), r[1].as<std::string>(), r[3].as<int64_t>(), r[2].as<bool>(), {},
                r[4].as<int64_t>()};
      if (!p.by_provider) {
        auto key = ParseMessageId(p.ref);
        if (!key.ok()) continue;  // never stored: Record checks
        p.key = *std::move(key);
      }
      pending.push_back(std::move(p));
    }
    if (pending.empty()) return absl::OkStatus();
    std::set<std::pair<std::string, std::string>> orphaned;
    for (const Pending& p : pending) {
      if (p.received_us < give_up_us) orphaned.emplace(p.ref, p.status);
    }
    tally = Mark(tx, Apply(tx, pending, now_us), orphaned, now_us);
    tx.commit();
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  return tally;
}

namespace {

constexpr char kFetchDueEscalations[] =
    "SELECT l.incident_id, l.incident_version, l.notice_kind, l.occasion, l.customer_id, l.channel, l.state, "
    "  coalesce(c.name, ''), coalesce(c.locale, 'en'), coalesce(c.time_zone, 'UTC'), coalesce(c.phone, ''), "
    "  coalesce(c.email, ''), coalesce(c.opted_out, 0), "
    "  EXISTS (SELECT 1 FROM notice_ledger o WHERE o.incident_epoch = l.incident_epoch "
    "    AND o.incident_id = l.incident_id "
    "    AND o.customer_id = l.customer_id AND o.channel <> l.channel AND o.incident_version = l.incident_version "
    "    AND o.notice_kind = l.notice_kind AND o.occasion = l.occasion) "
    "FROM notice_ledger l LEFT JOIN customers c ON c.id = l.customer_id "
    "WHERE l.receipt_due_at <= " FW_AT("$1") " ORDER BY l.receipt_due_at LIMIT $2";

constexpr char kSettleEscalations[] =
    "UPDATE notice_ledger AS l SET receipt_due_at = NULL, "
    "  escalated_at = CASE WHEN u.action = 'other' THEN l.escalated_at ELSE " FW_AT("$9") " END, "
    "  escalated_to = CASE WHEN u.action = 'escalate' THEN u.dest ELSE l.escalated_to END "
    "FROM unnest($1::uuid[], $2::bigint[], $3::text[], $4::text[], $5::bigint[], $6::text[], $7::text[], "
    "  $8::text[], $10::bigint[]) AS u(iid, ver, kind, occ, cid, ch, action, dest, ep) "
    "WHERE l.incident_epoch = u.ep AND l.incident_id = u.iid AND l.customer_id = u.cid AND l.channel = u.ch AND l.incident_version = u.ver "
    "  AND l.notice_kind = u.kind AND l.occasion = u.occ AND l.receipt_due_at IS NOT NULL";

std::optional<EscalationCandidate> CandidateOf(const pqxx::row& r) {
  auto kind = ParseNoticeKind(r[2].as<std::string>());
  auto channel = ParseChannel(r[5].as<std::string>());
  auto state = ParseNoticeState(r[6].as<std::string>());
  if (!kind.ok() || !channel.ok() || !state.ok()) return std::nullopt;
  EscalationCandidate c;
  c.key = NoticeKey{r[0].as<std::string>(), r[1].as<int64_t>(), *kind, r[3].as<std::string>(), r[4].as<int64_t>(),
                    *channel};
  c.state = *state;
  c.name = r[7].as<std::string>();
  c.locale = r[8].as<std::string>();
  c.time_zone = r[9].as<std::string>();
  c.phone = r[10].as<std::string>();
  c.email = r[11].as<std::string>();
  c.opted_out = r[12].as<int>();
  c.other_channel_noticed = r[13].as<bool>();
  return c;
}

}  // namespace

PgEscalationStore::PgEscalationStore(PgDatabase db) : pool_(db.pool()) {}
PgEscalationStore::~PgEscalationStore() = default;

absl::StatusOr<std::vector<EscalationCandidate>> PgEscalationStore::FetchDue(absl::Time now, int limit) {
  std::vector<EscalationCandidate> out;
  auto status = pool_->Run([&](pqxx::connection& c) -> absl::Status {
    out.clear();
    pqxx::read_transaction tx(c);
    for (const auto& r : tx.exec_params(kFetchDueEscalations, pg::ToMicros(now), limit)) {
      if (auto candidate = CandidateOf(r)) {
        out.push_back(*std::move(candidate));
      } else {
        spdlog::error("event=bad_escalation_row incident={} customer={}", r[0].c_str(), r[4].c_str());
      }
    }
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  return out;
}

absl::Status PgEscalationStore::Settle(const std::vector<EscalationDecision>& decisions, absl::Time now) {
  pg::KeyArrays keys;
  std::vector<std::string> actions, dests;
  for (const EscalationDecision& d : decisions) {
    keys.Add(d.key);
    actions.emplace_back(d.action == EscalationDecision::Action::kEscalate     ? "escalate"
                         : d.action == EscalationDecision::Action::kOtherHasIt ? "other"
                                                                                : "none");
    dests.emplace_back(ToString(d.to));
  }
  return pool_->Run([&](pqxx::connection& c) -> absl::Status {
    pqxx::work tx(c);
    tx.exec_params(kSettleEscalations, pg::TextArray(keys.ids), pg::IntArray(keys.versions),
                   pg::TextArray(keys.kinds), pg::TextArray(keys.occasions), pg::IntArray(keys.customers),
                   pg::TextArray(keys.channels), pg::TextArray(actions), pg::TextArray(dests), pg::ToMicros(now),
                   pg::IntArray(keys.epochs));
    tx.commit();
    return absl::OkStatus();
  });
}

}  // namespace forewarn
