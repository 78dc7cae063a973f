#pragma once

// The whole Forewarn stack as separate processes, for end-to-end tests:
// intake, resolver, scheduler and two notifiers, over a scratch database on
// the test command's PostgreSQL and, by default, the test command's Kafka
// broker (FOREWARN_TEST_KAFKA) with topics and consumer groups of the
// stack's own (created at start, deleted at stop). One broker for the whole
// suite rather than one per test: an Apache Kafka node takes seconds of JVM
// start-up, a set of topics a fraction of a second.

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "forewarn/v1/incident.grpc.pb.h"
#include "nlohmann/json.hpp"
#include "tests/support/process.h"
#include "tests/support/test_db.h"

namespace forewarn::testing {

// One delivered notice, as read back from the file outbox.
struct Delivered {
  int64_t customer_id = 0;
  std::string channel;
  std::string kind;
  std::string occasion;
  int64_t version = 0;
  nlohmann::json line;
};

// Where a stack's Kafka comes from.
enum class StackKafka {
  // The test command's broker, with this stack's own topics and groups. When
  // the test command runs the mock broker (--kafka mock), or none, the stack
  // starts a forewarn-devkafka of its own instead (kMock).
  kShared,
  // A forewarn-devkafka of the stack's own (librdkafka's mock cluster): for
  // what a real broker cannot do on demand, injected request errors
  // (devkafka_args, e.g. --fault-file).
  kMock,
  // An Apache Kafka node of the stack's own (scripts/kafka.sh), which the test
  // may stop, kill and start again (KafkaNode). Not available with --kafka
  // mock (no Java): Start() fails, check KafkaNodeAvailable() first.
  kOwnNode,
};

class ServiceStack {
 public:
  // Every notifier and the intake run with --status-base-url kStatusBaseUrl
  // and --message-code-secret-file holding kMessageCodeSecret (issue 19):
  // tests check the links and codes notices carry against them.
  static constexpr char kStatusBaseUrl[] = "https://status.forewarn.test";
  static constexpr char kMessageCodeSecret[] = "e2e-message-code-secret-0123456789abcdef";
  struct Options {
    int notifiers = 2;
    // e.g. real channel providers; "{dir}" in a value is replaced by dir(),
    // "{name}" by the notifier's name ("notifier-1", ...) and
    // "{public_port}" by the intake's public port (the intake must run with
    // --public-port-file {dir}/public.port).
    std::vector<std::string> notifier_args;
    StackKafka kafka = StackKafka::kShared;
    std::vector<std::string> devkafka_args;  // kMock only, e.g. --fault-file
    // kOwnNode only: the number of nodes (scripts/kafka.sh start --nodes);
    // topics get replication factor min(3, nodes), min.insync.replicas 2
    // from three nodes on.
    int kafka_nodes = 1;
    // kOwnNode only: "USER:PASSWORD" starts the node with a SASL_PLAINTEXT
    // listener (SCRAM-SHA-512, that user) and the services connect there with
    // --kafka-prop security.protocol, sasl.mechanism, sasl.username and
    // sasl.password; the topics are created over the PLAINTEXT listener.
    std::string kafka_scram;
    // Extra intake flags (auth tokens, TLS, metrics); "{dir}" in a value is
    // replaced by the stack's scratch directory (dir()).
    std::vector<std::string> intake_args;
    // Credentials of stub()'s channel (TLS); plaintext when null.
    std::shared_ptr<grpc::ChannelCredentials> intake_credentials;
    // When set, stub()'s channel checks the server certificate against this
    // name instead of the target's host (a test certificate's CN/SAN).
    std::string tls_target_name;
    // When set, the services connect to the URI this returns for the scratch
    // database's URI (e.g. a connection pooler in front of it; the database
    // name must be kept); it runs once the scratch database exists. db()
    // still connects directly.
    std::function<absl::StatusOr<std::string>(const std::string& scratch_uri)> services_pg_uri;
    // When set, the resolver and the intake also get --pg-read with the URI
    // this returns for the scratch database's URI (a streaming replica of it).
    std::function<absl::StatusOr<std::string>(const std::string& scratch_uri)> services_pg_read_uri;
    // Extra resolver flags; "{dir}" is replaced by dir().
    std::vector<std::string> resolver_args;
  };
  // Starts everything; `seed_sql` runs once the intake created the schema.
  absl::Status Start(const std::string& seed_sql) { return Start(seed_sql, Options{}); }
  absl::Status Start(const std::string& seed_sql, const Options& options);
  void Stop();
  // Stop(), then removes dir() unless the test failed (its logs and outbox
  // are then kept for reading).
  ~ServiceStack();

