// forewarn-devkafka: an embedded Kafka-protocol broker for local runs and
// tests, wrapping librdkafka's mock cluster. Not for production: it keeps
// about 5 MiB or 100,000 message sets per partition (older data is dropped),
// everything lives in memory, and it stops with the process.
//
// Prints the bootstrap address as one line on stdout once ready (and writes
// it to --bootstrap-file), then serves until SIGTERM/SIGINT.

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/strings/numbers.h"
#include "spdlog/sinks/stdout_color_sinks.h"
#include "spdlog/spdlog.h"

namespace {

struct HandleDeleter {
  void operator()(rd_kafka_t* rk) const { rd_kafka_destroy(rk); }
};
struct ClusterDeleter {
  void operator()(rd_kafka_mock_cluster_t* mc) const { rd_kafka_mock_cluster_destroy(mc); }
};
using HandlePtr = std::unique_ptr<rd_kafka_t, HandleDeleter>;
using ClusterPtr = std::unique_ptr<rd_kafka_mock_cluster_t, ClusterDeleter>;

struct TopicSpec {
  std::string name;
  int partitions = 0;
};

// Kafka's rule for topic names: 1..249 of [a-zA-Z0-9._-], not "." or "..".
bool ValidTopicName(const std::string& name) {
  if (name.empty() || name.size() > 249 || name == "." || name == "..") return false;
  for (const char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

bool ParseTopic(const std::string& spec, TopicSpec& out) {
  const auto colon = spec.rfind(':');
  if (colon == std::string::npos) return false;
  out.name = spec.substr(0, colon);
  if (!ValidTopicName(out.name)) return false;
  return absl::SimpleAtoi(spec.substr(colon + 1), &out.partitions) && out.partitions >= 1 &&
         out.partitions <= 10000;
}

// Writes `content` to `path` via a temporary file and rename(), so readers
// never see a partial file.
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

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"forewarn-devkafka: in-memory Kafka-protocol broker on loopback (dev/test only)"};
  int brokers = 1;
  std::vector<std::string> topic_specs;
  std::string bootstrap_file;
  std::string pid_file;
  app.add_option("--brokers", brokers, "number of mock brokers")->check(CLI::Range(1, 16));
  app.add_option("--topic", topic_specs,
                 "NAME:PARTITIONS to create up front (repeatable; default "
                 "forewarn.events:4, forewarn.notices:12, forewarn.notices.retry:12 and "
                 "forewarn.notices.dlq:4)");
  app.add_option("--bootstrap-file", bootstrap_file,
                 "write the bootstrap address here (atomically) once ready");
  app.add_option("--pid-file", pid_file, "write the process id here");
  std::string fault_file;
  app.add_option("--fault-file", fault_file,
                 "fault injection for tests: the file's content is applied when it changes: "
                 "'down' (all brokers refuse connections), 'up', or 'errors N' (the next N produce "
                 "requests fail with a retryable error)");
  CLI11_PARSE(app, argc, argv);

  // stdout carries only the bootstrap line; logs go to stderr.
  spdlog::set_default_logger(spdlog::stderr_color_mt("devkafka"));

  std::vector<TopicSpec> topics;
  if (topic_specs.empty()) {
    topic_specs = {"forewarn.events:4", "forewarn.notices:12", "forewarn.notices.retry:12", "forewarn.notices.dlq:4"};
  }
  for (const std::string& spec : topic_specs) {
    TopicSpec t;
    if (!ParseTopic(spec, t)) {
      spdlog::error("bad --topic '{}': want NAME:PARTITIONS, NAME of [a-zA-Z0-9._-], 1..10000 partitions", spec);
      return 2;
    }
    topics.push_back(t);
  }

  // Block the stop signals before librdkafka starts its threads, so they
  // inherit the mask and only sigwait() below receives them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  // The mock cluster needs a client handle for its bookkeeping; this one
  // never connects anywhere itself.
  char errstr[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "client.id", "forewarn-devkafka", errstr, sizeof(errstr));
  // Quiet the notice that this bookkeeping handle has no bootstrap.servers.
  rd_kafka_conf_set(conf, "log_level", "4", errstr, sizeof(errstr));
  HandlePtr rk(rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr)));
  if (!rk) {
    rd_kafka_conf_destroy(conf);
    spdlog::error("rd_kafka_new: {}", errstr);
    return 1;
  }
  ClusterPtr cluster(rd_kafka_mock_cluster_new(rk.get(), brokers));
  if (!cluster) {
    spdlog::error("could not start the mock cluster");
    return 1;
  }
  const int replication = brokers < 3 ? brokers : 3;
  for (const TopicSpec& t : topics) {
    if (auto err = rd_kafka_mock_topic_create(cluster.get(), t.name.c_str(), t.partitions,
                                              replication);
        err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      spdlog::error("create topic {}: {}", t.name, rd_kafka_err2str(err));
      return 1;
    }
    spdlog::info("topic {} with {} partitions", t.name, t.partitions);
  }

  const std::string bootstrap = rd_kafka_mock_cluster_bootstraps(cluster.get());
  if (!pid_file.empty() && !WriteAtomically(pid_file, std::to_string(::getpid()))) {
    spdlog::error("cannot write --pid-file {}", pid_file);
    return 1;
  }
  if (!bootstrap_file.empty() && !WriteAtomically(bootstrap_file, bootstrap)) {
    spdlog::error("cannot write --bootstrap-file {}", bootstrap_file);
    return 1;
  }
  std::cout << bootstrap << std::endl;  // one line, flushed
  spdlog::info("mock Kafka cluster with {} broker(s) ready at {}", brokers, bootstrap);

  int sig = 0;
  std::string applied_fault;
  const timespec poll{0, 100 * 1000 * 1000};
  while ((sig = sigtimedwait(&stop_signals, nullptr, &poll)) < 0) {
    if (fault_file.empty()) continue;
    std::ifstream in(fault_file);
    std::string fault((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    while (!fault.empty() && (fault.back() == '\n' || fault.back() == ' ')) fault.pop_back();
    if (fault.empty() || fault == applied_fault) continue;
    applied_fault = fault;
    if (fault == "down" || fault == "up") {
      for (int b = 1; b <= brokers; ++b) {
        if (fault == "down") {
          rd_kafka_mock_broker_set_down(cluster.get(), b);
        } else {
          rd_kafka_mock_broker_set_up(cluster.get(), b);
        }
      }
    } else if (fault.rfind("errors ", 0) == 0) {
      const size_t n = std::stoul(fault.substr(7));
      const std::vector<rd_kafka_resp_err_t> errors(n, RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS);
      rd_kafka_mock_push_request_errors_array(cluster.get(), 0 /* Produce */, n, errors.data());
    } else {
      spdlog::warn("unknown fault '{}'", fault);
      continue;
    }
    spdlog::info("fault injected: {}", fault);
  }
  spdlog::info("signal {}: shutting down", sig);

  cluster.reset();
  rk.reset();
  std::error_code ec;
  if (!bootstrap_file.empty()) std::filesystem::remove(bootstrap_file, ec);
  if (!pid_file.empty()) std::filesystem::remove(pid_file, ec);
  return 0;
}
