#include "notifier/cmd/notifier_app.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <tuple>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "notifier/channels/file_outbox_channel.h"
#include "notifier/delivery/circuit_breaker.h"
#include "notifier/delivery/instrumented_channel.h"
#include "notifier/delivery/provider_probe.h"
#include "notifier/delivery/rate_limited_channel.h"
#include "notifier/delivery/validating_channel.h"
#include "notifier/render/template_renderer.h"
#include "notifier/smpp/smpp_channel.h"
#include "notifier/smpp/smpp_session.h"
#include "notifier/worker/notifier_worker.h"
#include "services/consumer/consumer_loop.h"
#include "services/core/token_bucket.h"
#include "services/directory/unsubscribe_token.h"
#include "services/http/metrics.h"
#include "services/kafka/codec.h"
#include "services/kafka/kafka_consumer.h"
#include "services/kafka/kafka_producer.h"
#include "services/kafka/kafka_session_check.h"
#include "services/kafka/kafka_topic_admin.h"
#include "services/pg/pg_receipts.h"
#include "services/pg/pg_status_links.h"
#include "services/pg/pg_store.h"
#include "services/preview/sms_budget_check.h"
#include "services/runtime/runtime.h"
#include "spdlog/spdlog.h"

namespace forewarn {
namespace {

// The List-Unsubscribe links of emails (none without --unsubscribe-url).
// FAILED_PRECONDITION / INVALID_ARGUMENT naming the flag at fault.
absl::StatusOr<UnsubscribeLinkFn> LoadUnsubscribeLinks(const NotifierConfig& cfg) {
  if (cfg.unsubscribe_url.empty()) return UnsubscribeLinkFn();
  auto tokens = UnsubscribeTokens::FromFile(cfg.unsubscribe_secret_file);
  if (!tokens.ok()) {
    return absl::FailedPreconditionError(absl::StrCat("--unsubscribe-secret-file: ", tokens.status().message()));
  }
  auto links = UnsubscribeLinks::Create(cfg.unsubscribe_url, *std::move(tokens), cfg.opt_out_categories);
  if (!links.ok()) return absl::InvalidArgumentError(absl::StrCat("--unsubscribe-url: ", links.status().message()));
  auto shared = std::make_shared<const UnsubscribeLinks>(*std::move(links));
  spdlog::info("event=unsubscribe_links url_base=\"{}\"", cfg.unsubscribe_url);
  return UnsubscribeLinkFn([shared](const NoticeJob& job) { return shared->For(job); });
}

// The renderer, checked before anything is connected: every template loads
// and every kind's SMS at its longest, with the configured status link and
// code (NoticeLinkSettings::Longest), stays within its segment budget
// (templates/sms_budgets.json). FAILED_PRECONDITION otherwise.
absl::StatusOr<std::unique_ptr<TemplateRenderer>> LoadCheckedRenderer(const NotifierConfig& cfg, const Clock& clock,
                                                                      UnsubscribeLinkFn unsubscribe) {
  const NoticeLinkSettings& settings = cfg.notice_links;
  auto renderer = TemplateRenderer::Load(
      cfg.templates_dir, clock, std::move(unsubscribe),
      [&settings](const NoticeJob& job, const Incident&, const std::string&) -> absl::StatusOr<NoticeMarks> {
        return settings.Longest(job.kind);
      });
  if (!renderer.ok()) return renderer.status();
  auto budgets = SmsBudgets::Load(cfg.templates_dir + "/sms_budgets.json");
  if (!budgets.ok()) return budgets.status();
  if (absl::Status s = CheckSmsBudgets(**renderer, *budgets); !s.ok()) {
    return absl::FailedPreconditionError(absl::StrCat("--status-base-url '", settings.base_url, "', --templates '",
                                                      cfg.templates_dir, "': ", s.message()));
  }
  spdlog::info("event=notice_links status_base_url=\"{}\" link_kinds={}", settings.base_url,
               settings.link_kinds.size());
  return renderer;
}

// How long a partition waits before a notice in flight under another
// worker's lease is tried again (the holder settles it, or its lease expires).
constexpr absl::Duration kBusyWait = absl::Seconds(2);

// The SMPP start-up check: connect and bind on a session of its own, then
// unbind. A refused bind is FAILED_PRECONDITION (waiting cannot help), an
// SMSC that cannot be reached UNAVAILABLE.
absl::Status ProbeSmpp(const NotifierConfig& cfg) {
  smpp::SessionConfig probe = cfg.smpp;
  probe.reconnect_min = probe.reconnect_max = std::chrono::milliseconds(60000);  // one try
  smpp::Session session(probe);
  session.Start();
  const absl::Status s = session.WaitBound(probe.connect_timeout * 2);
  const std::string where = absl::StrCat(cfg.smpp_flags.host, ": ");
  if (s.ok()) return s;
  if (!ProviderFaultReason(s).empty()) return absl::FailedPreconditionError(absl::StrCat(where, s.message()));
  return absl::UnavailableError(absl::StrCat(where, s.message()));
}

// What becomes of the delivery receipts the SMPP session receives (deliver_sm):
// logged for now. The receipt store is wired here (ReceiptStore::Record).
// The SMSC's receipts are written durably before they are acknowledged: a
// failed write is retried (the receipt thread waits; the SMSC sends again
// what was never acknowledged), given up only when the process stops.
// Receipts come in batches (what arrived meanwhile): one transaction each.
smpp::Session::ReceiptFn SmppReceiptRecorder(ReceiptStore& store, const Clock& clock,
                                             const std::atomic<bool>& stop) {
  return [&store, &clock, &stop](std::vector<Receipt> receipts) {
    absl::Duration wait = absl::Milliseconds(100);
    for (;;) {
      auto tally = store.Record(receipts, clock.Now());
      if (tally.ok()) return;
      if (absl::IsInvalidArgument(tally.status())) {  // never stored: no retry can help
        spdlog::error("event=smpp_receipts_refused count={} status=\"{}\"", receipts.size(),
                      tally.status().ToString());
        return;
      }
      spdlog::warn("event=smpp_receipts_not_recorded count={} status=\"{}\"", receipts.size(),
                   tally.status().ToString());
      if (!StopAwareSleep(stop)(wait)) return;
      wait = std::min(wait * 2, absl::Seconds(5));
    }
  };
}

// With --sms-provider smpp, the session bound as transceiver, its receipts
// recorded in `receipts`; else none.
std::unique_ptr<smpp::Session> StartSmppSession(const NotifierConfig& cfg, ReceiptStore& receipts,
                                                const Clock& clock, const std::atomic<bool>& stop) {
  if (cfg.sms_provider != "smpp") return nullptr;
  auto session = std::make_unique<smpp::Session>(cfg.smpp);
  session->set_receipt_callback(SmppReceiptRecorder(receipts, clock, stop));
  session->Start();
  return session;
}

// Probes each configured provider (SMTP: TLS and AUTH as configured; SMS
// gateway: TCP and TLS), waiting up to --provider-probe-wait-ms for one that
// cannot be reached. 0 when all answer, else the exit code: 2 for a
// configuration fault, 1 for a provider still unreachable.
int ProbeProviders(const NotifierConfig& cfg, const Clock& clock, const std::atomic<bool>& stop) {
  std::vector<std::pair<std::string, std::function<absl::Status()>>> probes;
  if (!cfg.smtp.url.empty()) probes.emplace_back("--smtp-url", [&] { return SmtpChannel(cfg.smtp, clock).Probe(); });
  if (!cfg.sms.url.empty()) probes.emplace_back("--sms-url", [&] { return HttpSmsChannel(cfg.sms).Probe(); });
  if (cfg.receipt_signer) {
    probes.emplace_back("--kannel-url", [&] { return KannelSmsChannel(cfg.kannel, *cfg.receipt_signer).Probe(); });
  }
  if (cfg.sms_provider == "smpp") probes.emplace_back("--smpp-host", [&] { return ProbeSmpp(cfg); });
  const SystemClock wall;
  for (const auto& [flag, probe] : probes) {
    const absl::Status s =
        ProbeProvider(flag, probe, absl::Milliseconds(cfg.provider_probe_wait_ms), wall, StopAwareSleep(stop));
    if (s.ok()) continue;
    spdlog::error("event=startup_failed status=\"{} {}\"", flag, std::string(s.message()));
    return s.code() == absl::StatusCode::kUnavailable ? 1 : 2;
  }
  return 0;
}

// One channel: provider (or file outbox) <- metrics <- circuit breaker <-
// rate limit <- address check.
class ChannelStack {
 public:
  ChannelStack(const std::string& name, std::unique_ptr<DeliveryChannel> provider, double rate,
               MetricsRegistry& metrics, const Clock& clock)
      : provider_(std::move(provider)),
        measured_(name, *provider_, metrics),
        bucket_(rate, std::max(1.0, rate), clock),
        breaker_(name, measured_, clock, {}),
        limited_(breaker_, bucket_),
        checked_(limited_) {}
  DeliveryChannel& channel() { return checked_; }
  // False while a provider fault (TLS, authentication) holds the circuit open.
  bool healthy() const { return breaker_.fault_reason().empty(); }

