#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "services/core/ledger_retention.h"
#include "services/core/ports.h"

namespace forewarn {

// The operators' view of the dead-letter topic: notices that ran out of
// delivery attempts. A notice is pending while its ledger row is DEAD; the
// topic keeps every copy (replayed ones too), so the ledger decides.
// Thread-safe (replays are serialized: the sink is not).
class DeadLetterService {
 public:
  DeadLetterService(DeadLetterSource& source, DeadLetterLedger& ledger, NoticeSink& notices)
      : source_(source), ledger_(ledger), notices_(notices) {}

  struct Listing {
    int64_t pending = 0;              // dead notices (of the incident, if given)
    std::vector<NoticeJob> listed;    // up to the limit, oldest first
  };
  // `incident_id` empty: all incidents. INVALID_ARGUMENT naming the field.
  absl::StatusOr<Listing> List(const std::string& incident_id, int limit);

  struct Replay {
    int64_t replayed = 0;  // put back on the notices topic
  };
  // Puts every pending dead notice (of the incident, if given) back on the
  // notices topic as a fresh job (attempts start again) that may re-open
  // its DEAD ledger row. Replaying twice is harmless: the ledger lets one
  // copy through. Returns once the broker has them all.
  absl::StatusOr<Replay> ReplayAll(const std::string& incident_id);
  // Both answer FAILED_PRECONDITION for an incident whose ledger retention
  // dropped (its dead letters cannot be told from delivered ones any more).
  void set_ledger_retention(LedgerRetentionLog* log) { retention_ = log; }

 private:
  absl::StatusOr<std::vector<NoticeJob>> Pending(const std::string& incident_id);

  DeadLetterSource& source_;
  DeadLetterLedger& ledger_;
  NoticeSink& notices_;
  std::mutex replay_mu_;
  LedgerRetentionLog* retention_ = nullptr;
};

}  // namespace forewarn