  v1::IncidentService::Stub& stub() { return *stub_; }
  // stub().CreateIncident with a fresh Ctx(); a failure carries the gRPC code
  // and message.
  absl::StatusOr<v1::Incident> CreateIncident(const v1::CreateIncidentRequest& req);
  ScratchDatabase& db() { return *db_; }
  // Every service's clock is the real time plus this shift.
  void SetTimeOffset(absl::Duration offset);
  std::vector<Delivered> ReadOutbox() const;
  // Polls every 50 ms until `sql` (a count query) returns at least `want`;
  // true when reached within `timeout`.
  bool WaitForCount(const std::string& sql, int64_t want, absl::Duration timeout = absl::Seconds(120));
  std::unique_ptr<grpc::ClientContext> Ctx() const;
  const std::string& dir() const { return dir_; }
  // The process started as `name` ("intake", "resolver", "notifier-1", ...),
  // or nullptr; tests kill -9 and restart it.
  ChildProcess* Process(const std::string& name);
  // "127.0.0.1:PORT" of the intake's gRPC port.
  const std::string& intake_target() const { return intake_target_; }
  // The services' Kafka bootstrap (kOwnNode with kafka_scram: the SASL
  // listener) and topics.
  const std::string& kafka_bootstrap() const { return kafka_; }
  const std::string& notices_topic() const { return notices_topic_; }

  // kOwnNode only: scripts/kafka.sh ACTION on the stack's node `node`
  // ("stop-node", "kill-node", "start-node"; start-node returns once the
  // broker serves).
  absl::Status KafkaNode(const std::string& action, int node = 1);
  // kOwnNode only: the node that leads most partitions of `topic`, and the
  // active controller (the leader of the KRaft quorum).
  absl::StatusOr<int> KafkaLeaderOf(const std::string& topic);
  absl::StatusOr<int> KafkaActiveController();
  // True when kOwnNode can run here (Apache Kafka, not the mock, under test).
  static bool KafkaNodeAvailable();

 private:
  absl::Status Launch(const std::string& name, std::vector<std::string> argv);
  absl::Status StartKafka(const Options& options);
  absl::Status StartOwnKafka(const Options& options);
  // Runs scripts/kafka.sh ARGS; the node number it prints.
  absl::StatusOr<int> KafkaScriptNumber(const std::vector<std::string>& args);

  std::unique_ptr<ScratchDatabase> db_;
  std::string dir_, outbox_, offset_file_, intake_target_;
  StackKafka kafka_kind_ = StackKafka::kShared;
  std::string kafka_, kafka_admin_, events_topic_, notices_topic_, retry_topic_, dlq_topic_, resolver_group_, notifier_group_;
  std::vector<std::string> kafka_props_;  // the services' --kafka-prop flags
  std::vector<std::unique_ptr<ChildProcess>> procs_;
  std::unique_ptr<v1::IncidentService::Stub> stub_;
};

// A test over one ServiceStack (stack_, stopped when the test ends).
class StackTest : public ::testing::Test {
 protected:
  // Skips the test when the test command started no PostgreSQL (check
  // IsSkipped() after it).
  void SkipWithoutPostgres();
  // Skips the test when the test command's PostgreSQL is not there; otherwise
  // starts stack_ and fails fatally, naming the folder of the services' logs,
  // when it cannot (wrap in ASSERT_NO_FATAL_FAILURE outside SetUp).
  void StartStack(const std::string& seed_sql, const ServiceStack::Options& options = {});

