// forewarn-resolver: incident events in, one notice job per affected
// customer and channel out. Offsets are stored only after the jobs are
// acknowledged by the broker.
#include "CLI/CLI.hpp"
#include "services/core/resolver.h"
#include "services/kafka/codec.h"
#include "services/kafka/kafka_consumer.h"
#include "services/kafka/kafka_producer.h"
#include "services/kafka/kafka_session_check.h"
#include "services/kafka/kafka_topic_admin.h"
#include "services/http/metrics.h"
#include "services/pg/pg_store.h"
#include "services/runtime/pg_flags.h"
#include "services/runtime/runtime.h"
#include "spdlog/spdlog.h"

namespace {

struct ResolverConfig {
  forewarn::PgFlags pg;
  std::string kafka_bootstrap;
  std::vector<std::string> kafka_props;
  int session_timeout_ms = 10000;  // consumer group liveness
  std::string events_topic = "forewarn.events";
  std::string notices_topic = "forewarn.notices";
  std::string group = "forewarn-resolver";
  std::string instance_id;  // static group membership; empty: dynamic
  int fetch_size = 5000;
  std::string http_listen;
  std::string http_port_file;
};

}  // namespace

int main(int argc, char** argv) {
  ResolverConfig cfg;
  CLI::App app{"forewarn-resolver: fans incident events out to notice jobs"};
  forewarn::AddPgFlags(app, cfg.pg);
  app.add_option("--kafka", cfg.kafka_bootstrap, "Kafka bootstrap servers")->envname("FOREWARN_KAFKA")->required();
  app.add_option("--kafka-prop", cfg.kafka_props, "extra librdkafka property key=value (repeatable)");
  app.add_option("--session-timeout-ms", cfg.session_timeout_ms,
                 "consumer group session timeout; a dead worker's partitions move after this")
      ->envname("FOREWARN_KAFKA_SESSION_TIMEOUT_MS")
      ->check(CLI::Range(1000, 300000));
  app.add_option("--events-topic", cfg.events_topic)->envname("FOREWARN_EVENTS_TOPIC");
  app.add_option("--notices-topic", cfg.notices_topic)->envname("FOREWARN_NOTICES_TOPIC");
  app.add_option("--group", cfg.group, "consumer group")->envname("FOREWARN_RESOLVER_GROUP");
  app.add_option("--instance-id", cfg.instance_id,
                 "static consumer group membership (group.instance.id), e.g. the pod name; empty: dynamic")
      ->envname("FOREWARN_INSTANCE_ID");
  app.add_option("--fetch-size", cfg.fetch_size, "audience rows per cursor fetch")->check(CLI::Range(100, 100000));
  app.add_option("--http-listen", cfg.http_listen, "metrics and health endpoint, e.g. 127.0.0.1:0")
      ->envname("FOREWARN_HTTP_LISTEN");
  app.add_option("--http-port-file", cfg.http_port_file, "write the metrics port here (tests)");
  CLI11_PARSE(app, argc, argv);

  forewarn::SetupLogging("resolver");
  forewarn::RaiseOpenFileLimit();
  const auto& stop = forewarn::InstallStopSignals();
  auto db = forewarn::ResolvePgEndpoint(cfg.pg, stop);
  if (!db.ok()) {
    spdlog::error("event=startup_failed status=\"{}\"", db.status().ToString());
    return 1;
  }

  auto kafka_cfg = forewarn::KafkaConfigFrom(cfg.kafka_bootstrap, "forewarn-resolver", cfg.kafka_props);
  if (!kafka_cfg.ok()) {
    spdlog::error("event=startup_failed status=\"{}\"", kafka_cfg.status().ToString());
    return 2;
  }
  kafka_cfg->session_timeout = std::chrono::milliseconds(cfg.session_timeout_ms);
  kafka_cfg->heartbeat_interval = std::chrono::milliseconds(std::max(250, cfg.session_timeout_ms / 6));
  kafka_cfg->group_instance_id = cfg.instance_id;
  if (int rc = forewarn::RequireTopics(*kafka_cfg,
                                       {{"--events-topic", cfg.events_topic},
                                        {"--notices-topic", cfg.notices_topic}},
                                       stop)) {
    return rc;  // logged: a missing topic (with the command that creates it) or no broker
  }
  if (int rc = forewarn::RequireSessionTimeoutAccepted(*kafka_cfg, stop)) return rc;  // logged
  auto producer = forewarn::KafkaProducer::Create(*kafka_cfg);
  auto consumer = forewarn::KafkaConsumer::Create(*kafka_cfg, cfg.group, {cfg.events_topic});
  if (!producer.ok() || !consumer.ok()) {
    spdlog::error("event=startup_failed status=\"{}\"",
                  (!producer.ok() ? producer.status() : consumer.status()).ToString());
    return 1;
  }

  forewarn::PgIncidentStore incidents(forewarn::PgConfig{*db, 2});
  forewarn::PgAudienceSource audience(*db, cfg.fetch_size);
  forewarn::KafkaNoticeSink sink(**producer, cfg.notices_topic);
  forewarn::Resolver resolver(incidents, audience, sink);

  forewarn::MetricsRegistry metrics;
  auto& fanout_seconds = metrics.histogram("forewarn_fanout_seconds", "Time to fan one incident event out", {},
                                           {0.01, 0.1, 0.5, 1, 2, 5, 10, 30, 60, 120, 300});
  auto& fanout_lag = metrics.gauge("forewarn_fanout_lag_seconds",
                                   "Age of the last event fanned out (now - its Kafka timestamp)");
  auto& jobs_total = metrics.counter("forewarn_notice_jobs_total", "Notice jobs produced");
  auto http = forewarn::StartObservabilityIfConfigured(cfg.http_listen, cfg.http_port_file, metrics);
  if (!http.ok()) {
    spdlog::error("event=startup_failed status=\"{}\"", http.status().ToString());
    return 1;
  }
  spdlog::info("event=started group={} topic={}", cfg.group, cfg.events_topic);
  while (!stop.load()) {
    auto batch = (*consumer)->Poll(16, absl::Milliseconds(500));
    if (!batch.ok()) {
      spdlog::warn("event=poll_error status=\"{}\"", batch.status().ToString());
      forewarn::SleepUnlessStopped(stop, absl::Seconds(1));
      continue;
    }
    for (const auto& msg : *batch) {
      auto event = forewarn::DecodeEvent(msg.value);
      if (!event.ok()) {
        // A payload we cannot read will never become readable: skip it loudly.
        spdlog::error("event=bad_event partition={} offset={} status=\"{}\"", msg.partition, msg.offset,
                      event.status().ToString());
        continue;
      }
      const absl::Time started = absl::Now();
      absl::StatusOr<int64_t> jobs = absl::UnknownError("not run");
      // Transient failures (database or broker down) are retried in place,
      // so the event is never skipped; a restart re-reads it from the
      // last stored offset.
      auto status = forewarn::RetryUntilOk(stop, "fan out incident event", [&] {
        jobs = resolver.Handle(*event);
        return forewarn::IsRetryable(jobs.status()) ? jobs.status() : absl::OkStatus();
      });
      if (!status.ok()) break;  // stopping: do not store this offset
      if (!jobs.ok()) {
        spdlog::error("event=fan_out_failed incident={} version={} status=\"{}\"", event->incident_id,
                      event->version, jobs.status().ToString());
        jobs = 0;
      }
      fanout_seconds.Observe(absl::ToDoubleSeconds(absl::Now() - started));
      jobs_total.Increment(static_cast<double>(*jobs));
      metrics
          .counter("forewarn_events_total", "Incident events fanned out", {{"kind", forewarn::ToString(event->notice_kind)}})
          .Increment();
      if (msg.timestamp_ms > 0) {
        fanout_lag.Set(absl::ToDoubleSeconds(absl::Now() - absl::FromUnixMillis(msg.timestamp_ms)));
      }
      spdlog::info("event=fanned_out incident={} version={} kind={} jobs={} ms={}", event->incident_id,
                   event->version, forewarn::ToString(event->notice_kind), *jobs,
                   absl::ToInt64Milliseconds(absl::Now() - started));
      if (auto s = (*consumer)->StoreOffsets({msg}); !s.ok()) {
        spdlog::warn("event=store_offset_failed status=\"{}\"", s.ToString());
      }
    }
  }
  if (auto s = (*consumer)->Commit(); !s.ok()) spdlog::warn("event=commit_failed status=\"{}\"", s.ToString());
  (*consumer)->Close();
  spdlog::info("event=stopped");
  return 0;
}
