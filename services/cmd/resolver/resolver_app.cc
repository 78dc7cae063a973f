#include "services/cmd/resolver/resolver_app.h"

#include "CLI/CLI.hpp"
#include "services/consumer/consumer_loop.h"
#include "services/core/resolver.h"
#include "services/http/metrics.h"
#include "services/kafka/codec.h"
#include "services/kafka/kafka_consumer.h"
#include "services/kafka/kafka_producer.h"
#include "services/kafka/kafka_session_check.h"
#include "services/kafka/kafka_topic_admin.h"
#include "services/pg/pg_store.h"
#include "services/runtime/runtime.h"
#include "spdlog/spdlog.h"

namespace forewarn {
namespace {

struct ReceivedEvent {
  IncidentEvent event;
  int64_t timestamp_ms = -1;  // the broker's create time of the message
};

// Fans events out through the Resolver and measures it.
class FanOut {
 public:
  FanOut(Resolver& resolver, MetricsRegistry& metrics)
      : resolver_(resolver),
        metrics_(metrics),
        seconds_(metrics.histogram("forewarn_fanout_seconds", "Time to fan one incident event out", {},
                                   {0.01, 0.1, 0.5, 1, 2, 5, 10, 30, 60, 120, 300})),
        lag_(metrics.gauge("forewarn_fanout_lag_seconds",
                           "Age of the last event fanned out (now - its Kafka timestamp)")),
        jobs_total_(metrics.counter("forewarn_notice_jobs_total", "Notice jobs produced")) {}

  ConsumeHandlers<ReceivedEvent> Handlers() {
    ConsumeHandlers<ReceivedEvent> h;
    h.decode = [](const ConsumedMessage& m) -> absl::StatusOr<ReceivedEvent> {
      auto event = DecodeEvent(m.value);
      if (!event.ok()) return event.status();
      return ReceivedEvent{*std::move(event), m.timestamp_ms};
    };
    h.handle = [this](const std::vector<ReceivedEvent>& items, std::vector<size_t>*) { return Handle(items); };
    h.on_handled = [this](const std::vector<ReceivedEvent>& items, absl::Duration took) { Handled(items, took); };
    return h;
  }

 private:
  // Transient failures (database or broker down) are retryable: the loop
  // calls again, so the event is never skipped. Others are logged and the
  // event counts as done.
  absl::Status Handle(const std::vector<ReceivedEvent>& items) {
    jobs_.assign(items.size(), 0);
    for (size_t i = 0; i < items.size(); ++i) {
      const IncidentEvent& event = items[i].event;
      absl::StatusOr<int64_t> jobs = resolver_.Handle(event);
      if (IsRetryable(jobs.status())) return jobs.status();
      if (!jobs.ok()) {
        spdlog::error("event=fan_out_failed incident={} version={} status=\"{}\"", event.incident_id, event.version,
                      jobs.status().ToString());
        continue;
      }
      jobs_[i] = *jobs;
    }
    return absl::OkStatus();
  }

  void Handled(const std::vector<ReceivedEvent>& items, absl::Duration took) {
    for (size_t i = 0; i < items.size(); ++i) {
      const IncidentEvent& event = items[i].event;
      seconds_.Observe(absl::ToDoubleSeconds(took));
      jobs_total_.Increment(static_cast<double>(jobs_[i]));
      metrics_.counter("forewarn_events_total", "Incident events fanned out", {{"kind", ToString(event.notice_kind)}})
          .Increment();
      if (items[i].timestamp_ms > 0) {
        lag_.Set(absl::ToDoubleSeconds(absl::Now() - absl::FromUnixMillis(items[i].timestamp_ms)));
      }
      spdlog::info("event=fanned_out incident={} version={} kind={} jobs={} ms={}", event.incident_id, event.version,
                   ToString(event.notice_kind), jobs_[i], absl::ToInt64Milliseconds(took));
    }
  }

  Resolver& resolver_;
  MetricsRegistry& metrics_;
  Histogram& seconds_;
  Gauge& lag_;
  Counter& jobs_total_;
  std::vector<int64_t> jobs_;  // per item of the batch being handled
};

}  // namespace

void AddResolverFlags(CLI::App& app, ResolverConfig& cfg) {
  AddPgFlags(app, cfg.pg);
  AddPgReadFlags(app, cfg.pg_read);
  AddKafkaFlags(app, cfg.kafka);
  AddGroupFlags(app, cfg.group, "FOREWARN_RESOLVER_GROUP");
  app.add_option("--events-topic", cfg.events_topic)->envname("FOREWARN_EVENTS_TOPIC");
  app.add_option("--notices-topic", cfg.notices_topic)->envname("FOREWARN_NOTICES_TOPIC");
  app.add_option("--fetch-size", cfg.fetch_size, "audience rows per cursor fetch")->check(CLI::Range(100, 100000));
  AddHttpFlags(app, cfg.http);
}

int RunResolver(const ResolverConfig& cfg) {
  SetupLogging("resolver");
  RaiseOpenFileLimit();
  const auto& stop = InstallStopSignals();
  auto db = ResolvePgEndpoint(cfg.pg, stop);
  if (!db.ok()) return StartupFailed(db.status(), 1);
  auto kafka_cfg = ToGroupKafkaConfig(cfg.kafka, cfg.group, "forewarn-resolver");
  if (!kafka_cfg.ok()) return StartupFailed(kafka_cfg.status(), 2);
  if (int rc = RequireTopics(*kafka_cfg, {{"--events-topic", cfg.events_topic}, {"--notices-topic", cfg.notices_topic}},
                             stop)) {
    return rc;  // logged: a missing topic (with the command that creates it) or no broker
  }
  if (int rc = RequireSessionTimeoutAccepted(*kafka_cfg, stop)) return rc;  // logged
  auto producer = KafkaProducer::Create(*kafka_cfg, kFanOutLinger);  // writes only fan-outs' notice jobs
  auto consumer = KafkaConsumer::Create(*kafka_cfg, cfg.group.group, {cfg.events_topic});
  if (!producer.ok() || !consumer.ok()) return StartupFailed(!producer.ok() ? producer.status() : consumer.status(), 1);

  PgDatabase pg(*db, cfg.pg.pool_size);
  MetricsRegistry metrics;
  // The audience stream only: the incident's versions stay on the primary (supersession wants the newest).
  if (auto s = AttachReadReplica(cfg.pg_read, cfg.pg, pg, metrics, stop); !s.ok()) return StartupFailed(s, 2);
  PgIncidentStore incidents(pg);
  PgAudienceSource audience(pg, cfg.fetch_size);
  KafkaNoticeSink sink(**producer, cfg.notices_topic);
  Resolver resolver(incidents, audience, sink);
  FanOut fan_out(resolver, metrics);
  auto http = StartObservabilityIfConfigured(cfg.http.listen, cfg.http.port_file, metrics);
  if (!http.ok()) return StartupFailed(http.status(), 1);

  spdlog::info("event=started group={} topic={}", cfg.group.group, cfg.events_topic);
  const SystemClock clock;
  ConsumeOptions options{.name = "event", .handle_what = "fan out incident event", .poll_max = 16, .batch_max = 1,
                         .poll_timeout = absl::Milliseconds(500)};
  ConsumerLoop<ReceivedEvent>(**consumer, fan_out.Handlers(), ServiceConsumeRuntime(clock, stop), options).Run(stop);
  spdlog::info("event=stopped");
  return 0;
}

}  // namespace forewarn
