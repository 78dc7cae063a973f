#include "services/runtime/service_flags.h"

#include <algorithm>
#include <chrono>
#include <iostream>

#include "CLI/CLI.hpp"

namespace forewarn {

void ShowDefaultsInHelp(CLI::App& app) { app.option_defaults()->always_capture_default(); }

int ServiceMain(int argc, char** argv, const std::string& description,
                const std::function<void(CLI::App&)>& add_flags, const std::function<absl::Status()>& finish,
                const std::function<int()>& run) {
  CLI::App app{description};
  ShowDefaultsInHelp(app);
  add_flags(app);
  CLI11_PARSE(app, argc, argv);
  if (finish) {
    if (absl::Status s = finish(); !s.ok()) {
      std::cerr << "error: " << s.message() << "\n";
      return 2;
    }
  }
  return run();
}

void AddKafkaFlags(CLI::App& app, KafkaFlags& flags) {
  app.add_option("--kafka", flags.bootstrap, "Kafka bootstrap servers")->envname("FOREWARN_KAFKA")->required();
  app.add_option("--kafka-prop", flags.props,
                 "extra librdkafka property key=value (repeatable): SASL, TLS, ...");
}

absl::StatusOr<KafkaConfig> ToKafkaConfig(const KafkaFlags& flags, const std::string& client_id) {
  return KafkaConfigFrom(flags.bootstrap, client_id, flags.props);
}

void AddGroupFlags(CLI::App& app, GroupFlags& flags, const std::string& group_env) {
  app.add_option("--session-timeout-ms", flags.session_timeout_ms,
                 "consumer group session timeout; a dead worker's partitions move after this")
      ->envname("FOREWARN_KAFKA_SESSION_TIMEOUT_MS")
      ->check(CLI::Range(1000, 300000));
  app.add_option("--group", flags.group, "consumer group")->envname(group_env);
  app.add_option("--instance-id", flags.instance_id,
                 "static consumer group membership (group.instance.id), e.g. the pod name; empty: dynamic")
      ->envname("FOREWARN_INSTANCE_ID");
}

absl::StatusOr<KafkaConfig> ToGroupKafkaConfig(const KafkaFlags& kafka, const GroupFlags& group,
                                               const std::string& client_id) {
  auto config = ToKafkaConfig(kafka, client_id);
  if (!config.ok()) return config;
  config->session_timeout = std::chrono::milliseconds(group.session_timeout_ms);
  config->heartbeat_interval = std::chrono::milliseconds(std::max(250, group.session_timeout_ms / 6));
  config->group_instance_id = group.instance_id;
  return config;
}

void AddHttpFlags(CLI::App& app, HttpFlags& flags) {
  app.add_option("--http-listen", flags.listen, "metrics and health endpoint, e.g. 127.0.0.1:0 (default: off)")
      ->envname("FOREWARN_HTTP_LISTEN");
  app.add_option("--http-port-file", flags.port_file, "write the metrics port here (tests)");
}

void AddClockFlags(CLI::App& app, ClockFlags& flags) {
  app.add_option("--time-offset-seconds", flags.offset_seconds, "shift the service clock (tests only)")
      ->envname("FOREWARN_TIME_OFFSET_SECONDS");
  app.add_option("--time-offset-file", flags.offset_file, "read the clock shift in seconds from this file (tests)")
      ->envname("FOREWARN_TIME_OFFSET_FILE");
}

}  // namespace forewarn
