// forewarn-intake: the gRPC API for incidents plus the outbox relay.
#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>

#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>
#include <tuple>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "notifier/render/template_renderer.h"
#include "services/api/grpc_incident_service.h"
#include "services/api/authorizer.h"
#include "services/api/guarded_listener.h"
#include "services/core/outbox_relay.h"
#include "services/kafka/kafka_dead_letters.h"
#include "services/kafka/kafka_producer.h"
#include "services/kafka/kafka_topic_admin.h"
#include "services/pg/pg_store.h"
#include "services/runtime/pg_flags.h"
#include "services/runtime/policy_flags.h"
#include "services/runtime/runtime.h"
#include "spdlog/spdlog.h"

namespace {

struct IntakeConfig {
  forewarn::PgFlags pg;
  std::string kafka_bootstrap;
  std::vector<std::string> kafka_props;  // key=value, passed to librdkafka
  std::string listen = "127.0.0.1:0";
  std::string port_file;
  std::string events_topic = "forewarn.events";
  std::string notices_topic = "forewarn.notices";  // dead-letter replays go here
  std::string dlq_topic = "forewarn.notices.dlq";
  int relay_lease_ms = 10000;
  int outbox_poll_ms = 250;
  int64_t time_offset_seconds = 0;  // tests and drills only
  std::string time_offset_file;     // tests and drills only
  forewarn::PolicyFlags policy;
  // For notice previews: templates, SMS budgets, provider rates.
  std::string templates_dir = "templates";
  double sms_rate = 0;
  double email_rate = 0;
  // Security: TLS (mutual when a client CA is given) and bearer tokens.
  std::string tls_cert;
  std::string tls_key;
  std::string tls_client_ca;
  std::string auth_tokens;
  // Observability: /metrics, /healthz, /readyz.
  std::string http_listen;
  std::string http_port_file;
  int backlog_refresh_seconds = 5;
  // Request validation: how far back an outage's start may be dated.
  std::string max_backdate = "168h";
  // Connection lifetimes and descriptor headroom (see ConnectionLimits).
  std::string max_connection_idle = "5m";
  std::string max_connection_age = "30m";
  std::string max_connection_age_grace = "5m";
  std::string handshake_timeout = "10s";
  std::string keepalive_time = "2m";
  std::string keepalive_timeout = "20s";
  int fd_headroom = 64;
};

// The flags' durations as the domain's and the server's plain values;
// INVALID_ARGUMENT naming the flag.
absl::Status ParseLimits(const IntakeConfig& cfg, forewarn::ValidationLimits* validation,
                         forewarn::ConnectionLimits* connections) {
  const std::tuple<const char*, const std::string&, absl::Duration*> durations[] = {
      {"--max-backdate", cfg.max_backdate, &validation->max_backdate},
      {"--max-connection-idle", cfg.max_connection_idle, &connections->max_idle},
      {"--max-connection-age", cfg.max_connection_age, &connections->max_age},
      {"--max-connection-age-grace", cfg.max_connection_age_grace, &connections->max_age_grace},
      {"--handshake-timeout", cfg.handshake_timeout, &connections->handshake_timeout},
      {"--keepalive-time", cfg.keepalive_time, &connections->keepalive_time},
      {"--keepalive-timeout", cfg.keepalive_timeout, &connections->keepalive_timeout}};
  for (const auto& [flag, text, out] : durations) {
    if (auto s = forewarn::ParseDurationFlag(flag, text, out); !s.ok()) return s;
  }
  connections->fd_headroom = cfg.fd_headroom;
  return forewarn::CheckConnectionLimits(*connections);
}

// Every service this server answers for: the health service reports each
// by name (SERVING while the intake is up, NOT_SERVING once it stops).
std::vector<std::string> ServedServiceNames() {
  return {forewarn::v1::IncidentService::service_full_name(), "grpc.health.v1.Health",
          "grpc.reflection.v1alpha.ServerReflection"};
}

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::FailedPreconditionError(absl::StrCat("cannot read ", path));
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> ServerCredentials(const IntakeConfig& cfg) {
  if (cfg.tls_cert.empty() && cfg.tls_key.empty()) {
    if (!cfg.tls_client_ca.empty()) return absl::InvalidArgumentError("--tls-client-ca needs --tls-cert and --tls-key");
    return grpc::InsecureServerCredentials();
  }
  if (cfg.tls_cert.empty() || cfg.tls_key.empty()) {
    return absl::InvalidArgumentError("give both --tls-cert and --tls-key");
  }
  auto cert = ReadFile(cfg.tls_cert);
  if (!cert.ok()) return cert.status();
  auto key = ReadFile(cfg.tls_key);
  if (!key.ok()) return key.status();
  grpc::SslServerCredentialsOptions options(GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE);
  options.pem_key_cert_pairs.push_back({*key, *cert});
  if (!cfg.tls_client_ca.empty()) {
    auto ca = ReadFile(cfg.tls_client_ca);
    if (!ca.ok()) return ca.status();
    options.pem_root_certs = *ca;
    options.client_certificate_request = GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY;
  }
  return grpc::SslServerCredentials(options);
}

// RPC counters by method and code, and a latency histogram per method.
class RpcMetrics final : public forewarn::RpcObserver {
 public:
  explicit RpcMetrics(forewarn::MetricsRegistry& registry) : registry_(registry) {}
  void Observe(const char* method, grpc::StatusCode code, absl::Duration latency) override {
    registry_
        .counter("forewarn_intake_rpcs_total", "gRPC calls handled by the intake, by method and status code",
                 {{"method", method}, {"code", forewarn::GrpcCodeName(code)}})
        .Increment();
    registry_
        .histogram("forewarn_intake_rpc_duration_seconds", "gRPC call latency at the intake", {{"method", method}},
                   forewarn::DefaultLatencyBuckets())
        .Observe(absl::ToDoubleSeconds(latency));
  }

