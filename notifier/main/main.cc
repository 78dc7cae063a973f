// forewarn-notifier: a consumer-group worker. Run several; they split the
// partitions of the notices topic. Offsets are stored only after the ledger
// says every notice of the batch is done.
#include <algorithm>
#include <atomic>
#include <functional>
#include <map>
#include <set>
#include <iostream>

#include "CLI/CLI.hpp"
#include "notifier/channels/file_outbox_channel.h"
#include "notifier/channels/http_sms_channel.h"
#include "notifier/channels/smtp_channel.h"
#include "notifier/delivery/circuit_breaker.h"
#include "notifier/delivery/instrumented_channel.h"
#include "notifier/delivery/provider_probe.h"
#include "notifier/delivery/rate_limited_channel.h"
#include "notifier/delivery/token_bucket.h"
#include "notifier/delivery/validating_channel.h"
#include "notifier/render/template_renderer.h"
#include "notifier/worker/notifier_worker.h"
#include "services/kafka/codec.h"
#include "services/kafka/kafka_consumer.h"
#include "services/kafka/kafka_producer.h"
#include "services/kafka/kafka_session_check.h"
#include "services/kafka/kafka_topic_admin.h"
#include "services/http/metrics.h"
#include "services/pg/pg_store.h"
#include "services/runtime/policy_flags.h"
#include "services/runtime/pg_flags.h"
#include "services/runtime/runtime.h"
#include "spdlog/spdlog.h"

