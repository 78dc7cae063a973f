#pragma once

// The flags the services share, defined once: each service adds the groups
// it uses to its CLI11 app. Every app shows its defaults in --help
// (ShowDefaultsInHelp before the first option).

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "services/kafka/kafka_config.h"

namespace CLI {
class App;
}

namespace forewarn {

// Every option added to `app` afterwards (and to its subcommands) shows its
// default value in --help.
void ShowDefaultsInHelp(CLI::App& app);

// A service's main(): an app described by `description` whose flags
// `add_flags` adds (each showing its default in --help), parsed from argv
// (--help, or a usage error: CLI11's message and exit code); then `finish`
// (optional) derives and checks what the flags leave open (not OK: "error:
// MESSAGE" on stderr, exit 2); then returns what `run` returns.
int ServiceMain(int argc, char** argv, const std::string& description,
                const std::function<void(CLI::App&)>& add_flags, const std::function<absl::Status()>& finish,
                const std::function<int()>& run);

// --kafka (FOREWARN_KAFKA, required) and --kafka-prop key=value (repeatable).
struct KafkaFlags {
  std::string bootstrap;
  std::vector<std::string> props;  // passed to librdkafka
};
void AddKafkaFlags(CLI::App& app, KafkaFlags& flags);
// KafkaConfigFrom(bootstrap, client_id, props).
absl::StatusOr<KafkaConfig> ToKafkaConfig(const KafkaFlags& flags, const std::string& client_id);

// Consumer group membership: --group (env `group_env`), --instance-id
// (FOREWARN_INSTANCE_ID: static membership, empty: dynamic) and
// --session-timeout-ms (FOREWARN_KAFKA_SESSION_TIMEOUT_MS).
struct GroupFlags {
  std::string group;
  std::string instance_id;
  int session_timeout_ms = 10000;
};
void AddGroupFlags(CLI::App& app, GroupFlags& flags, const std::string& group_env);
// ToKafkaConfig with the group's session timeout, a heartbeat of a sixth of
// it (at least 250 ms) and the instance id.
absl::StatusOr<KafkaConfig> ToGroupKafkaConfig(const KafkaFlags& kafka, const GroupFlags& group,
                                               const std::string& client_id);

// --http-listen (FOREWARN_HTTP_LISTEN; /metrics, /healthz, /readyz; empty:
// off) and --http-port-file (tests).
struct HttpFlags {
  std::string listen;
  std::string port_file;
};
void AddHttpFlags(CLI::App& app, HttpFlags& flags);

// --time-offset-seconds and --time-offset-file: the service clock's shift,
// for tests and drills only (see MakeServiceClock).
struct ClockFlags {
  int64_t offset_seconds = 0;
  std::string offset_file;
};
void AddClockFlags(CLI::App& app, ClockFlags& flags);

}  // namespace forewarn