 private:
  forewarn::MetricsRegistry& registry_;
};

}  // namespace

int main(int argc, char** argv) {
  IntakeConfig cfg;
  CLI::App app{"forewarn-intake: incident gRPC API and outbox relay"};
  forewarn::AddPgFlags(app, cfg.pg);
  app.add_option("--kafka", cfg.kafka_bootstrap, "Kafka bootstrap servers")->envname("FOREWARN_KAFKA")->required();
  app.add_option("--kafka-prop", cfg.kafka_props, "extra librdkafka property key=value (repeatable)");
  app.add_option("--listen", cfg.listen, "gRPC listen address (port 0: chosen at run time)")
      ->envname("FOREWARN_LISTEN");
  app.add_option("--port-file", cfg.port_file, "write the bound port here once serving");
  app.add_option("--events-topic", cfg.events_topic)->envname("FOREWARN_EVENTS_TOPIC");
  app.add_option("--notices-topic", cfg.notices_topic)->envname("FOREWARN_NOTICES_TOPIC");
  app.add_option("--dlq-topic", cfg.dlq_topic, "dead-letter topic (ListDeadLetters, ReplayDeadLetters)")
      ->envname("FOREWARN_DLQ_TOPIC");
  app.add_option("--relay-lease-ms", cfg.relay_lease_ms,
                 "outbox relay leadership lease; a crashed leader's successor takes over within it")
      ->envname("FOREWARN_RELAY_LEASE_MS")
      ->check(CLI::Range(500, 600000));
  app.add_option("--outbox-poll-ms", cfg.outbox_poll_ms,
                 "how often the relay looks for new outbox rows under transaction pooling (no LISTEN there)")
      ->envname("FOREWARN_OUTBOX_POLL_MS")
      ->check(CLI::Range(10, 60000));
  app.add_option("--time-offset-seconds", cfg.time_offset_seconds, "shift the service clock (tests only)")
      ->envname("FOREWARN_TIME_OFFSET_SECONDS");
  app.add_option("--time-offset-file", cfg.time_offset_file, "read the clock shift in seconds from this file (tests)")
      ->envname("FOREWARN_TIME_OFFSET_FILE");
  forewarn::AddPolicyFlags(app, cfg.policy);
  app.add_option("--templates", cfg.templates_dir, "templates directory (for notice previews)")
      ->envname("FOREWARN_TEMPLATES");
  app.add_option("--sms-rate", cfg.sms_rate, "SMS provider rate for completion estimates, messages/s")
      ->envname("FOREWARN_SMS_RATE");
  app.add_option("--email-rate", cfg.email_rate, "SMTP provider rate for completion estimates, messages/s")
      ->envname("FOREWARN_EMAIL_RATE");
  app.add_option("--tls-cert", cfg.tls_cert, "server certificate chain (PEM); TLS when given")
      ->envname("FOREWARN_TLS_CERT");
  app.add_option("--tls-key", cfg.tls_key, "server private key (PEM)")->envname("FOREWARN_TLS_KEY");
  app.add_option("--tls-client-ca", cfg.tls_client_ca, "CA bundle (PEM) for client certificates: mutual TLS")
      ->envname("FOREWARN_TLS_CLIENT_CA");
  app.add_option("--auth-tokens", cfg.auth_tokens,
                 "bearer tokens file, lines \"TOKEN ROLE NAME\" (role: submitter|operator|viewer); "
                 "without it authentication is OFF")
      ->envname("FOREWARN_AUTH_TOKENS");
  app.add_option("--http-listen", cfg.http_listen, "metrics and health endpoint, e.g. 127.0.0.1:0 (default: off)")
      ->envname("FOREWARN_HTTP_LISTEN");
  app.add_option("--http-port-file", cfg.http_port_file, "write the metrics port here (tests)");
  app.add_option("--backlog-refresh-seconds", cfg.backlog_refresh_seconds, "outbox backlog gauge refresh period")
      ->check(CLI::Range(1, 3600));
  app.add_option("--max-backdate", cfg.max_backdate,
                 "refuse unplanned outages that started longer ago than this (e.g. 168h)")
      ->envname("FOREWARN_MAX_BACKDATE");
  app.add_option("--max-connection-idle", cfg.max_connection_idle, "close gRPC connections without a call this long")
      ->envname("FOREWARN_MAX_CONNECTION_IDLE");
  app.add_option("--max-connection-age", cfg.max_connection_age, "ask any gRPC connection to go away after this long")
      ->envname("FOREWARN_MAX_CONNECTION_AGE");
  app.add_option("--max-connection-age-grace", cfg.max_connection_age_grace,
                 "time left to calls in flight on a connection asked to go away")
      ->envname("FOREWARN_MAX_CONNECTION_AGE_GRACE");
  app.add_option("--handshake-timeout", cfg.handshake_timeout,
                 "close connections that have not completed TLS and HTTP/2 set-up within this")
      ->envname("FOREWARN_HANDSHAKE_TIMEOUT");
  app.add_option("--keepalive-time", cfg.keepalive_time, "ping a silent peer with calls in flight after this")
      ->envname("FOREWARN_KEEPALIVE_TIME");
  app.add_option("--keepalive-timeout", cfg.keepalive_timeout, "drop a peer that does not answer a ping within this")
      ->envname("FOREWARN_KEEPALIVE_TIMEOUT");
  app.add_option("--fd-headroom", cfg.fd_headroom,
                 "open files kept free for the database, Kafka and files: connections beyond are closed at once")
      ->envname("FOREWARN_FD_HEADROOM");
  CLI11_PARSE(app, argc, argv);
  forewarn::NoticePolicy policy;
  if (auto s = forewarn::ToNoticePolicy(cfg.policy, &policy); !s.ok()) {
    std::cerr << "error: " << s.message() << "\n";
    return 2;
  }
  forewarn::ValidationLimits validation_limits;
  forewarn::ConnectionLimits connection_limits;
  if (auto s = ParseLimits(cfg, &validation_limits, &connection_limits); !s.ok()) {
    std::cerr << "error: " << s.message() << "\n";
    return 2;
  }

  forewarn::SetupLogging("intake");
  const uint64_t open_file_limit = forewarn::RaiseOpenFileLimit();
  auto clock_ptr = forewarn::MakeServiceClock(cfg.time_offset_file, cfg.time_offset_seconds);
  const forewarn::Clock& clock = *clock_ptr;
  auto renderer = forewarn::TemplateRenderer::Load(cfg.templates_dir, clock);
  auto budgets = forewarn::SmsBudgets::Load(cfg.templates_dir + "/sms_budgets.json");
  if (!renderer.ok() || !budgets.ok()) {
    spdlog::error("event=startup_failed status=\"{}\"", (!renderer.ok() ? renderer.status() : budgets.status()).ToString());
    return 2;
  }
  std::unique_ptr<forewarn::Authorizer> authorizer;
  if (!cfg.auth_tokens.empty()) {
    auto loaded = forewarn::Authorizer::Load(cfg.auth_tokens);
    if (!loaded.ok()) {
      spdlog::error("event=startup_failed status=\"{}\"", loaded.status().ToString());
      return 2;
    }
    authorizer = std::make_unique<forewarn::Authorizer>(*std::move(loaded));
    spdlog::info("event=auth_enabled callers={}", authorizer->size());
  } else {
    spdlog::warn("event=auth_disabled reason=\"no --auth-tokens / FOREWARN_AUTH_TOKENS\" "
                 "note=\"every caller is the operator 'anonymous'; development only\"");
  }
  auto credentials = ServerCredentials(cfg);
  if (!credentials.ok()) {
    spdlog::error("event=startup_failed status=\"{}\"", credentials.status().ToString());
    return 2;
  }
  if (cfg.tls_cert.empty()) spdlog::warn("event=tls_disabled note=\"gRPC is plaintext; development only\"");
  const auto& stop = forewarn::InstallStopSignals();
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

  auto kafka_config = forewarn::KafkaConfigFrom(cfg.kafka_bootstrap, "forewarn-intake", cfg.kafka_props);
  if (!kafka_config.ok()) {
    spdlog::error("event=startup_failed status=\"{}\"", kafka_config.status().ToString());
    return 2;
  }
  if (int rc = forewarn::RequireTopics(*kafka_config,
                                       {{"--events-topic", cfg.events_topic},
                                        {"--notices-topic", cfg.notices_topic},
                                        {"--dlq-topic", cfg.dlq_topic}},
                                       stop)) {
    return rc;  // logged: a missing topic (with the command that creates it) or no broker
  }
  auto producer = forewarn::KafkaProducer::Create(*kafka_config);
  // Its own producer: the relay thread owns the first one.
  auto replay_producer = forewarn::KafkaProducer::Create(*kafka_config);
  if (!producer.ok() || !replay_producer.ok()) {
    spdlog::error("event=startup_failed status=\"{}\"",
                  (producer.ok() ? replay_producer.status() : producer.status()).ToString());
    return 1;
  }

  forewarn::PgDatabase pg(*db, cfg.pg.pool_size);
  forewarn::PgIncidentStore store(pg);
  forewarn::IncidentService service(store, clock, policy, validation_limits);
  forewarn::PgAudienceSource audience(pg);
  forewarn::NoticePreviewer previewer(store, store, audience, **renderer, *std::move(budgets),
                                      {cfg.sms_rate, cfg.email_rate});
  forewarn::MetricsRegistry metrics;
  RpcMetrics rpc_metrics(metrics);
  auto& backlog = metrics.gauge("forewarn_outbox_backlog", "Outbox events not yet published to Kafka");
  auto& dlq_size = metrics.gauge("forewarn_dlq_size", "Notices out of delivery attempts, waiting for a replay");
  forewarn::GrpcIncidentService grpc_service(service, previewer, authorizer.get(), &rpc_metrics);
  forewarn::PgNoticeLedger ledger(pg);
  forewarn::KafkaDeadLetterReader dlq_reader(*kafka_config, cfg.dlq_topic);
  forewarn::KafkaNoticeSink replay_sink(**replay_producer, cfg.notices_topic);
  forewarn::DeadLetterService dead_letters(dlq_reader, ledger, replay_sink);
  grpc_service.set_dead_letters(&dead_letters);

  auto listener = forewarn::GuardedListener::Bind(cfg.listen, connection_limits.fd_headroom, open_file_limit);
  if (!listener.ok()) {
    spdlog::error("event=startup_failed status=\"{}\"", listener.status().ToString());
    return listener.status().code() == absl::StatusCode::kInvalidArgument ? 2 : 1;
  }
  auto& refused = metrics.counter("forewarn_intake_connections_refused_total",
                                  "gRPC connections closed unserved because open files ran near the limit");
  (*listener)->set_on_refused([&refused] { refused.Increment(); });
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  forewarn::ApplyConnectionLimits(connection_limits, builder);
  // The listener accepts; gRPC does TLS and HTTP/2 on what it hands over.
  auto acceptor = builder.experimental().AddExternalConnectionAcceptor(
      grpc::ServerBuilder::experimental_type::ExternalConnectionType::FROM_FD, *credentials);
  builder.RegisterService(&grpc_service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (!server) {
    spdlog::error("event=startup_failed reason=\"cannot start the gRPC server\"");
    return 1;
  }
  (*listener)->Start(std::move(acceptor));
  // Whatever the way out, nothing is handed to the server once it is gone.
  const auto stop_listener_first = absl::MakeCleanup([&listener] { (*listener)->Stop(); });
  const int port = (*listener)->port();
  grpc::HealthCheckServiceInterface* health = server->GetHealthCheckService();
  for (const auto& name : ServedServiceNames()) health->SetServingStatus(name, true);
  spdlog::info("event=listening address={} port={} tls={} mtls={} max_connection_idle={} handshake_timeout={} "
               "fd_headroom={}",
               cfg.listen, port, !cfg.tls_cert.empty(), !cfg.tls_client_ca.empty(),
               absl::FormatDuration(connection_limits.max_idle), absl::FormatDuration(connection_limits.handshake_timeout),
               connection_limits.fd_headroom);
  std::atomic<bool> ready{true};
  auto http = forewarn::StartObservabilityIfConfigured(cfg.http_listen, cfg.http_port_file, metrics,
                                                       [&ready] { return ready.load(); });
  if (!http.ok()) {
    spdlog::error("event=startup_failed status=\"{}\"", http.status().ToString());
    return 1;
  }

  forewarn::PgOutboxOptions outbox_options;
  outbox_options.lease = absl::Milliseconds(cfg.relay_lease_ms);
  outbox_options.poll_interval = absl::Milliseconds(cfg.outbox_poll_ms);
  forewarn::PgOutboxSource outbox(*db, outbox_options);
  forewarn::KafkaEventPublisher publisher(**producer, cfg.events_topic);
  forewarn::OutboxRelay relay(outbox, publisher, forewarn::OutboxRelay::Options{});
  std::thread relay_thread([&] { relay.Run(stop); });

  if (!cfg.port_file.empty()) {
    if (auto s = forewarn::WriteFileAtomically(cfg.port_file, absl::StrCat(port, "\n")); !s.ok()) {
      spdlog::error("event=port_file_failed status=\"{}\"", s.ToString());
    }
  }

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
    forewarn::SleepUnlessStopped(stop, absl::Seconds(cfg.backlog_refresh_seconds));
  }
  ready = false;
  health->SetServingStatus(false);  // every service name, and the server as a whole
  spdlog::info("event=shutting_down");
  (*listener)->Stop();
  server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(5));
  relay_thread.join();
  if (*http) (*http)->Stop();
  spdlog::info("event=stopped");
  return 0;
}