  ServiceStack stack_;
};

// What one run of the `forewarn` CLI printed and returned.
struct CliRun {
  int exit_code = -1;
  std::string out, err;
};

// A StackTest whose intake checks bearer tokens, for tests that drive it
// with the built `forewarn` CLI as an operator's script would.
class CliStackTest : public StackTest {
 protected:
  // Skips without PostgreSQL; otherwise starts stack_ with `notifiers`
  // notifiers, `tokens` ("TOKEN ROLE NAME" lines) as the intake's
  // --auth-tokens file and `seed_sql`. dir_ is a scratch folder named
  // `dir_prefix`...; Forewarn runs with `default_token` unless given another.
  void StartCliStack(const std::string& dir_prefix, const std::string& tokens, const std::string& seed_sql,
                     const std::string& default_token, int notifiers = 1);
  // Writes `text` to dir_/name; its path.
  std::string Write(const std::string& name, const std::string& text);
  // forewarn --target INTAKE --token TOKEN ARGS... (each single-quoted).
  CliRun Forewarn(const std::vector<std::string>& args, const std::string& token = "");
  // forewarn-status over the stack's database on a free loopback port,
  // checking codes with the notifiers' secret (kMessageCodeSecret), with
  // `args` added; its port (0, and the test failed, when it did not start).
  int StartStatusPages(const std::vector<std::string>& args = {});
  // Stops forewarn-status and removes dir_ unless the test failed (its CLI
  // outputs and status.log are then kept for reading).
  void TearDown() override;

  std::string dir_;
  std::string default_token_;
  std::unique_ptr<ChildProcess> status_pages_;
};

// An UNPLANNED_OUTAGE request of `service` in `region` with the reason in
// English and Arabic, expected to be restored `restore_in` from now.
v1::CreateIncidentRequest OutageRequest(const std::string& key, const std::string& service, const std::string& region,
                                        const std::string& reason_en, const std::string& reason_ar,
                                        absl::Duration restore_in);

// Seed SQL for `count` customers (ids 1..count) who all use `service` in
// `region`: phone PHONE_PREFIX + the id in 7 digits, even ids Arabic, SMS
// unless id % 3 == 1, email unless id % 3 == 0. The service and region rows
// are the caller's.
std::string GeneratedCustomersSql(const std::string& service, const std::string& region,
                                  const std::string& phone_prefix, int count);
// The notices one incident sends to GeneratedCustomersSql's `count` customers.
int64_t GeneratedCustomersNotices(int count);

// A customer as the fan-out and lifecycle seeds make them: odd ids English,
// even Arabic; SMS unless id % 3 == 1, email unless id % 3 == 0; four time
// zones in turn.
struct SeededCustomer {
  std::string locale;
  std::string tz;
  bool sms = false;
  bool email = false;
};
SeededCustomer SeededCustomerFor(int id);
// Customer `id`'s row for "INSERT INTO customers (id, name, locale,
// time_zone, phone, email, channels_unplanned, channels_maintenance,
// channels_banking) VALUES" (the same channels in every category): phone
// +9665<phone_base + id>, email <email_user><id>@example.com.
std::string SeededCustomerRow(int id, int64_t phone_base, const std::string& email_user);
// (customer, channel) of each notice the seeded customers `ids` are sent.
std::set<std::pair<int64_t, std::string>> SeededRecipients(const std::set<int>& ids);

// Counts the SENT notices of an incident in the ledger.
std::string SentCountSql(const std::string& incident_id);

// Asserts (gtest) that no *.log file in `dir` holds a raw phone number,
// email address or IBAN.
void ExpectNoPersonalDataInLogs(const std::string& dir);

// GET http://127.0.0.1:port/path; the whole response, headers included
// ("" when the connection fails).
std::string HttpGet(int port, const std::string& path);

// Every *.json file in `dir` parsed (e.g. the messages the test SMTP sink
// wrote); none when the folder does not exist.
std::vector<nlohmann::json> JsonFilesIn(const std::string& dir);

// The whole file ("" when it cannot be read).
std::string ReadFile(const std::string& path);

// Runs a shell command; its standard output.
std::string RunCommand(const std::string& cmd);

}  // namespace forewarn::testing
