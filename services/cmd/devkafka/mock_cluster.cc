#include "services/cmd/devkafka/mock_cluster.h"

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "absl/strings/numbers.h"
#include "spdlog/spdlog.h"

namespace forewarn::devkafka {
namespace {

bool ValidTopicName(const std::string& name) {
  if (name.empty() || name.size() > 249 || name == "." || name == "..") return false;
  for (const char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                    c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

}  // namespace

bool ParseTopic(const std::string& spec, TopicSpec& out) {
  const auto colon = spec.rfind(':');
  if (colon == std::string::npos) return false;
  out.name = spec.substr(0, colon);
  if (!ValidTopicName(out.name)) return false;
  return absl::SimpleAtoi(spec.substr(colon + 1), &out.partitions) && out.partitions >= 1 &&
         out.partitions <= 10000;
}

bool WriteAtomically(const std::string& path, const std::string& content) {
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  {
    std::ofstream f(tmp, std::ios::trunc);
    f << content << '\n';
    f.flush();
    if (!f) return false;
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    std::filesystem::remove(tmp, ec);
    return false;
  }
  return true;
}

std::unique_ptr<MockCluster> MockCluster::Start(int brokers, const std::vector<TopicSpec>& topics) {
  char errstr[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "client.id", "forewarn-devkafka", errstr, sizeof(errstr));
  // Quiet the notice that this bookkeeping handle has no bootstrap.servers.
  rd_kafka_conf_set(conf, "log_level", "4", errstr, sizeof(errstr));
  std::unique_ptr<MockCluster> mc(new MockCluster());
  mc->brokers_ = brokers;
  mc->rk_ = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
  if (mc->rk_ == nullptr) {
    rd_kafka_conf_destroy(conf);
    spdlog::error("rd_kafka_new: {}", errstr);
    return nullptr;
  }
  mc->cluster_ = rd_kafka_mock_cluster_new(mc->rk_, brokers);
  if (mc->cluster_ == nullptr) {
    spdlog::error("could not start the mock cluster");
    return nullptr;
  }
  const int replication = brokers < 3 ? brokers : 3;
  for (const TopicSpec& t : topics) {
    if (auto err = rd_kafka_mock_topic_create(mc->cluster_, t.name.c_str(), t.partitions, replication);
        err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      spdlog::error("create topic {}: {}", t.name, rd_kafka_err2str(err));
      return nullptr;
    }
    spdlog::info("topic {} with {} partitions", t.name, t.partitions);
  }
  return mc;
}

MockCluster::~MockCluster() {
  if (cluster_ != nullptr) rd_kafka_mock_cluster_destroy(cluster_);
  if (rk_ != nullptr) rd_kafka_destroy(rk_);
}

std::string MockCluster::bootstrap() const { return rd_kafka_mock_cluster_bootstraps(cluster_); }

bool MockCluster::ApplyFault(const std::string& fault) {
  if (fault == "down" || fault == "up") {
    for (int b = 1; b <= brokers_; ++b) {
      if (fault == "down") {
        rd_kafka_mock_broker_set_down(cluster_, b);
      } else {
        rd_kafka_mock_broker_set_up(cluster_, b);
      }
    }
  } else if (fault.rfind("errors ", 0) == 0) {
    const size_t n = std::stoul(fault.substr(7));
    const std::vector<rd_kafka_resp_err_t> errors(n, RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS);
    rd_kafka_mock_push_request_errors_array(cluster_, 0 /* Produce */, n, errors.data());
  } else {
    spdlog::warn("unknown fault '{}'", fault);
    return false;
  }
  spdlog::info("fault injected: {}", fault);
  return true;
}

}  // namespace forewarn::devkafka
