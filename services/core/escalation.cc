#include "services/core/escalation.h"

#include "spdlog/spdlog.h"

namespace forewarn {
namespace {

AudienceRole RoleOf(NoticeKind kind) {
  if (kind == NoticeKind::kIbanChangeHolder) return AudienceRole::kAccountHolder;
  if (kind == NoticeKind::kIbanChangeBeneficiary) return AudienceRole::kBeneficiary;
  return AudienceRole::kAffected;
}

bool OptedOut(const EscalationCandidate& c, Channel channel) {
  const int bit = 2 * static_cast<int>(CategoryOf(c.key.kind)) + (channel == Channel::kEmail ? 1 : 0);
  return (c.opted_out & (1 << bit)) != 0;
}

}  // namespace

EscalationDecision DecideEscalation(const EscalationCandidate& c) {
  EscalationDecision d;
  d.key = c.key;
  d.to = c.key.channel == Channel::kSms ? Channel::kEmail : Channel::kSms;
  if (c.other_channel_noticed) {
    d.action = EscalationDecision::Action::kOtherHasIt;
    return d;
  }
  const std::string& address = d.to == Channel::kEmail ? c.email : c.phone;
  if (address.empty() || OptedOut(c, d.to)) {
    d.action = EscalationDecision::Action::kNoOtherChannel;
    return d;
  }
  NoticeJob& job = d.job;
  job.incident_id = c.key.incident_id;
  job.version = c.key.version;
  job.kind = c.key.kind;
  job.occasion = c.key.occasion;
  job.recipient = Recipient{.customer_id = c.key.customer_id, .channel = d.to, .address = address,
                            .locale = c.locale, .time_zone = c.time_zone, .name = c.name,
                            .role = RoleOf(c.key.kind), .fallback_email = ""};
  return d;
}

absl::StatusOr<Escalator::Round> Escalator::RunOnce(absl::Time now) {
  auto due = store_.FetchDue(now, limit_);
  if (!due.ok()) return due.status();
  Round round;
  round.full = static_cast<int>(due->size()) >= limit_;
  std::vector<EscalationDecision> decisions;
  decisions.reserve(due->size());
  for (const EscalationCandidate& c : *due) {
    decisions.push_back(DecideEscalation(c));
    switch (decisions.back().action) {
      case EscalationDecision::Action::kEscalate:
        if (auto s = sink_.Enqueue(decisions.back().job); !s.ok()) return s;
        ++round.escalated;
        break;
      case EscalationDecision::Action::kOtherHasIt: ++round.other_has_it; break;
      case EscalationDecision::Action::kNoOtherChannel:
        ++round.undeliverable;
        spdlog::warn("event=notice_undeliverable incident={} version={} kind={} customer={} channel={} state={}",
                     c.key.incident_id, c.key.version, ToString(c.key.kind), c.key.customer_id,
                     ToString(c.key.channel), ToString(c.state));
        break;
    }
  }
  if (round.escalated > 0) {
    if (auto s = sink_.Flush(); !s.ok()) return s;
  }
  if (!decisions.empty()) {
    if (auto s = store_.Settle(decisions, now); !s.ok()) return s;
  }
  return round;
}

}  // namespace forewarn
