#include "services/cmd/scheduler/scheduler_app.h"

#include <iostream>
#include <thread>

#include "CLI/CLI.hpp"
#include "absl/strings/numbers.h"
#include "services/core/escalation.h"
#include "services/core/ledger_retention.h"
#include "services/core/scheduled_releases.h"
#include "services/http/metrics.h"
#include "services/kafka/kafka_producer.h"
#include "services/kafka/kafka_topic_admin.h"
#include "services/pg/pg_ledger_partitions.h"
#include "services/pg/pg_receipts.h"
#include "services/pg/pg_store.h"
#include "services/runtime/policy_flags.h"
#include "services/runtime/runtime.h"
#include "spdlog/spdlog.h"

namespace forewarn {
namespace {

// One round of releases; each step says whether it released a full batch
// (more may be due at once).
class Releaser {
 public:
  Releaser(const PgDatabase& db, NoticeSink& sink, MetricsRegistry& metrics, int batch_size,
           absl::Duration receipt_give_up)
      : scheduled_notices_(db),
        scheduled_(scheduled_notices_),
        held_(db),
        escalations_(db),
        escalator_(escalations_, sink, batch_size),
        receipts_(db),
        sink_(sink),
        metrics_(metrics),
        released_total_(metrics.counter("forewarn_scheduled_released_total", "Scheduled notices released")),
        held_total_(metrics.counter("forewarn_held_released_total", "Quiet-hours notices released")),
        batch_size_(batch_size),
        receipt_give_up_(receipt_give_up) {}

  bool ReleaseScheduled(absl::Time now) {
    auto released = scheduled_.ReleaseDue(now, batch_size_);
    if (!released.ok()) {
      spdlog::warn("event=release_failed status=\"{}\"", released.status().ToString());
      return false;
    }
    if (*released == 0) return false;
    spdlog::info("event=scheduled_released count={}", *released);
    released_total_.Increment(*released);
    return *released == batch_size_;
  }

  // Held notices go back to the notices topic; marked released only after
  // the broker acknowledged them (a crash in between re-sends them, and
  // the ledger skips what was already delivered).
  // Escalation jobs go on the notices topic; the timers stop once the
  // broker has them (Escalator).
  bool Escalate(absl::Time now) {
    auto round = escalator_.RunOnce(now);
    if (!round.ok()) {
      spdlog::warn("event=escalation_failed status=\"{}\"", round.status().ToString());
      return false;
    }
    for (auto [outcome, count] : {std::pair{"escalated", round->escalated}, std::pair{"other_has_it", round->other_has_it},
                                  std::pair{"undeliverable", round->undeliverable}}) {
      if (count == 0) continue;
      metrics_
          .counter("forewarn_escalations_total",
                   "Notices not delivered in time: escalated to the other channel, already there, or undeliverable",
                   {{"outcome", outcome}})
          .Increment(static_cast<double>(count));
    }
    if (round->escalated + round->other_has_it + round->undeliverable > 0) {
      spdlog::info("event=escalations escalated={} other_has_it={} undeliverable={}", round->escalated,
                   round->other_has_it, round->undeliverable);
    }
    return round->full;
  }

  // Receipts that came before their notice was recorded.
  void ApplyPendingReceipts(absl::Time now) {
    auto tally = receipts_.ApplyPending(now, receipt_give_up_);
    if (!tally.ok()) {
      spdlog::warn("event=pending_receipts_failed status=\"{}\"", tally.status().ToString());
    } else if (tally->applied + tally->conflicting > 0) {
      spdlog::info("event=pending_receipts applied={} conflicting={} still_pending={}", tally->applied,
                   tally->conflicting, tally->pending);
    }
  }

  bool ReleaseHeld(absl::Time now) {
    auto due = held_.FetchDue(now, batch_size_);
    if (!due.ok()) {
      spdlog::warn("event=held_fetch_failed status=\"{}\"", due.status().ToString());
      return false;
    }
    if (due->empty()) return false;
    absl::Status s = absl::OkStatus();
    for (const auto& h : *due) {
      if (s = sink_.Enqueue(h.job); !s.ok()) break;
    }
    if (s.ok()) s = sink_.Flush();
    if (s.ok()) s = held_.MarkReleased(*due, now);
    if (!s.ok()) {
      spdlog::warn("event=held_release_failed status=\"{}\"", s.ToString());
      return false;
    }
    spdlog::info("event=held_released count={}", due->size());
    held_total_.Increment(static_cast<double>(due->size()));
    return static_cast<int>(due->size()) == batch_size_;
  }

 private:
  PgNoticeScheduler scheduled_notices_;
  ScheduledReleases scheduled_;  // the core's use case over scheduled_notices_
  PgHeldNotices held_;
  PgEscalationStore escalations_;
  Escalator escalator_;  // the core's use case over escalations_
  PgReceiptStore receipts_;
  NoticeSink& sink_;
  MetricsRegistry& metrics_;
  Counter& released_total_;
  Counter& held_total_;
  int batch_size_;
  absl::Duration receipt_give_up_;
};

// Ledger partition maintenance on its own thread: creating and dropping
// months may wait for locks and for other transactions, which must not hold
// up releases.
class LedgerKeeper {
 public:
  LedgerKeeper(const PgDatabase& db, const Clock& clock, absl::Duration retention, absl::Duration every,
               const std::atomic<bool>& stop)
      : partitions_(db), maintenance_(partitions_, clock, retention), every_(every), stop_(stop) {
    thread_ = std::thread([this] { Loop(); });
  }
  ~LedgerKeeper() { thread_.join(); }

