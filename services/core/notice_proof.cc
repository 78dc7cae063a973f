#include "services/core/notice_proof.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "services/core/validation.h"

namespace forewarn {
namespace {

// The provider accepted it: sent, then perhaps settled by a receipt.
bool WasSent(NoticeState s) {
  return s == NoticeState::kSent || s == NoticeState::kDelivered || s == NoticeState::kUndelivered ||
         s == NoticeState::kExpired;
}

bool SameNotice(const ProofRow& a, const ProofRow& b) {
  return a.customer_id == b.customer_id && a.version == b.version && a.kind == b.kind && a.occasion == b.occasion;
}

ChannelProof ProveChannel(const ProofRow& row, const std::vector<ProofRow>& notice) {
  ChannelProof c;
  c.channel = row.channel;
  c.state = row.state;
  if (WasSent(row.state)) c.sent_at = row.updated_at;
  if (row.state == NoticeState::kDelivered && row.receipt_at) {
    c.delivered_at = row.receipt_at;
    c.met = *row.receipt_at <= row.deadline;
  }
  for (const ProofRow& other : notice) {
    if (other.channel != row.channel && other.escalated_to == row.channel) c.escalation = true;
  }
  return c;
}

absl::Status ValidateRequest(const ProofRequest& request) {
  if (auto s = ValidateIncidentId("incident_id", request.incident_id); !s.ok()) return s;
  if (!request.notice_kind.empty()) {
    if (auto kind = ParseNoticeKind(request.notice_kind); !kind.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("notice_kind: ", kind.status().message()));
    }
  }
  return absl::OkStatus();
}

}  // namespace

ProofOutcome JudgeNotice(bool met, absl::Time deadline, absl::Time now) {
  if (met) return ProofOutcome::kMet;
  return now > deadline ? ProofOutcome::kMissed : ProofOutcome::kPending;
}

const char* ToString(ProofOutcome outcome) {
  switch (outcome) {
    case ProofOutcome::kMet: return "met";
    case ProofOutcome::kMissed: return "missed";
    case ProofOutcome::kPending: return "pending";
  }
  return "pending";
}

void ProofSummary::Count(ProofOutcome outcome) {
  ++customers;
  switch (outcome) {
    case ProofOutcome::kMet: ++met; break;
    case ProofOutcome::kMissed: ++missed; break;
    case ProofOutcome::kPending: ++pending; break;
  }
}

NoticeProof ProveNotice(const std::vector<ProofRow>& rows) {
  NoticeProof p;
  if (rows.empty()) return p;
  const ProofRow& first = rows.front();
  p.customer_id = first.customer_id;
  p.version = first.version;
  p.kind = first.kind;
  p.occasion = first.occasion;
  p.deadline = first.deadline;
  for (const ProofRow& row : rows) {
    p.channels.push_back(ProveChannel(row, rows));
    p.met = p.met || p.channels.back().met;
  }
  return p;
}

absl::StatusOr<ProofSummary> NoticeProofService::Prove(const ProofRequest& request,
                                                       const std::function<absl::Status(const NoticeProof&)>& emit) {
  if (auto s = ValidateRequest(request); !s.ok()) return s;
  if (auto s = RequireLedger(retention_, request.incident_id); !s.ok()) return s;
  const absl::Time now = clock_.Now();
  ProofSummary summary;
  std::vector<ProofRow> notice;  // the rows of the notice being read
  auto flush = [&]() -> absl::Status {
    if (notice.empty()) return absl::OkStatus();
    const NoticeProof proof = ProveNotice(notice);
    notice.clear();
    const ProofOutcome outcome = OutcomeOf(proof, now);
    summary.Count(outcome);
    if (request.missed_only && outcome != ProofOutcome::kMissed) return absl::OkStatus();
    return emit(proof);
  };
  const ProofQuery query{request.incident_id, request.notice_kind, request.occasion};
  absl::Status status = source_.Stream(query, [&](const ProofRow& row) -> absl::Status {
    if (!notice.empty() && !SameNotice(notice.front(), row)) {
      if (auto s = flush(); !s.ok()) return s;
    }
    notice.push_back(row);
    return absl::OkStatus();
  });
  if (status.ok()) status = flush();
  if (!status.ok()) return status;
  return summary;
}

}  // namespace forewarn
