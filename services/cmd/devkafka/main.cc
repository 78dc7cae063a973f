// forewarn-devkafka: an embedded Kafka-protocol broker for local runs and
// tests, wrapping librdkafka's mock cluster. Not for production: it keeps
// about 5 MiB or 100,000 message sets per partition (older data is dropped),
// everything lives in memory, and it stops with the process.
//
// Prints the bootstrap address as one line on stdout once ready (and writes
// it to --bootstrap-file), then serves until SIGTERM/SIGINT.

#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "services/cmd/devkafka/mock_cluster.h"
#include "spdlog/sinks/stdout_color_sinks.h"
#include "spdlog/spdlog.h"

namespace {

// Serves until SIGTERM/SIGINT (blocked in every thread, taken here),
// applying the fault file's content whenever it changes. Returns the signal.
int ServeUntilStopped(const sigset_t& stop_signals, forewarn::devkafka::MockCluster& cluster,
                      const std::string& fault_file) {
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
    cluster.ApplyFault(fault);
  }
  return sig;
}

// The --topic specs (the Forewarn topics when none is given); false (logged)
// for a bad one.
bool ParseTopics(std::vector<std::string> specs, std::vector<forewarn::devkafka::TopicSpec>& topics) {
  if (specs.empty()) {
    specs = {"forewarn.events:4", "forewarn.notices:12", "forewarn.notices.retry:12", "forewarn.notices.dlq:4"};
  }
  for (const std::string& spec : specs) {
    if (!forewarn::devkafka::ParseTopic(spec, topics.emplace_back())) {
      spdlog::error("bad --topic '{}': want NAME:PARTITIONS, NAME of [a-zA-Z0-9._-], 1..10000 partitions", spec);
      return false;
    }
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"forewarn-devkafka: in-memory Kafka-protocol broker on loopback (dev/test only)"};
  app.option_defaults()->always_capture_default();
  int brokers = 1;
  std::vector<std::string> topic_specs;
  std::string bootstrap_file, pid_file, fault_file;
  app.add_option("--brokers", brokers, "number of mock brokers")->check(CLI::Range(1, 16));
  app.add_option("--topic", topic_specs,
                 "NAME:PARTITIONS to create up front (repeatable; default "
                 "forewarn.events:4, forewarn.notices:12, forewarn.notices.retry:12 and "
                 "forewarn.notices.dlq:4)");
  app.add_option("--bootstrap-file", bootstrap_file, "write the bootstrap address here (atomically) once ready");
  app.add_option("--pid-file", pid_file, "write the process id here");
  app.add_option("--fault-file", fault_file,
                 "fault injection for tests: the file's content is applied when it changes: "
                 "'down' (all brokers refuse connections), 'up', or 'errors N' (the next N produce "
                 "requests fail with a retryable error)");
  CLI11_PARSE(app, argc, argv);
  spdlog::set_default_logger(spdlog::stderr_color_mt("devkafka"));  // stdout carries only the bootstrap line

  std::vector<forewarn::devkafka::TopicSpec> topics;
  if (!ParseTopics(topic_specs, topics)) return 2;
  // Block the stop signals before librdkafka starts its threads, so they
  // inherit the mask and only sigwait() below receives them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  auto cluster = forewarn::devkafka::MockCluster::Start(brokers, topics);
  if (!cluster) return 1;
  const std::string bootstrap = cluster->bootstrap();
  if (!pid_file.empty() && !forewarn::devkafka::WriteAtomically(pid_file, std::to_string(::getpid()))) {
    spdlog::error("cannot write --pid-file {}", pid_file);
    return 1;
  }
  if (!bootstrap_file.empty() && !forewarn::devkafka::WriteAtomically(bootstrap_file, bootstrap)) {
    spdlog::error("cannot write --bootstrap-file {}", bootstrap_file);
    return 1;
  }
  std::cout << bootstrap << std::endl;  // one line, flushed
  spdlog::info("mock Kafka cluster with {} broker(s) ready at {}", brokers, bootstrap);

  const int sig = ServeUntilStopped(stop_signals, *cluster, fault_file);
  spdlog::info("signal {}: shutting down", sig);
  cluster.reset();
  std::error_code ec;
  if (!bootstrap_file.empty()) std::filesystem::remove(bootstrap_file, ec);
  if (!pid_file.empty()) std::filesystem::remove(pid_file, ec);
  return 0;
}