 private:
  void Loop() {
    while (!stop_.load()) {
      auto round = maintenance_.RunOnce();
      if (!round.ok()) {
        spdlog::warn("event=ledger_maintenance_failed status=\"{}\"", round.status().ToString());
      } else {
        spdlog::info("event=ledger_maintenance created={} dropped={} kept={} receipts_deleted={}", round->created,
                     round->dropped, round->kept, round->receipts_deleted);
      }
      SleepUnlessStopped(stop_, every_);
    }
  }
  PgLedgerPartitions partitions_;
  LedgerMaintenance maintenance_;
  absl::Duration every_;
  const std::atomic<bool>& stop_;
  std::thread thread_;
};

// "400d" (days) or any ParseDurationFlag duration.
absl::Status ParseDays(const char* flag, const std::string& text, absl::Duration* out) {
  int64_t days = 0;
  if (!text.empty() && text.back() == 'd' && absl::SimpleAtoi(text.substr(0, text.size() - 1), &days) && days >= 0) {
    *out = absl::Hours(24 * days);
    return absl::OkStatus();
  }
  return ParseDurationFlag(flag, text, out);
}

}  // namespace

void AddSchedulerFlags(CLI::App& app, SchedulerConfig& cfg) {
  AddPgFlags(app, cfg.pg);
  AddKafkaFlags(app, cfg.kafka);
  app.add_option("--notices-topic", cfg.notices_topic)->envname("FOREWARN_NOTICES_TOPIC");
  app.add_option("--batch-size", cfg.batch_size)->check(CLI::Range(1, 100000));
  app.add_option("--poll-ms", cfg.poll_ms, "how often to look for due notices")->check(CLI::Range(10, 60000));
  app.add_option("--receipt-give-up", cfg.receipt_give_up,
                 "drop a delivery receipt that still matches no notice this long after it came");
  app.add_option("--ledger-retention", cfg.ledger_retention,
                 "drop the notice ledger's months older than this (e.g. 400d, 9600h; at least 31d), keeping any "
                 "with an incident still open or changed since")
      ->envname("FOREWARN_LEDGER_RETENTION");
  app.add_option("--ledger-maintenance-every", cfg.ledger_maintenance_every,
                 "how often to create the ledger's next months and drop those past the retention");
  AddClockFlags(app, cfg.clock);
  AddHttpFlags(app, cfg.http);
}

int RunScheduler(const SchedulerConfig& cfg) {
  SetupLogging("scheduler");
  RaiseOpenFileLimit();
  const auto& stop = InstallStopSignals();
  auto kafka_cfg = ToKafkaConfig(cfg.kafka, "forewarn-scheduler");
  if (!kafka_cfg.ok()) {
    std::cerr << "error: " << kafka_cfg.status().message() << "\n";
    return 2;
  }
  absl::Duration receipt_give_up;
  absl::Status give_up = ParseDurationFlag("--receipt-give-up", cfg.receipt_give_up, &receipt_give_up);
  if (give_up.ok() && receipt_give_up <= absl::ZeroDuration()) {
    give_up = absl::InvalidArgumentError("--receipt-give-up: must be longer than 0, e.g. 24h");
  }
  if (!give_up.ok()) return StartupFailed(give_up, 2);
  absl::Duration retention, maintenance_every;
  absl::Status retention_ok = ParseDays("--ledger-retention", cfg.ledger_retention, &retention);
  if (retention_ok.ok()) retention_ok = ValidateLedgerRetention(retention);
  if (retention_ok.ok()) {
    retention_ok = ParseDurationFlag("--ledger-maintenance-every", cfg.ledger_maintenance_every, &maintenance_every);
  }
  if (retention_ok.ok() && maintenance_every < absl::Seconds(1)) {
    retention_ok = absl::InvalidArgumentError("--ledger-maintenance-every: must be at least 1s, e.g. 1h");
  }
  if (!retention_ok.ok()) return StartupFailed(retention_ok, 2);
  if (int rc = RequireTopics(*kafka_cfg, {{"--notices-topic", cfg.notices_topic}}, stop)) return rc;
  auto producer = KafkaProducer::Create(*kafka_cfg);
  if (!producer.ok()) return StartupFailed(producer.status(), 1);
  auto db = ResolvePgEndpoint(cfg.pg, stop);
  if (!db.ok()) return StartupFailed(db.status(), 1);
  if (auto s = RetryUntilOk(stop, "apply migrations", [&] { return ApplyMigrations(db->uri); }); !s.ok()) {
    return StartupFailed(s, 1);
  }
  const auto clock = MakeServiceClock(cfg.clock.offset_file, cfg.clock.offset_seconds);
  KafkaNoticeSink sink(**producer, cfg.notices_topic);
  MetricsRegistry metrics;
  const PgDatabase pg(*db, cfg.pg.pool_size);
  Releaser releaser(pg, sink, metrics, cfg.batch_size, receipt_give_up);
  LedgerKeeper keeper(pg, *clock, retention, maintenance_every, stop);
  auto http = StartObservabilityIfConfigured(cfg.http.listen, cfg.http.port_file, metrics);
  if (!http.ok()) return StartupFailed(http.status(), 1);
  spdlog::info("event=started");
  while (!stop.load()) {
    const absl::Time now = clock->Now();
    const bool more_scheduled = releaser.ReleaseScheduled(now);
    const bool more_held = releaser.ReleaseHeld(now);
    releaser.ApplyPendingReceipts(now);
    const bool more_escalations = releaser.Escalate(now);
    if (!more_scheduled && !more_held && !more_escalations) {
      SleepUnlessStopped(stop, absl::Milliseconds(cfg.poll_ms));
    }
  }
  spdlog::info("event=stopped");
  return 0;
}

}  // namespace forewarn
