#pragma once

// librdkafka's mock cluster as forewarn-devkafka serves it: topics created
// up front and faults injected on request. Dev/test only.

#include <memory>
#include <string>
#include <vector>

struct rd_kafka_s;
struct rd_kafka_mock_cluster_s;

namespace forewarn::devkafka {

struct TopicSpec {
  std::string name;
  int partitions = 0;
};

// "NAME:PARTITIONS": NAME of Kafka's topic characters (1..249 of
// [a-zA-Z0-9._-], not "." or ".."), 1..10000 partitions. False otherwise.
bool ParseTopic(const std::string& spec, TopicSpec& out);

// Writes `content` and a newline to `path` via a temporary file and
// rename(), so readers never see a partial file.
bool WriteAtomically(const std::string& path, const std::string& content);

class MockCluster {
 public:
  // `brokers` mock brokers with `topics` (replication min(brokers, 3));
  // nullptr (logged) when the cluster or a topic cannot be created.
  static std::unique_ptr<MockCluster> Start(int brokers, const std::vector<TopicSpec>& topics);
  ~MockCluster();

  std::string bootstrap() const;
  // 'down' (every broker refuses connections), 'up', or 'errors N' (the
  // next N produce requests fail with a retryable error). False (logged)
  // for anything else.
  bool ApplyFault(const std::string& fault);

 private:
  MockCluster() = default;
  int brokers_ = 0;
  rd_kafka_s* rk_ = nullptr;  // bookkeeping handle; never connects anywhere itself
  rd_kafka_mock_cluster_s* cluster_ = nullptr;
};

}  // namespace forewarn::devkafka
