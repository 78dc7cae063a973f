// forewarn-notifier: a consumer-group worker. Run several; they split the
// partitions of the notices topic. Offsets are stored only after the ledger
// says every notice of the batch is done.
#include <iostream>

#include "CLI/CLI.hpp"
#include "notifier/channels/file_outbox_channel.h"
#include "notifier/render/template_renderer.h"
#include "notifier/worker/notifier_worker.h"
#include "services/kafka/codec.h"
#include "services/kafka/kafka_consumer.h"
#include "services/kafka/kafka_producer.h"
#include "services/pg/pg_store.h"
#include "services/runtime/policy_flags.h"
#include "services/runtime/runtime.h"
#include "spdlog/spdlog.h"

namespace {

struct NotifierConfig {
  std::string pg_uri;
  std::string kafka_bootstrap;
  std::vector<std::string> kafka_props;
  int session_timeout_ms = 10000;  // consumer group liveness
  std::string notices_topic = "forewarn.notices";
  std::string group = "forewarn-notifier";
  std::string templates_dir = "templates";
  std::string outbox_dir;
  int batch_size = 500;
  int64_t time_offset_seconds = 0;  // tests and drills only
  std::string time_offset_file;     // tests and drills only
  forewarn::PolicyFlags policy;
};

}  // namespace

int main(int argc, char** argv) {
  NotifierConfig cfg;
  CLI::App app{"forewarn-notifier: renders and delivers notices"};
  app.add_option("--pg", cfg.pg_uri, "PostgreSQL URI")->envname("FOREWARN_PG")->required();
  app.add_option("--kafka", cfg.kafka_bootstrap, "Kafka bootstrap servers")->envname("FOREWARN_KAFKA")->required();
  app.add_option("--kafka-prop", cfg.kafka_props, "extra librdkafka property key=value (repeatable)");
  app.add_option("--session-timeout-ms", cfg.session_timeout_ms,
                 "consumer group session timeout; a dead worker's partitions move after this")
      ->envname("FOREWARN_KAFKA_SESSION_TIMEOUT_MS")
      ->check(CLI::Range(1000, 300000));
  app.add_option("--notices-topic", cfg.notices_topic)->envname("FOREWARN_NOTICES_TOPIC");
  app.add_option("--group", cfg.group, "consumer group")->envname("FOREWARN_NOTIFIER_GROUP");
  app.add_option("--templates", cfg.templates_dir, "templates directory")->envname("FOREWARN_TEMPLATES");
  app.add_option("--outbox-dir", cfg.outbox_dir, "file outbox channel directory (sms.jsonl, email.jsonl)")
      ->envname("FOREWARN_OUTBOX_DIR")
      ->required();
  app.add_option("--batch-size", cfg.batch_size)->check(CLI::Range(1, 10000));
  app.add_option("--time-offset-seconds", cfg.time_offset_seconds, "shift the service clock (tests only)")
      ->envname("FOREWARN_TIME_OFFSET_SECONDS");
  app.add_option("--time-offset-file", cfg.time_offset_file, "read the clock shift in seconds from this file (tests)")
      ->envname("FOREWARN_TIME_OFFSET_FILE");
  forewarn::AddPolicyFlags(app, cfg.policy);
  CLI11_PARSE(app, argc, argv);
  forewarn::NoticePolicy policy;
  if (auto s = forewarn::ToNoticePolicy(cfg.policy, &policy); !s.ok()) {
    std::cerr << "error: " << s.message() << "\n";
    return 2;
  }

  forewarn::SetupLogging("notifier");
  const auto& stop = forewarn::InstallStopSignals();

  // A missing template or variable is a start-up error, not a blank notice.
  auto renderer = forewarn::TemplateRenderer::Load(cfg.templates_dir);
  if (!renderer.ok()) {
    spdlog::error("event=startup_failed status=\"{}\"", renderer.status().ToString());
    return 2;
  }
  if (auto s = forewarn::FileOutboxChannel::Validate(cfg.outbox_dir); !s.ok()) {
    spdlog::error("event=startup_failed status=\"{}\"", s.ToString());
    return 2;
  }
  auto kafka_cfg = forewarn::KafkaConfigFrom(cfg.kafka_bootstrap, "forewarn-notifier", cfg.kafka_props);
  if (!kafka_cfg.ok()) {
    spdlog::error("event=startup_failed status=\"{}\"", kafka_cfg.status().ToString());
    return 2;
  }
  kafka_cfg->session_timeout = std::chrono::milliseconds(cfg.session_timeout_ms);
  kafka_cfg->heartbeat_interval = std::chrono::milliseconds(std::max(250, cfg.session_timeout_ms / 6));
  auto consumer = forewarn::KafkaConsumer::Create(*kafka_cfg, cfg.group, {cfg.notices_topic});
  if (!consumer.ok()) {
    spdlog::error("event=startup_failed status=\"{}\"", consumer.status().ToString());
    return 1;
  }

  auto clock_ptr = forewarn::MakeServiceClock(cfg.time_offset_file, cfg.time_offset_seconds);
  const forewarn::Clock& clock = *clock_ptr;
  forewarn::PgIncidentStore incidents(forewarn::PgConfig{cfg.pg_uri, 1});
  forewarn::PgNoticeLedger ledger(cfg.pg_uri);
  forewarn::FileOutboxChannel sms(cfg.outbox_dir, forewarn::Channel::kSms, clock);
  forewarn::FileOutboxChannel email(cfg.outbox_dir, forewarn::Channel::kEmail, clock);
  forewarn::NotifierWorker worker(incidents, ledger, **renderer,
                                  {{forewarn::Channel::kSms, &sms}, {forewarn::Channel::kEmail, &email}}, clock,
                                  policy);

  spdlog::info("event=started group={} topic={}", cfg.group, cfg.notices_topic);
  std::vector<forewarn::NoticeJob> jobs;
  while (!stop.load()) {
    auto batch = (*consumer)->Poll(cfg.batch_size, absl::Milliseconds(200));
    if (!batch.ok()) {
      spdlog::warn("event=poll_error status=\"{}\"", batch.status().ToString());
      forewarn::SleepUnlessStopped(stop, absl::Seconds(1));
      continue;
    }
    if (batch->empty()) continue;
    jobs.clear();
    for (const auto& msg : *batch) {
      auto job = forewarn::DecodeJob(msg.value);
      if (!job.ok()) {
        spdlog::error("event=bad_job partition={} offset={} status=\"{}\"", msg.partition, msg.offset,
                      job.status().ToString());
        continue;
      }
      jobs.push_back(*std::move(job));
    }
    // Retry the batch in place on transient failures; finished notices are
    // skipped by the ledger on retry, so nothing is sent twice.
    auto status = forewarn::RetryUntilOk(stop, "deliver notice batch", [&] { return worker.ProcessBatch(jobs); });
    if (!status.ok()) break;  // stopping with unfinished work: leave offsets, it is redelivered
    if (auto s = (*consumer)->StoreOffsets(*batch); !s.ok()) {
      spdlog::warn("event=store_offset_failed status=\"{}\"", s.ToString());
    }
    const auto& st = worker.stats();
    spdlog::debug("event=batch_done size={} sent_total={} failed_total={} skipped_total={}", batch->size(), st.sent,
                  st.failed, st.skipped);
  }
  if (auto s = (*consumer)->Commit(); !s.ok()) spdlog::warn("event=commit_failed status=\"{}\"", s.ToString());
  (*consumer)->Close();
  const auto& st = worker.stats();
  spdlog::info("event=stopped sent={} failed={} skipped={}", st.sent, st.failed, st.skipped);
  return 0;
}