 private:
  std::unique_ptr<DeliveryChannel> provider_;
  InstrumentedChannel measured_;
  TokenBucket bucket_;
  CircuitBreakerChannel breaker_;
  RateLimitedChannel limited_;
  ValidatingChannel checked_;
};

std::unique_ptr<DeliveryChannel> SmsProvider(const NotifierConfig& cfg, const Clock& clock, smpp::Session* session) {
  if (session != nullptr) return std::make_unique<SmppChannel>(*session, cfg.smpp_flags.source_addr);
  if (cfg.receipt_signer) return std::make_unique<KannelSmsChannel>(cfg.kannel, *cfg.receipt_signer);
  if (cfg.sms.url.empty()) return std::make_unique<FileOutboxChannel>(cfg.outbox_dir, Channel::kSms, clock, cfg.outbox);
  return std::make_unique<HttpSmsChannel>(cfg.sms);
}

std::unique_ptr<DeliveryChannel> EmailProvider(const NotifierConfig& cfg, const Clock& clock) {
  if (cfg.smtp.url.empty()) return std::make_unique<FileOutboxChannel>(cfg.outbox_dir, Channel::kEmail, clock, cfg.outbox);
  return std::make_unique<SmtpChannel>(cfg.smtp, clock);
}

// The worker's outcomes and counts as metrics, and the consume loop's
// handlers over it.
class WorkerMetrics {
 public:
  WorkerMetrics(NotifierWorker& worker, MetricsRegistry& metrics)
      : worker_(worker),
        retries_(metrics.counter("forewarn_delivery_retries_total", "Batches retried after a transient failure")),
        fenced_(metrics.counter("forewarn_notices_fenced_total",
                                "Notices not sent: this worker's lease on them had been taken over")),
        busy_(metrics.counter("forewarn_notices_busy_total",
                              "Claims that met a notice in flight under another worker's lease")),
        record_retries_(metrics.counter("forewarn_ledger_record_retries_total",
                                        "Ledger writes of outcomes retried (the sends are not repeated)")),
        batches_(metrics.histogram("forewarn_notifier_batch_seconds", "Time to finish a batch of notices", {},
                                   DefaultLatencyBuckets())) {
    worker.set_observer([this, &metrics](const NoticeJob& job, NoticeState state) {
      NoticesCounter(metrics, job.kind, job.recipient.channel, state).Increment();
    });
  }