namespace {

// How long a partition waits before a notice in flight under another
// worker's lease is tried again (the holder settles it, or its lease expires).
constexpr absl::Duration kBusyWait = absl::Seconds(2);

struct NotifierConfig {
  forewarn::PgFlags pg;
  std::string kafka_bootstrap;
  std::vector<std::string> kafka_props;
  int session_timeout_ms = 10000;  // consumer group liveness
  std::string notices_topic = "forewarn.notices";
  std::string retry_topic = "forewarn.notices.retry";
  std::string dlq_topic = "forewarn.notices.dlq";
  int max_attempts = 5;
  int retry_backoff_ms = 2000;
  int retry_backoff_max_ms = 300000;
  std::string group = "forewarn-notifier";
  std::string instance_id;  // static group membership; empty: dynamic
  std::string templates_dir = "templates";
  std::string outbox_dir;  // file outbox for channels without a provider
  // Email over SMTP when smtp.url is set.
  forewarn::SmtpConfig smtp;
  std::string smtp_tls = "starttls";
  // SMS over an HTTP gateway when sms.url is set.
  forewarn::HttpSmsConfig sms;
  std::string sms_body = "json";
  std::vector<std::string> sms_fields;  // name=template
  // Provider rate limits, messages per second (0: unlimited).
  double sms_rate = 0;
  double email_rate = 0;
  // Notices per batch (one claim, one outbox write, one ledger write).
  // Default: 5000 when every channel is the local file outbox, 1000 with a
  // network provider (a send is a round trip); a rate-limited channel caps
  // it at a minute of its rate. A batch must finish well within librdkafka's
  // max.poll.interval.ms (5 minutes) or the group rebalances.
  int batch_size = 0;
  // Sends recorded in groups of at most this many (0: 20 with a network
  // provider, the whole batch with the file outbox only, which a restarted
  // worker can ask what it already has): a crash re-sends at most this many
  // per worker.
  int record_every = 0;
  int record_interval_ms = 200;  // and at least this often
  int lease_ms = 60000;          // how long in-flight notices stay this worker's without renewal
  // How long a provider that cannot be reached at start-up is waited for
  // (a configuration fault stops the start at once).
  int provider_probe_wait_ms = 30000;
  std::string http_listen;     // /metrics, /healthz, /readyz
  std::string http_port_file;  // tests
  int64_t time_offset_seconds = 0;  // tests and drills only
  std::string time_offset_file;     // tests and drills only
  forewarn::PolicyFlags policy;
};

// Probes each configured provider (SMTP: TLS and AUTH as configured; SMS
// gateway: TCP and TLS), waiting up to --provider-probe-wait-ms for one that
// cannot be reached. 0 when all answer, else the exit code: 2 for a
// configuration fault, 1 for a provider still unreachable.
int ProbeProviders(const NotifierConfig& cfg, const forewarn::Clock& clock, const std::atomic<bool>& stop) {
  std::vector<std::pair<std::string, std::function<absl::Status()>>> probes;
  if (!cfg.smtp.url.empty()) {
    probes.emplace_back("--smtp-url", [&] { return forewarn::SmtpChannel(cfg.smtp, clock).Probe(); });
  }
  if (!cfg.sms.url.empty()) {
    probes.emplace_back("--sms-url", [&] { return forewarn::HttpSmsChannel(cfg.sms).Probe(); });
  }
  const auto sleep = [&stop](absl::Duration d) {
    forewarn::SleepUnlessStopped(stop, d);
    return !stop.load();
  };
  const forewarn::SystemClock wall;
  for (const auto& [flag, probe] : probes) {
    const absl::Status s =
        forewarn::ProbeProvider(flag, probe, absl::Milliseconds(cfg.provider_probe_wait_ms), wall, sleep);
    if (s.ok()) continue;
    spdlog::error("event=startup_failed status=\"{} {}\"", flag, std::string(s.message()));
    return s.code() == absl::StatusCode::kUnavailable ? 1 : 2;
  }
  return 0;
}

using TopicPartition = std::pair<std::string, int32_t>;

// Jobs whose notice is in flight under another worker's lease (a worker that
// was paused or died mid-send) come again later: each one's partition is
// rewound to the first of them and paused for `wait`, and from there on
// nothing is stored (removed from `done`). `job_message[i]` is the index in
// `done` of jobs[i]'s message. Returns the jobs whose partition could not be
// rewound: the caller retries them in place.
std::vector<forewarn::NoticeJob> DeferBusy(forewarn::KafkaConsumer& consumer, const std::vector<size_t>& busy,
                                           const std::vector<forewarn::NoticeJob>& jobs,
                                           const std::vector<size_t>& job_message,
                                           std::vector<forewarn::KafkaMessage>& done,
                                           std::map<TopicPartition, absl::Time>& paused, absl::Time until) {
  std::map<TopicPartition, int64_t> rewind;
  for (size_t i : busy) {
    const auto& m = done[job_message[i]];
    auto [it, inserted] = rewind.try_emplace({m.topic, m.partition}, m.offset);
    if (!inserted) it->second = std::min(it->second, m.offset);
  }
  std::vector<forewarn::NoticeJob> stuck;
  for (auto it = rewind.begin(); it != rewind.end();) {
    if (auto s = consumer.PauseAt({it->first.first, it->first.second}, it->second); s.ok()) {
      paused[it->first] = until;
      ++it;
      continue;
    } else {
      spdlog::warn("event=pause_failed topic={} partition={} status=\"{}\"", it->first.first, it->first.second,
                   s.ToString());
    }
    for (size_t i : busy) {
      const auto& m = done[job_message[i]];
      if (TopicPartition{m.topic, m.partition} == it->first) stuck.push_back(jobs[i]);
    }
    it = rewind.erase(it);
  }
  std::erase_if(done, [&](const forewarn::KafkaMessage& m) {
    auto it = rewind.find({m.topic, m.partition});
    return it != rewind.end() && m.offset >= it->second;
  });
  return stuck;
}

}  // namespace

