#include "services/cmd/intake/intake_app.h"

#include <atomic>
#include <memory>
#include <optional>
#include <thread>

#include "absl/strings/str_cat.h"
#include "notifier/render/template_renderer.h"
#include "services/api/grpc_customer_directory.h"
#include "services/api/grpc_incident_service.h"
#include "notifier/sms/phone.h"
#include "services/core/outbox_relay.h"
#include "services/cmd/intake/intake_public.h"
#include "services/cmd/intake/intake_server.h"
#include "services/kafka/kafka_dead_letters.h"
#include "services/kafka/kafka_producer.h"
#include "services/kafka/kafka_topic_admin.h"
#include "services/pg/pg_asset_store.h"
#include "services/pg/pg_audience_lists.h"
#include "services/pg/pg_customer_store.h"
#include "services/pg/pg_ledger_partitions.h"
#include "services/pg/pg_receipts.h"
#include "services/pg/pg_proof_source.h"
#include "services/pg/pg_status_links.h"
#include "services/pg/pg_store.h"
#include "services/runtime/runtime.h"
#include "spdlog/spdlog.h"

namespace forewarn {
namespace {

// What the intake serves, wired over the database and the broker.
struct IntakeStart {
  std::unique_ptr<TemplateRenderer> renderer;
  std::unique_ptr<SmsBudgets> budgets;
  std::unique_ptr<Authorizer> authorizer;
  std::shared_ptr<grpc::ServerCredentials> credentials;
  PublicEndpointSecrets public_secrets;
};

// The files and settings read before anything is connected; exit code 2
// (logged) when one is wrong.
int LoadStart(const IntakeConfig& cfg, const Clock& clock, IntakeStart& out) {
  auto renderer = TemplateRenderer::Load(cfg.templates_dir, clock);
  auto budgets = SmsBudgets::Load(cfg.templates_dir + "/sms_budgets.json");
  if (!renderer.ok() || !budgets.ok()) return StartupFailed(!renderer.ok() ? renderer.status() : budgets.status(), 2);
  out.renderer = *std::move(renderer);
  out.budgets = std::make_unique<SmsBudgets>(*std::move(budgets));
  auto authorizer = LoadAuthorizer(cfg);
  if (!authorizer.ok()) return StartupFailed(authorizer.status(), 2);
  out.authorizer = *std::move(authorizer);
  auto credentials = ServerCredentials(cfg);
  if (!credentials.ok()) return StartupFailed(credentials.status(), 2);
  out.credentials = *std::move(credentials);
  auto public_secrets = LoadPublicEndpointSecrets(cfg);
  if (!public_secrets.ok()) return StartupFailed(public_secrets.status(), 2);
  out.public_secrets = *std::move(public_secrets);
  return 0;
}

// The directory's contact checks: libphonenumber (national numbers read as
// Saudi) and the plausible-email rule the notifier applies.
ContactRules IntakeContactRules() {
  return ContactRules{[](std::string_view phone) { return NormalizeE164(phone); },
                      [](std::string_view email) { return IsPlausibleEmail(email); }};
}

// Refreshes the outbox backlog and dead-letter gauges until stopped.
void RefreshGauges(PgIncidentStore& store, PgNoticeLedger& ledger, MetricsRegistry& metrics, absl::Duration period,
                   const std::atomic<bool>& stop) {
  auto& backlog = metrics.gauge("forewarn_outbox_backlog", "Outbox events not yet published to Kafka");
  auto& dlq_size = metrics.gauge("forewarn_dlq_size", "Notices out of delivery attempts, waiting for a replay");
  while (!stop.load()) {
    if (auto n = store.UnpublishedOutboxCount(); n.ok()) {
      backlog.Set(static_cast<double>(*n));
    } else {
      spdlog::warn("event=outbox_backlog_failed status=\"{}\"", n.status().ToString());
    }
    if (auto n = ledger.CountDead(); n.ok()) {
      dlq_size.Set(static_cast<double>(*n));
    } else {
      spdlog::warn("event=dlq_size_failed status=\"{}\"", n.status().ToString());
    }
    SleepUnlessStopped(stop, period);
  }
}

// Publishes the outbox to the events topic on its own thread until stopped.
class RelayThread {
 public:
  RelayThread(const PgEndpoint& db, const IntakeConfig& cfg, KafkaProducer& producer, const std::atomic<bool>& stop)
      : outbox_(db, Options(cfg)),
        publisher_(producer, cfg.events_topic),
        relay_(outbox_, publisher_, OutboxRelay::Options{}),
        thread_([this, &stop] { relay_.Run(stop); }) {}
  ~RelayThread() { thread_.join(); }