  ConsumeHandlers<NoticeJob> Handlers() {
    ConsumeHandlers<NoticeJob> h;
    h.decode = [](const ConsumedMessage& m) { return DecodeJob(m.value); };
    h.not_before = [](const NoticeJob& job) { return job.not_before; };
    h.handle = [this](const std::vector<NoticeJob>& jobs, std::vector<size_t>* busy) {
      absl::Status s = worker_.ProcessBatch(jobs, busy);
      ExportStats();
      return s;
    };
    h.on_retry = [this] { retries_.Increment(); };
    h.on_handled = [this](const std::vector<NoticeJob>& jobs, absl::Duration took) {
      batches_.Observe(absl::ToDoubleSeconds(took));
      const auto& st = worker_.stats();
      spdlog::debug("event=batch_done size={} sent_total={} failed_total={} skipped_total={}", jobs.size(), st.sent,
                    st.failed, st.skipped);
    };
    return h;
  }

 private:
  // The worker's own counts of what keeps sends single, as counters.
  void ExportStats() {
    const auto& st = worker_.stats();
    fenced_.Increment(static_cast<double>(st.fenced - exported_.fenced));
    busy_.Increment(static_cast<double>(st.busy - exported_.busy));
    record_retries_.Increment(static_cast<double>(st.record_retries - exported_.record_retries));
    exported_ = st;
  }