int main(int argc, char** argv) {
  NotifierConfig cfg;
  CLI::App app{"forewarn-notifier: renders and delivers notices"};
  forewarn::AddPgFlags(app, cfg.pg);
  app.add_option("--kafka", cfg.kafka_bootstrap, "Kafka bootstrap servers")->envname("FOREWARN_KAFKA")->required();
  app.add_option("--kafka-prop", cfg.kafka_props, "extra librdkafka property key=value (repeatable)");
  app.add_option("--session-timeout-ms", cfg.session_timeout_ms,
                 "consumer group session timeout; a dead worker's partitions move after this")
      ->envname("FOREWARN_KAFKA_SESSION_TIMEOUT_MS")
      ->check(CLI::Range(1000, 300000));
  app.add_option("--notices-topic", cfg.notices_topic)->envname("FOREWARN_NOTICES_TOPIC");
  app.add_option("--retry-topic", cfg.retry_topic, "notices waiting to be tried again (also consumed)")
      ->envname("FOREWARN_RETRY_TOPIC");
  app.add_option("--dlq-topic", cfg.dlq_topic, "notices out of delivery attempts")->envname("FOREWARN_DLQ_TOPIC");
  app.add_option("--max-attempts", cfg.max_attempts, "delivery attempts before a notice is dead-lettered")
      ->envname("FOREWARN_MAX_ATTEMPTS")
      ->check(CLI::Range(1, 100));
  app.add_option("--retry-backoff-ms", cfg.retry_backoff_ms, "first retry after this (doubling, with jitter)")
      ->envname("FOREWARN_RETRY_BACKOFF_MS")
      ->check(CLI::Range(1, 3600000));
  app.add_option("--retry-backoff-max-ms", cfg.retry_backoff_max_ms, "longest wait between attempts")
      ->envname("FOREWARN_RETRY_BACKOFF_MAX_MS")
      ->check(CLI::Range(1, 86400000));
  app.add_option("--group", cfg.group, "consumer group")->envname("FOREWARN_NOTIFIER_GROUP");
  app.add_option("--instance-id", cfg.instance_id,
                 "static consumer group membership (group.instance.id), e.g. the pod name; empty: dynamic")
      ->envname("FOREWARN_INSTANCE_ID");
  app.add_option("--templates", cfg.templates_dir, "templates directory")->envname("FOREWARN_TEMPLATES");
  app.add_option("--outbox-dir", cfg.outbox_dir,
                 "file outbox (sms.jsonl, email.jsonl) for channels without a provider")
      ->envname("FOREWARN_OUTBOX_DIR");
  app.add_option("--smtp-url", cfg.smtp.url, "SMTP server, smtp://host:port or smtps://host:port")
      ->envname("FOREWARN_SMTP_URL");
  app.add_option("--smtp-tls", cfg.smtp_tls, "none, starttls or implicit")
      ->envname("FOREWARN_SMTP_TLS")
      ->check(CLI::IsMember({"none", "starttls", "implicit"}));
  app.add_option("--smtp-username", cfg.smtp.username)->envname("FOREWARN_SMTP_USERNAME");
  app.add_option("--smtp-password", cfg.smtp.password)->envname("FOREWARN_SMTP_PASSWORD");
  app.add_option("--smtp-from", cfg.smtp.from_address, "sender address")->envname("FOREWARN_SMTP_FROM");
  app.add_option("--smtp-from-name", cfg.smtp.from_name, "sender display name")->envname("FOREWARN_SMTP_FROM_NAME");
  app.add_option("--smtp-ca-file", cfg.smtp.ca_file)->envname("FOREWARN_SMTP_CA_FILE");
  app.add_option("--sms-url", cfg.sms.url, "SMS gateway endpoint (HTTP POST)")->envname("FOREWARN_SMS_URL");
  app.add_option("--sms-auth-header", cfg.sms.auth_header, "e.g. 'Authorization: Bearer TOKEN'")
      ->envname("FOREWARN_SMS_AUTH_HEADER");
  app.add_option("--sms-body", cfg.sms_body, "json or form")
      ->envname("FOREWARN_SMS_BODY")
      ->check(CLI::IsMember({"json", "form"}));
  app.add_option("--sms-field", cfg.sms_fields, "body field name=template with {to} {text} {message_id} {sender}");
  app.add_option("--sms-sender", cfg.sms.sender)->envname("FOREWARN_SMS_SENDER");
  app.add_option("--sms-id-field", cfg.sms.provider_id_field, "response field holding the provider message id");
  app.add_option("--sms-ca-file", cfg.sms.ca_file)->envname("FOREWARN_SMS_CA_FILE");
  app.add_option("--sms-idempotency-header", cfg.sms.idempotency_header,
                 "header carrying the message id on every gateway request (empty: none)")
      ->envname("FOREWARN_SMS_IDEMPOTENCY_HEADER");
  app.add_option("--provider-probe-wait-ms", cfg.provider_probe_wait_ms,
                 "at start-up, wait this long for an unreachable SMTP server or SMS gateway (0: try once)")
      ->envname("FOREWARN_PROVIDER_PROBE_WAIT_MS")
      ->check(CLI::Range(0, 600000));
  int sms_timeout_ms = 5000;
  app.add_option("--sms-timeout-ms", sms_timeout_ms, "per request, connect included")->check(CLI::Range(100, 120000));
  app.add_option("--sms-rate", cfg.sms_rate, "SMS provider limit, messages per second (0: none)")
      ->envname("FOREWARN_SMS_RATE");
  app.add_option("--email-rate", cfg.email_rate, "SMTP provider limit, messages per second (0: none)")
      ->envname("FOREWARN_EMAIL_RATE");
  app.add_option("--batch-size", cfg.batch_size, "notices per batch (default: 5000 with the file outbox only, else 1000)")
      ->check(CLI::Range(1, 10000));
  app.add_option("--record-every", cfg.record_every,
                 "notices claimed, sent and recorded together: at most this many may be sent twice after a crash "
                 "(default: 20 with a network provider, the batch with the file outbox only)")
      ->envname("FOREWARN_RECORD_EVERY")
      ->check(CLI::Range(1, 10000));
  app.add_option("--record-interval-ms", cfg.record_interval_ms, "record sends at least this often")
      ->envname("FOREWARN_RECORD_INTERVAL_MS")
      ->capture_default_str()
      ->check(CLI::Range(10, 60000));
  app.add_option("--lease-ms", cfg.lease_ms,
                 "in-flight notices stay this worker's this long without renewal; a paused worker resumes without "
                 "duplicates if paused for less, a crashed worker's in-flight notices wait this long")
      ->envname("FOREWARN_LEASE_MS")
      ->capture_default_str()
      ->check(CLI::Range(1000, 3600000));
  app.add_option("--http-listen", cfg.http_listen, "metrics and health endpoint, e.g. 127.0.0.1:0")
      ->envname("FOREWARN_HTTP_LISTEN");
  app.add_option("--http-port-file", cfg.http_port_file, "write the metrics port here (tests)");
  app.add_option("--time-offset-seconds", cfg.time_offset_seconds, "shift the service clock (tests only)")
      ->envname("FOREWARN_TIME_OFFSET_SECONDS");
  app.add_option("--time-offset-file", cfg.time_offset_file, "read the clock shift in seconds from this file (tests)")
      ->envname("FOREWARN_TIME_OFFSET_FILE");
  forewarn::AddPolicyFlags(app, cfg.policy);
  CLI11_PARSE(app, argc, argv);
  if (cfg.batch_size == 0) {
    cfg.batch_size = cfg.sms.url.empty() && cfg.smtp.url.empty() ? 5000 : 1000;
    for (double rate : {cfg.sms_rate, cfg.email_rate}) {
      if (rate > 0) cfg.batch_size = std::clamp(static_cast<int>(rate * 60), 1, cfg.batch_size);
    }
  }
  if (cfg.record_every == 0) {
    cfg.record_every = cfg.sms.url.empty() && cfg.smtp.url.empty() ? cfg.batch_size : 20;
  }
  forewarn::NoticePolicy policy;
  if (auto s = forewarn::ToNoticePolicy(cfg.policy, &policy); !s.ok()) {
    std::cerr << "error: " << s.message() << "\n";
    return 2;
  }

  forewarn::SetupLogging("notifier");
  forewarn::RaiseOpenFileLimit();
  const auto& stop = forewarn::InstallStopSignals();

  auto clock_ptr = forewarn::MakeServiceClock(cfg.time_offset_file, cfg.time_offset_seconds);
  const forewarn::Clock& clock = *clock_ptr;
  // A missing template or variable is a start-up error, not a blank notice.
  auto renderer = forewarn::TemplateRenderer::Load(cfg.templates_dir, clock);
  if (!renderer.ok()) {
    spdlog::error("event=startup_failed status=\"{}\"", renderer.status().ToString());
    return 2;
  }
  cfg.sms.timeout = std::chrono::milliseconds(sms_timeout_ms);
  cfg.smtp.tls = cfg.smtp_tls == "none"       ? forewarn::SmtpConfig::Tls::kNone
                 : cfg.smtp_tls == "implicit" ? forewarn::SmtpConfig::Tls::kImplicit
                                              : forewarn::SmtpConfig::Tls::kStartTls;
  cfg.sms.body = cfg.sms_body == "form" ? forewarn::HttpSmsConfig::Body::kForm : forewarn::HttpSmsConfig::Body::kJson;
  for (const auto& f : cfg.sms_fields) {
    const auto eq = f.find('=');
    if (eq == std::string::npos || eq == 0) {
      std::cerr << "error: --sms-field '" << f << "': expected name=template\n";
      return 2;
    }
    cfg.sms.fields[f.substr(0, eq)] = f.substr(eq + 1);
  }
  const bool need_outbox = cfg.smtp.url.empty() || cfg.sms.url.empty();
  absl::Status config_status = absl::OkStatus();
  if (need_outbox && cfg.outbox_dir.empty()) {
    config_status = absl::InvalidArgumentError("--outbox-dir is required unless both --smtp-url and --sms-url are set");
  } else if (need_outbox) {
    config_status = forewarn::FileOutboxChannel::Validate(cfg.outbox_dir);
  }
  if (config_status.ok() && !cfg.smtp.url.empty()) config_status = forewarn::SmtpChannel::Validate(cfg.smtp);
  if (config_status.ok() && !cfg.sms.url.empty()) config_status = forewarn::HttpSmsChannel::Validate(cfg.sms);
  if (!config_status.ok()) {
    std::cerr << "error: " << config_status.message() << "\n";
    return 2;
  }
  if (int rc = ProbeProviders(cfg, clock, stop); rc != 0) return rc;
  auto kafka_cfg = forewarn::KafkaConfigFrom(cfg.kafka_bootstrap, "forewarn-notifier", cfg.kafka_props);
  if (!kafka_cfg.ok()) {
    spdlog::error("event=startup_failed status=\"{}\"", kafka_cfg.status().ToString());
    return 2;
  }
  kafka_cfg->session_timeout = std::chrono::milliseconds(cfg.session_timeout_ms);
  kafka_cfg->heartbeat_interval = std::chrono::milliseconds(std::max(250, cfg.session_timeout_ms / 6));
  kafka_cfg->group_instance_id = cfg.instance_id;
  if (int rc = forewarn::RequireTopics(*kafka_cfg,
                                       {{"--notices-topic", cfg.notices_topic},
                                        {"--retry-topic", cfg.retry_topic},
                                        {"--dlq-topic", cfg.dlq_topic}},
                                       stop)) {
    return rc;  // logged: a missing topic (with the command that creates it) or no broker
  }
  if (int rc = forewarn::RequireSessionTimeoutAccepted(*kafka_cfg, stop)) return rc;  // logged
  auto consumer = forewarn::KafkaConsumer::Create(*kafka_cfg, cfg.group, {cfg.notices_topic, cfg.retry_topic});
  if (!consumer.ok()) {
    spdlog::error("event=startup_failed status=\"{}\"", consumer.status().ToString());
    return 1;
  }
  auto producer = forewarn::KafkaProducer::Create(*kafka_cfg);
  if (!producer.ok()) {
    spdlog::error("event=startup_failed status=\"{}\"", producer.status().ToString());
    return 1;
  }
  forewarn::KafkaNoticeRequeue requeue(**producer, cfg.retry_topic, cfg.dlq_topic);

  auto db = forewarn::ResolvePgEndpoint(cfg.pg, stop);
  if (!db.ok()) {
    spdlog::error("event=startup_failed status=\"{}\"", db.status().ToString());
    return 1;
  }
  forewarn::PgIncidentStore incidents(forewarn::PgConfig{*db, 1});
  forewarn::PgNoticeLedger ledger(*db, {forewarn::NewLeaseOwner(), absl::Milliseconds(cfg.lease_ms)});
  // Each channel: provider (or file outbox) <- metrics <- circuit breaker <-
  // rate limit <- address check.
  std::unique_ptr<forewarn::DeliveryChannel> sms_provider, email_provider;
  if (cfg.sms.url.empty()) {
    sms_provider = std::make_unique<forewarn::FileOutboxChannel>(cfg.outbox_dir, forewarn::Channel::kSms, clock);
  } else {
    sms_provider = std::make_unique<forewarn::HttpSmsChannel>(cfg.sms);
  }
  if (cfg.smtp.url.empty()) {
    email_provider = std::make_unique<forewarn::FileOutboxChannel>(cfg.outbox_dir, forewarn::Channel::kEmail, clock);
  } else {
    email_provider = std::make_unique<forewarn::SmtpChannel>(cfg.smtp, clock);
  }
  forewarn::MetricsRegistry metrics;
  forewarn::InstrumentedChannel sms_measured("sms", *sms_provider, metrics);
  forewarn::InstrumentedChannel email_measured("email", *email_provider, metrics);
  forewarn::TokenBucket sms_bucket(cfg.sms_rate, std::max(1.0, cfg.sms_rate), clock);
  forewarn::TokenBucket email_bucket(cfg.email_rate, std::max(1.0, cfg.email_rate), clock);
  forewarn::CircuitBreakerChannel sms_breaker("sms", sms_measured, clock, {});
  forewarn::CircuitBreakerChannel email_breaker("email", email_measured, clock, {});
  forewarn::RateLimitedChannel sms_limited(sms_breaker, sms_bucket);
  forewarn::RateLimitedChannel email_limited(email_breaker, email_bucket);
  forewarn::ValidatingChannel sms(sms_limited);
  forewarn::ValidatingChannel email(email_limited);
  forewarn::NotifierWorker worker(incidents, ledger, **renderer,
                                  {{forewarn::Channel::kSms, &sms}, {forewarn::Channel::kEmail, &email}}, clock,
                                  policy);
  worker.set_requeue(&requeue, {cfg.max_attempts, absl::Milliseconds(cfg.retry_backoff_ms),
                                absl::Milliseconds(std::max(cfg.retry_backoff_ms, cfg.retry_backoff_max_ms))});

  worker.set_record_policy({cfg.record_every, absl::Milliseconds(cfg.record_interval_ms),
                            [&stop](absl::Duration d) {
                              forewarn::SleepUnlessStopped(stop, d);
                              return !stop.load();
                            }});

  worker.set_observer([&metrics](const forewarn::NoticeJob& job, forewarn::NoticeState state) {
    metrics
        .counter("forewarn_notices_total", "Notices by kind, channel and final state",
                 {{"kind", forewarn::ToString(job.kind)},
                  {"channel", forewarn::ToString(job.recipient.channel)},
                  {"state", forewarn::ToString(state)}})
        .Increment();
  });
  auto& retries = metrics.counter("forewarn_delivery_retries_total", "Batches retried after a transient failure");
  // The worker's own counts of what keeps sends single, as counters.
  auto& fenced = metrics.counter("forewarn_notices_fenced_total",
                                 "Notices not sent: this worker's lease on them had been taken over");
  auto& busy = metrics.counter("forewarn_notices_busy_total",
                               "Claims that met a notice in flight under another worker's lease");
  auto& record_retries = metrics.counter("forewarn_ledger_record_retries_total",
                                         "Ledger writes of outcomes retried (the sends are not repeated)");
  forewarn::NotifierWorker::Stats exported;
  auto export_stats = [&] {
    const auto& st = worker.stats();
    fenced.Increment(static_cast<double>(st.fenced - exported.fenced));
    busy.Increment(static_cast<double>(st.busy - exported.busy));
    record_retries.Increment(static_cast<double>(st.record_retries - exported.record_retries));
    exported = st;
  };
  auto& batches = metrics.histogram("forewarn_notifier_batch_seconds", "Time to finish a batch of notices", {},
                                    forewarn::DefaultLatencyBuckets());
  std::atomic<bool> consuming{false};
  // Not ready while a provider fault (TLS, authentication) holds a circuit open.
  auto http = forewarn::StartObservabilityIfConfigured(cfg.http_listen, cfg.http_port_file, metrics, [&] {
    return consuming.load() && sms_breaker.fault_reason().empty() && email_breaker.fault_reason().empty();
  });
  if (!http.ok()) {
    spdlog::error("event=startup_failed status=\"{}\"", http.status().ToString());
    return 1;
  }
  consuming = true;
  spdlog::info("event=started group={} topic={}", cfg.group, cfg.notices_topic);
  std::vector<forewarn::NoticeJob> jobs;
  std::vector<forewarn::KafkaMessage> done;
  std::vector<size_t> job_message, busy_jobs;
  // Partitions rewound to a retry that is not due yet (or to a notice in
  // flight elsewhere), and when to resume them.
  std::map<TopicPartition, absl::Time> paused;
  while (!stop.load()) {
    const absl::Time now = clock.Now();
    for (auto it = paused.begin(); it != paused.end();) {
      if (it->second > now) {
        ++it;
        continue;
      }
      if (auto s = (*consumer)->Resume({it->first.first, it->first.second}); !s.ok()) {
        spdlog::warn("event=resume_failed topic={} partition={} status=\"{}\"", it->first.first, it->first.second,
                     s.ToString());
      }
      it = paused.erase(it);
    }
    auto batch = (*consumer)->Poll(cfg.batch_size, absl::Milliseconds(200));
    if (!batch.ok()) {
      spdlog::warn("event=poll_error status=\"{}\"", batch.status().ToString());
      forewarn::SleepUnlessStopped(stop, absl::Seconds(1));
      continue;
    }
    if (batch->empty()) continue;
    jobs.clear();
    done.clear();
    job_message.clear();
    std::set<TopicPartition> deferred;
    for (const auto& msg : *batch) {
      const auto tp = std::make_pair(msg.topic, msg.partition);
      if (deferred.contains(tp)) continue;  // comes again after the partition resumes
      auto job = forewarn::DecodeJob(msg.value);
      if (!job.ok()) {
        spdlog::error("event=bad_job partition={} offset={} status=\"{}\"", msg.partition, msg.offset,
                      job.status().ToString());
        done.push_back(msg);
        continue;
      }
      if (job->not_before > now) {
        // A retry before its time: rewind its partition to it and wait. If
        // that fails the retry goes now rather than be skipped over.
        if (auto s = (*consumer)->PauseAt({msg.topic, msg.partition}, msg.offset); s.ok()) {
          deferred.insert(tp);
          paused[tp] = job->not_before;
          continue;
        } else {
          spdlog::warn("event=pause_failed topic={} partition={} status=\"{}\"", msg.topic, msg.partition,
                       s.ToString());
        }
      }
      jobs.push_back(*std::move(job));
      job_message.push_back(done.size());
      done.push_back(msg);
    }
    if (done.empty()) continue;
    // Retry the batch in place on failures of the pipeline itself (the
    // ledger, the broker, a provider's open circuit); finished notices are
    // skipped by the ledger on retry, so nothing is sent twice. A provider's
    // transient failure of one notice went to the retry topic instead.
    const absl::Time batch_start = absl::Now();
    bool first_try = true;
    auto status = forewarn::RetryUntilOk(stop, "deliver notice batch", [&] {
      if (!first_try) retries.Increment();
      first_try = false;
      busy_jobs.clear();
      absl::Status s = worker.ProcessBatch(jobs, &busy_jobs);
      export_stats();
      return s;
    });
    if (status.ok() && !busy_jobs.empty()) {
      auto stuck = DeferBusy(**consumer, busy_jobs, jobs, job_message, done, paused, clock.Now() + kBusyWait);
      if (!stuck.empty()) {
        status = forewarn::RetryUntilOk(stop, "deliver notices in flight elsewhere",
                                        [&] { return worker.ProcessBatch(stuck); });
      }
    }
    batches.Observe(absl::ToDoubleSeconds(absl::Now() - batch_start));
    if (!status.ok()) break;  // stopping with unfinished work: leave offsets, it is redelivered
    if (auto s = (*consumer)->StoreOffsets(done); !s.ok()) {
      spdlog::warn("event=store_offset_failed status=\"{}\"", s.ToString());
    }
    const auto& st = worker.stats();
    spdlog::debug("event=batch_done size={} sent_total={} failed_total={} skipped_total={}", done.size(), st.sent,
                  st.failed, st.skipped);
  }
  if (auto s = (*consumer)->Commit(); !s.ok()) spdlog::warn("event=commit_failed status=\"{}\"", s.ToString());
  (*consumer)->Close();
  const auto& st = worker.stats();
  spdlog::info("event=stopped sent={} failed={} skipped={} superseded={} held={} fallbacks={} retried={} "
               "dead_lettered={}",
               st.sent, st.failed, st.skipped, st.superseded, st.held, st.fallbacks, st.retried, st.dead_lettered);
  return 0;
}