 private:
  static PgOutboxOptions Options(const IntakeConfig& cfg) {
    PgOutboxOptions options;
    options.lease = absl::Milliseconds(cfg.relay_lease_ms);
    options.poll_interval = absl::Milliseconds(cfg.outbox_poll_ms);
    return options;
  }

  PgOutboxSource outbox_;
  KafkaEventPublisher publisher_;
  OutboxRelay relay_;
  std::thread thread_;
};

// What the intake connects to before it serves: the database (migrated),
// Kafka (its topics checked) and two producers (the relay thread owns the
// first; dead-letter replays use the second).
struct IntakeConnections {
  PgEndpoint db;
  KafkaConfig kafka;
  std::unique_ptr<KafkaProducer> producer;
  std::unique_ptr<KafkaProducer> replay_producer;
};

// 0 with `out` filled, or the exit code (the failure logged).
int Connect(const IntakeConfig& cfg, const std::atomic<bool>& stop, std::optional<IntakeConnections>& out) {
  auto db = ResolvePgEndpoint(cfg.pg, stop);
  if (!db.ok()) return StartupFailed(db.status(), 1);
  if (auto s = RetryUntilOk(stop, "apply migrations", [&] { return ApplyMigrations(db->uri); }); !s.ok()) {
    return StartupFailed(s, 1);
  }
  auto kafka_config = ToKafkaConfig(cfg.kafka, "forewarn-intake");
  if (!kafka_config.ok()) return StartupFailed(kafka_config.status(), 2);
  if (int rc = RequireTopics(*kafka_config,
                             {{"--events-topic", cfg.events_topic},
                              {"--notices-topic", cfg.notices_topic},
                              {"--dlq-topic", cfg.dlq_topic}},
                             stop)) {
    return rc;  // logged: a missing topic (with the command that creates it) or no broker
  }
  auto producer = KafkaProducer::Create(*kafka_config);
  auto replay_producer = KafkaProducer::Create(*kafka_config);
  if (!producer.ok() || !replay_producer.ok()) {
    return StartupFailed(producer.ok() ? replay_producer.status() : producer.status(), 1);
  }
  out.emplace(IntakeConnections{*std::move(db), *std::move(kafka_config), *std::move(producer),
                                *std::move(replay_producer)});
  return 0;
}

// 2 for a configuration error, 1 otherwise.
int ExitCodeOf(const absl::Status& status) { return status.code() == absl::StatusCode::kInvalidArgument ? 2 : 1; }

// The incident service's optional parts over their adapters: dead letters
// (the ledger and Kafka), uploaded audience lists, proof of notice.
struct IncidentExtras {
  IncidentExtras(const PgDatabase& pg, IntakeConnections& conn, const IntakeConfig& cfg, const Clock& clock)
      : ledger(pg),
        dlq_reader(conn.kafka, cfg.dlq_topic),
        replay_sink(*conn.replay_producer, cfg.notices_topic),
        dead_letters(dlq_reader, ledger, replay_sink),
        audience_lists(pg),
        lists(audience_lists),
        proof_source(pg),
        proofs(proof_source, clock),
        retention(pg) {
    dead_letters.set_ledger_retention(&retention);
    proofs.set_ledger_retention(&retention);
  }
  void AttachTo(GrpcIncidentService& service) {
    service.set_dead_letters(&dead_letters);
    service.set_audience_lists(&lists);
    service.set_notice_proofs(&proofs);
  }
  PgNoticeLedger ledger;
  KafkaDeadLetterReader dlq_reader;
  KafkaNoticeSink replay_sink;
  DeadLetterService dead_letters;
  PgAudienceLists audience_lists;
  AudienceListService lists;
  PgProofSource proof_source;
  NoticeProofService proofs;
  // Reads of a dropped month's incidents answer FAILED_PRECONDITION.
  PgLedgerRetentionLog retention;
};

}  // namespace

int RunIntake(const IntakeConfig& cfg) {
  SetupLogging("intake");
  const uint64_t open_file_limit = RaiseOpenFileLimit();
  const auto clock = MakeServiceClock(cfg.clock.offset_file, cfg.clock.offset_seconds);
  IntakeStart start;
  if (int rc = LoadStart(cfg, *clock, start); rc != 0) return rc;
  const auto& stop = InstallStopSignals();
  std::optional<IntakeConnections> connected;
  if (int rc = Connect(cfg, stop, connected); rc != 0) return rc;
  IntakeConnections& conn = *connected;
  PgDatabase pg(conn.db, cfg.pg.pool_size);
  MetricsRegistry metrics;
  if (auto s = AttachReadReplica(cfg.pg_read, cfg.pg, pg, metrics, stop); !s.ok()) return StartupFailed(s, 2);
  PgIncidentStore store(pg);
  IncidentService service(store, *clock, cfg.notice_policy, cfg.validation_limits);
  PgAudienceSource audience(pg);
  PgStatusLinks status_links(pg);  // previews show the links notices carry
  NoticeLinks notice_links(cfg.notice_links, status_links);
  start.renderer->set_notice_marks(NoticeMarksFrom(notice_links));
  NoticePreviewer previewer(store, store, audience, *start.renderer, std::move(*start.budgets),
                            {cfg.sms_rate, cfg.email_rate});
  RpcMetrics rpc_metrics(metrics);
  GrpcIncidentService grpc_service(service, previewer, start.authorizer.get(), &rpc_metrics);
  IncidentExtras extras(pg, conn, cfg, *clock);
  extras.AttachTo(grpc_service);
  service.set_ledger_retention(&extras.retention);
  PgCustomerStore customer_store(pg);
  CustomerDirectoryService directory(customer_store, IntakeContactRules(), OptOutPolicy{cfg.opt_out_categories});
  PgAssetStore asset_store(pg);
  AssetDirectoryService assets(asset_store);
  GrpcCustomerDirectory grpc_directory(directory, assets, start.authorizer.get(), &rpc_metrics);

  auto front = GrpcFrontEnd::Start(cfg, start.credentials, {&grpc_service, &grpc_directory}, open_file_limit, metrics);
  if (!front.ok()) return StartupFailed(front.status(), ExitCodeOf(front.status()));
  std::atomic<bool> ready{true};
  auto http = StartObservabilityIfConfigured(cfg.http.listen, cfg.http.port_file, metrics, [&ready] { return ready.load(); });
  if (!http.ok()) return StartupFailed(http.status(), 1);
  PgReceiptStore receipt_store(pg);
  auto public_http = StartPublicEndpoint(cfg, start.public_secrets, directory, metrics, receipt_store, *clock);
  if (!public_http.ok()) return StartupFailed(public_http.status(), ExitCodeOf(public_http.status()));
  {
    RelayThread relay(conn.db, cfg, *conn.producer, stop);
    if (!cfg.port_file.empty()) {
      if (auto s = WriteFileAtomically(cfg.port_file, absl::StrCat((*front)->port(), "\n")); !s.ok()) {
        spdlog::error("event=port_file_failed status=\"{}\"", s.ToString());
      }
    }
    RefreshGauges(store, extras.ledger, metrics, absl::Seconds(cfg.backlog_refresh_seconds), stop);
    ready = false;
    (*front)->Shutdown();
    if (*public_http) (*public_http)->Stop();
  }  // the relay finishes
  if (*http) (*http)->Stop();
  spdlog::info("event=stopped");
  return 0;
}

}  // namespace forewarn
