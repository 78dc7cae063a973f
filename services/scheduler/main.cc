// forewarn-scheduler: releases time-driven notices (maintenance reminders,
// start and completion, overdue follow-ups) into the outbox when due, and
// notices held for quiet hours back onto the notices topic when the
// customer's window opens. Safe to run several copies: releases are
// transactional and row-locked, and the notice ledger deduplicates.
#include <iostream>

#include "CLI/CLI.hpp"
#include "services/kafka/kafka_producer.h"
#include "services/kafka/kafka_topic_admin.h"
#include "services/http/metrics.h"
#include "services/pg/pg_store.h"
#include "services/runtime/pg_flags.h"
#include "services/runtime/runtime.h"
#include "spdlog/spdlog.h"

namespace {

struct SchedulerConfig {
  forewarn::PgFlags pg;
  std::string kafka_bootstrap;
  std::vector<std::string> kafka_props;
  std::string notices_topic = "forewarn.notices";
  int batch_size = 1000;
  int poll_ms = 500;
  int64_t time_offset_seconds = 0;  // tests and drills only
  std::string time_offset_file;     // tests and drills only
  std::string http_listen;
  std::string http_port_file;
};

}  // namespace

int main(int argc, char** argv) {
  SchedulerConfig cfg;
  CLI::App app{"forewarn-scheduler: releases due and held notices"};
  forewarn::AddPgFlags(app, cfg.pg);
  app.add_option("--kafka", cfg.kafka_bootstrap, "Kafka bootstrap servers")->envname("FOREWARN_KAFKA")->required();
  app.add_option("--kafka-prop", cfg.kafka_props, "extra librdkafka property key=value (repeatable)");
  app.add_option("--notices-topic", cfg.notices_topic)->envname("FOREWARN_NOTICES_TOPIC");
  app.add_option("--batch-size", cfg.batch_size)->check(CLI::Range(1, 100000));
  app.add_option("--poll-ms", cfg.poll_ms, "how often to look for due notices")->check(CLI::Range(10, 60000));
  app.add_option("--time-offset-seconds", cfg.time_offset_seconds, "shift the service clock (tests only)")
      ->envname("FOREWARN_TIME_OFFSET_SECONDS");
  app.add_option("--time-offset-file", cfg.time_offset_file, "read the clock shift in seconds from this file (tests)")
      ->envname("FOREWARN_TIME_OFFSET_FILE");
  app.add_option("--http-listen", cfg.http_listen, "metrics and health endpoint, e.g. 127.0.0.1:0")
      ->envname("FOREWARN_HTTP_LISTEN");
  app.add_option("--http-port-file", cfg.http_port_file, "write the metrics port here (tests)");
  CLI11_PARSE(app, argc, argv);

  forewarn::SetupLogging("scheduler");
  forewarn::RaiseOpenFileLimit();
  const auto& stop = forewarn::InstallStopSignals();

  auto kafka_cfg = forewarn::KafkaConfigFrom(cfg.kafka_bootstrap, "forewarn-scheduler", cfg.kafka_props);
  if (!kafka_cfg.ok()) {
    std::cerr << "error: " << kafka_cfg.status().message() << "\n";
    return 2;
  }
  if (int rc = forewarn::RequireTopics(*kafka_cfg, {{"--notices-topic", cfg.notices_topic}}, stop)) return rc;
  auto producer = forewarn::KafkaProducer::Create(*kafka_cfg);
  if (!producer.ok()) {
    spdlog::error("event=startup_failed status=\"{}\"", producer.status().ToString());
    return 1;
  }
  auto db = forewarn::ResolvePgEndpoint(cfg.pg, stop);
  if (!db.ok()) {
    spdlog::error("event=startup_failed status=\"{}\"", db.status().ToString());
    return 1;
  }
  if (auto s = forewarn::RetryUntilOk(stop, "apply migrations", [&] { return forewarn::ApplyMigrations(db->uri); });
      !s.ok()) {
    spdlog::error("event=startup_failed status=\"{}\"", s.ToString());
    return 1;
  }
  auto clock = forewarn::MakeServiceClock(cfg.time_offset_file, cfg.time_offset_seconds);
  forewarn::PgNoticeScheduler scheduled(*db);
  forewarn::PgHeldNotices held(*db);
  forewarn::KafkaNoticeSink sink(**producer, cfg.notices_topic);

  forewarn::MetricsRegistry metrics;
  auto& released_total = metrics.counter("forewarn_scheduled_released_total", "Scheduled notices released");
  auto& held_total = metrics.counter("forewarn_held_released_total", "Quiet-hours notices released");
  auto http = forewarn::StartObservabilityIfConfigured(cfg.http_listen, cfg.http_port_file, metrics);
  if (!http.ok()) {
    spdlog::error("event=startup_failed status=\"{}\"", http.status().ToString());
    return 1;
  }
  spdlog::info("event=started");
  while (!stop.load()) {
    bool busy = false;
    const absl::Time now = clock->Now();
    auto released = scheduled.ReleaseDue(now, cfg.batch_size);
    if (!released.ok()) {
      spdlog::warn("event=release_failed status=\"{}\"", released.status().ToString());
    } else if (*released > 0) {
      spdlog::info("event=scheduled_released count={}", *released);
      released_total.Increment(*released);
      busy = *released == cfg.batch_size;
    }
    // Held notices go back to the notices topic; marked released only after
    // the broker acknowledged them (a crash in between re-sends them, and
    // the ledger skips what was already delivered).
    auto due = held.FetchDue(now, cfg.batch_size);
    if (!due.ok()) {
      spdlog::warn("event=held_fetch_failed status=\"{}\"", due.status().ToString());
    } else if (!due->empty()) {
      absl::Status s = absl::OkStatus();
      for (const auto& h : *due) {
        if (s = sink.Enqueue(h.job); !s.ok()) break;
      }
      if (s.ok()) s = sink.Flush();
      if (s.ok()) s = held.MarkReleased(*due, now);
      if (!s.ok()) {
        spdlog::warn("event=held_release_failed status=\"{}\"", s.ToString());
      } else {
        spdlog::info("event=held_released count={}", due->size());
        held_total.Increment(static_cast<double>(due->size()));
        busy = busy || static_cast<int>(due->size()) == cfg.batch_size;
      }
    }
    if (!busy) forewarn::SleepUnlessStopped(stop, absl::Milliseconds(cfg.poll_ms));
  }
  spdlog::info("event=stopped");
  return 0;
}