  // The series of one kind, channel and state, found once: building its
  // labels and looking them up for every notice was 4 % of the notifier's
  // CPU in the fan-out benchmark. Called on the worker's thread only.
  Counter& NoticesCounter(MetricsRegistry& metrics, NoticeKind kind, Channel channel, NoticeState state) {
    const auto key = std::make_tuple(kind, channel, state);
    if (auto it = notices_.find(key); it != notices_.end()) return *it->second;
    Counter& c = metrics.counter("forewarn_notices_total", "Notices by kind, channel and final state",
                                 {{"kind", ToString(kind)}, {"channel", ToString(channel)}, {"state", ToString(state)}});
    notices_.emplace(key, &c);
    return c;
  }

  NotifierWorker& worker_;
  absl::flat_hash_map<std::tuple<NoticeKind, Channel, NoticeState>, Counter*> notices_;
  Counter& retries_;
  Counter& fenced_;
  Counter& busy_;
  Counter& record_retries_;
  Histogram& batches_;
  NotifierWorker::Stats exported_;
};

void ConfigureWorker(NotifierWorker& worker, NoticeRequeue& requeue, const NotifierConfig& cfg,
                     const std::atomic<bool>& stop) {
  worker.set_requeue(&requeue, {cfg.max_attempts, absl::Milliseconds(cfg.retry_backoff_ms),
                                absl::Milliseconds(std::max(cfg.retry_backoff_ms, cfg.retry_backoff_max_ms))});
  worker.set_record_policy({cfg.record_every, absl::Milliseconds(cfg.record_interval_ms), StopAwareSleep(stop)});
  worker.set_receipt_timeouts(cfg.receipt_timeouts);
}

void LogStopped(const NotifierWorker::Stats& st) {
  spdlog::info("event=stopped sent={} failed={} skipped={} superseded={} held={} fallbacks={} retried={} "
               "dead_lettered={}",
               st.sent, st.failed, st.skipped, st.superseded, st.held, st.fallbacks, st.retried, st.dead_lettered);
}

// Notices may wait 100 ms for a fuller fetch: the broker's CPU per notice in
// a fan-out drops, and no notice is due within a tenth of a second.
constexpr std::chrono::milliseconds kJobFetchWait{100};

ConsumeOptions JobConsumeOptions(int batch_size) {
  return {.name = "job", .handle_what = "deliver notice batch", .busy_what = "deliver notices in flight elsewhere",
          .poll_max = batch_size, .batch_max = batch_size, .poll_timeout = absl::Milliseconds(200),
          .busy_wait = kBusyWait};
}

}  // namespace

int RunNotifier(const NotifierConfig& cfg) {
  SetupLogging("notifier");
  RaiseOpenFileLimit();
  const auto& stop = InstallStopSignals();
  const auto clock = MakeServiceClock(cfg.clock.offset_file, cfg.clock.offset_seconds);
  auto links = LoadUnsubscribeLinks(cfg);
  if (!links.ok()) return StartupFailed(links.status(), 2);
  // A bad template or an SMS over its budget stops the start, not a notice.
  auto renderer = LoadCheckedRenderer(cfg, *clock, *std::move(links));
  if (!renderer.ok()) return StartupFailed(renderer.status(), 2);
  if (int rc = ProbeProviders(cfg, *clock, stop); rc != 0) return rc;
  auto kafka_cfg = ToGroupKafkaConfig(cfg.kafka, cfg.group, "forewarn-notifier");
  if (!kafka_cfg.ok()) return StartupFailed(kafka_cfg.status(), 2);
  if (int rc = RequireTopics(*kafka_cfg,
                             {{"--notices-topic", cfg.notices_topic},
                              {"--retry-topic", cfg.retry_topic},
                              {"--dlq-topic", cfg.dlq_topic}},
                             stop)) {
    return rc;  // logged: a missing topic (with the command that creates it) or no broker
  }
  if (int rc = RequireSessionTimeoutAccepted(*kafka_cfg, stop)) return rc;  // logged
  auto consumer =
      KafkaConsumer::Create(*kafka_cfg, cfg.group.group, {cfg.notices_topic, cfg.retry_topic}, kJobFetchWait);
  if (!consumer.ok()) return StartupFailed(consumer.status(), 1);
  auto producer = KafkaProducer::Create(*kafka_cfg);
  if (!producer.ok()) return StartupFailed(producer.status(), 1);
  KafkaNoticeRequeue requeue(**producer, cfg.retry_topic, cfg.dlq_topic);
  auto db = ResolvePgEndpoint(cfg.pg, stop);
  if (!db.ok()) return StartupFailed(db.status(), 1);

  PgDatabase pg(*db, cfg.pg.pool_size);
  PgIncidentStore incidents(pg);
  PgNoticeLedger ledger(pg, {NewLeaseOwner(), absl::Milliseconds(cfg.lease_ms)});
  PgReceiptStore receipts(pg);
  PgStatusLinks status_links(pg);
  NoticeLinks notice_links(cfg.notice_links, status_links);  // each notice's status link and code
  (*renderer)->set_notice_marks(NoticeMarksFrom(notice_links));
  MetricsRegistry metrics;
  // One SMPP session for the SMS channel; it outlives the channel.
  const std::unique_ptr<smpp::Session> smpp_session = StartSmppSession(cfg, receipts, *clock, stop);
  ChannelStack sms("sms", SmsProvider(cfg, *clock, smpp_session.get()), cfg.sms_rate, metrics, *clock);
  ChannelStack email("email", EmailProvider(cfg, *clock), cfg.email_rate, metrics, *clock);
  NotifierWorker worker(incidents, ledger, **renderer, {{Channel::kSms, &sms.channel()}, {Channel::kEmail, &email.channel()}},
                        *clock, cfg.notice_policy);
  ConfigureWorker(worker, requeue, cfg, stop);
  WorkerMetrics worker_metrics(worker, metrics);
  std::atomic<bool> consuming{false};
  auto http = StartObservabilityIfConfigured(cfg.http.listen, cfg.http.port_file, metrics, [&] {
    return consuming.load() && sms.healthy() && email.healthy();
  });
  if (!http.ok()) return StartupFailed(http.status(), 1);
  consuming = true;

  spdlog::info("event=started group={} topic={}", cfg.group.group, cfg.notices_topic);
  ConsumerLoop<NoticeJob>(**consumer, worker_metrics.Handlers(), ServiceConsumeRuntime(*clock, stop),
                          JobConsumeOptions(cfg.batch_size))
      .Run(stop);
  LogStopped(worker.stats());
  return 0;
}

}  // namespace forewarn
