// forewarn-intake: the gRPC API for incidents plus the outbox relay.
#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>

#include <thread>

#include <iostream>

#include "CLI/CLI.hpp"
#include "absl/strings/str_cat.h"
#include "notifier/render/template_renderer.h"
#include "services/api/grpc_incident_service.h"
#include "services/core/outbox_relay.h"
#include "services/kafka/kafka_producer.h"
#include "services/pg/pg_store.h"
#include "services/runtime/policy_flags.h"
#include "services/runtime/runtime.h"
#include "spdlog/spdlog.h"

namespace {

struct IntakeConfig {
  std::string pg_uri;
  std::string kafka_bootstrap;
  std::vector<std::string> kafka_props;  // key=value, passed to librdkafka
  std::string listen = "127.0.0.1:0";
  std::string port_file;
  std::string events_topic = "forewarn.events";
  int pg_pool_size = 8;
  int64_t time_offset_seconds = 0;  // tests and drills only
  std::string time_offset_file;     // tests and drills only
  forewarn::PolicyFlags policy;
  // For notice previews: templates, SMS budgets, provider rates.
  std::string templates_dir = "templates";
  double sms_rate = 0;
  double email_rate = 0;
};

}  // namespace

int main(int argc, char** argv) {
  IntakeConfig cfg;
  CLI::App app{"forewarn-intake: incident gRPC API and outbox relay"};
  app.add_option("--pg", cfg.pg_uri, "PostgreSQL URI")->envname("FOREWARN_PG")->required();
  app.add_option("--kafka", cfg.kafka_bootstrap, "Kafka bootstrap servers")->envname("FOREWARN_KAFKA")->required();
  app.add_option("--kafka-prop", cfg.kafka_props, "extra librdkafka property key=value (repeatable)");
  app.add_option("--listen", cfg.listen, "gRPC listen address (port 0: chosen at run time)")
      ->envname("FOREWARN_LISTEN");
  app.add_option("--port-file", cfg.port_file, "write the bound port here once serving");
  app.add_option("--events-topic", cfg.events_topic)->envname("FOREWARN_EVENTS_TOPIC");
  app.add_option("--pg-pool-size", cfg.pg_pool_size)->check(CLI::Range(1, 64));
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
  CLI11_PARSE(app, argc, argv);
  forewarn::NoticePolicy policy;
  if (auto s = forewarn::ToNoticePolicy(cfg.policy, &policy); !s.ok()) {
    std::cerr << "error: " << s.message() << "\n";
    return 2;
  }

  forewarn::SetupLogging("intake");
  auto renderer = forewarn::TemplateRenderer::Load(cfg.templates_dir);
  auto budgets = forewarn::SmsBudgets::Load(cfg.templates_dir + "/sms_budgets.json");
  if (!renderer.ok() || !budgets.ok()) {
    spdlog::error("event=startup_failed status=\"{}\"", (!renderer.ok() ? renderer.status() : budgets.status()).ToString());
    return 2;
  }
  const auto& stop = forewarn::InstallStopSignals();

  if (auto s = forewarn::RetryUntilOk(stop, "apply migrations", [&] { return forewarn::ApplyMigrations(cfg.pg_uri); });
      !s.ok()) {
    spdlog::error("event=startup_failed status=\"{}\"", s.ToString());
    return 1;
  }

  auto kafka_config = forewarn::KafkaConfigFrom(cfg.kafka_bootstrap, "forewarn-intake", cfg.kafka_props);
  if (!kafka_config.ok()) {
    spdlog::error("event=startup_failed status=\"{}\"", kafka_config.status().ToString());
    return 2;
  }
  auto producer = forewarn::KafkaProducer::Create(*kafka_config);
  if (!producer.ok()) {
    spdlog::error("event=startup_failed status=\"{}\"", producer.status().ToString());
    return 1;
  }

  auto clock_ptr = forewarn::MakeServiceClock(cfg.time_offset_file, cfg.time_offset_seconds);
  const forewarn::Clock& clock = *clock_ptr;
  forewarn::PgIncidentStore store(forewarn::PgConfig{cfg.pg_uri, cfg.pg_pool_size});
  forewarn::IncidentService service(store, clock, policy);
  forewarn::PgAudienceSource audience(cfg.pg_uri);
  forewarn::NoticePreviewer previewer(store, store, audience, **renderer, *std::move(budgets),
                                      {cfg.sms_rate, cfg.email_rate});
  forewarn::GrpcIncidentService grpc_service(service, previewer);

  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(cfg.listen, grpc::InsecureServerCredentials(), &port);
  builder.RegisterService(&grpc_service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (!server || port == 0) {
    spdlog::error("event=startup_failed reason=\"cannot listen on {}\"", cfg.listen);
    return 1;
  }
  spdlog::info("event=listening address={} port={}", cfg.listen, port);

  forewarn::PgOutboxSource outbox(cfg.pg_uri);
  forewarn::KafkaEventPublisher publisher(**producer, cfg.events_topic);
  forewarn::OutboxRelay relay(outbox, publisher, forewarn::OutboxRelay::Options{});
  std::thread relay_thread([&] { relay.Run(stop); });

  if (!cfg.port_file.empty()) {
    if (auto s = forewarn::WriteFileAtomically(cfg.port_file, absl::StrCat(port, "\n")); !s.ok()) {
      spdlog::error("event=port_file_failed status=\"{}\"", s.ToString());
    }
  }

  forewarn::SleepUnlessStopped(stop, absl::InfiniteDuration());
  spdlog::info("event=shutting_down");
  server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(5));
  relay_thread.join();
  spdlog::info("event=stopped");
  return 0;
}
