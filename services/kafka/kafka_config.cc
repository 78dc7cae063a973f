#include "services/kafka/kafka_config.h"

#include "absl/strings/str_cat.h"

namespace forewarn {

absl::StatusOr<KafkaConfig> KafkaConfigFrom(std::string bootstrap_servers, std::string client_id,
                                            const std::vector<std::string>& props) {
  if (bootstrap_servers.empty()) return absl::InvalidArgumentError("kafka: bootstrap servers are required");
  KafkaConfig config;
  config.bootstrap_servers = std::move(bootstrap_servers);
  config.client_id = std::move(client_id);
  for (const auto& p : props) {
    const auto eq = p.find('=');
    if (eq == std::string::npos || eq == 0) {
      return absl::InvalidArgumentError(absl::StrCat("--kafka-prop '", p, "': expected key=value"));
    }
    config.extra[p.substr(0, eq)] = p.substr(eq + 1);
  }
  return config;
}

}  // namespace forewarn
