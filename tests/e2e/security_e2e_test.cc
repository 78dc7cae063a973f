// End-to-end security and audit: bearer tokens with roles at the intake,
// the audit trail of who changed what, the intake's /metrics, TLS, and
// SASL/SCRAM between the services and Kafka.
#include <arpa/inet.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "forewarn/v1/incident.grpc.pb.h"
#include "tests/e2e/stack.h"

namespace forewarn {
namespace {

using testing::HttpGet;
using testing::RunCommand;

constexpr char kViewer[] = "viewer-token-5f1c2a9e7b";
constexpr char kSubmitter[] = "submitter-token-8d3e4b1a6c";
constexpr char kOperator[] = "operator-token-2b7f9c0d4e";

std::string SeedSql() {
  return "INSERT INTO services VALUES ('electricity','Electricity','الكهرباء');"
         "INSERT INTO regions VALUES ('riyadh','Riyadh','الرياض');"
         "INSERT INTO customers (id, name, locale, time_zone, phone, email) VALUES "
         "(1,'A','en','Asia/Riyadh','+966550000001','a@example.com'),"
         "(2,'B','ar','Asia/Riyadh','+966550000002','b@example.com');"
         "INSERT INTO customer_services VALUES ('electricity','riyadh',1),('electricity','riyadh',2);";
}

v1::CreateIncidentRequest OutageRequest(const std::string& key) {
  v1::CreateIncidentRequest req =
      testing::OutageRequest(key, "electricity", "riyadh", "Feeder trip", "انقطاع المغذي", absl::Hours(2));
  req.mutable_starts_at()->set_seconds(absl::ToUnixSeconds(absl::Now()));
  return req;
}

class SecurityE2eTest : public testing::StackTest {
 protected:
  void SetUp() override {
    SkipWithoutPostgres();
    if (IsSkipped()) return;
    secrets_ = testing::MakeTempDir("forewarn-secrets-");
    std::ofstream(secrets_ + "/tokens") << "# test callers\n"
                                        << kViewer << " viewer dashboards\n"
                                        << kSubmitter << " submitter grid-scada\n"
                                        << kOperator << " operator alice\n";
  }

  // A context carrying `token` (none when empty).
  std::unique_ptr<grpc::ClientContext> As(const std::string& token) {
    auto ctx = stack_.Ctx();
    if (!token.empty()) ctx->AddMetadata("authorization", absl::StrCat("Bearer ", token));
    return ctx;
  }

  std::string secrets_;
};

TEST_F(SecurityE2eTest, TokensAndRolesGuardEveryCallAndTheAuditTrailNamesTheCallers) {
  testing::ServiceStack::Options options;
  options.intake_args = {"--auth-tokens", secrets_ + "/tokens", "--http-listen", "127.0.0.1:0", "--http-port-file",
                         "{dir}/intake.http", "--backlog-refresh-seconds", "1"};
  ASSERT_NO_FATAL_FAILURE(StartStack(SeedSql(), options));
  auto& stub = stack_.stub();
  v1::Incident incident;

  // Who are you?
  auto status = stub.CreateIncident(As("").get(), OutageRequest("sec-1"), &incident);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED) << status.error_message();
  status = stub.CreateIncident(As("not-a-known-token-at-all").get(), OutageRequest("sec-1"), &incident);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED) << status.error_message();
  v1::ListIncidentsResponse list;
  EXPECT_EQ(stub.ListIncidents(As("").get(), v1::ListIncidentsRequest(), &list).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);

  // What may you do?
  status = stub.CreateIncident(As(kViewer).get(), OutageRequest("sec-1"), &incident);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED) << status.error_message();
  EXPECT_TRUE(stub.ListIncidents(As(kViewer).get(), v1::ListIncidentsRequest(), &list).ok());
  EXPECT_EQ(stack_.db().Exec("SELECT count(*) FROM incidents"), "0");

  status = stub.CreateIncident(As(kSubmitter).get(), OutageRequest("sec-1"), &incident);
  ASSERT_TRUE(status.ok()) << status.error_message();
  v1::UpdateIncidentRequest update;
  update.set_id(incident.id());
  update.mutable_expected_restoration_at()->set_seconds(incident.expected_restoration_at().seconds() + 3600);
  v1::Incident updated;
  status = stub.UpdateIncident(As(kOperator).get(), update, &updated);
  ASSERT_TRUE(status.ok()) << status.error_message();

  v1::ResolveIncidentRequest resolve;
  resolve.set_id(incident.id());
  v1::Incident resolved;
  status = stub.ResolveIncident(As(kSubmitter).get(), resolve, &resolved);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED) << status.error_message();
  v1::ReconcileIncidentRequest reconcile;
  reconcile.set_id(incident.id());
  reconcile.set_dry_run(true);
  v1::ReconcileIncidentResponse rec;
  EXPECT_EQ(stub.ReconcileIncident(As(kViewer).get(), reconcile, &rec).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  status = stub.ResolveIncident(As(kOperator).get(), resolve, &resolved);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(resolved.state(), v1::RESOLVED);

  // Who changed what, and when.
  v1::GetIncidentHistoryRequest history_req;
  history_req.set_id(incident.id());
  v1::IncidentHistory history;
  status = stub.GetIncidentHistory(As(kViewer).get(), history_req, &history);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(history.changes_size(), 3);
  EXPECT_EQ(history.changes(0).change(), "created");
  EXPECT_EQ(history.changes(0).actor(), "grid-scada");
  EXPECT_NE(history.changes(0).summary().find("created unplanned_outage"), std::string::npos);
  EXPECT_EQ(history.changes(1).change(), "updated");
  EXPECT_EQ(history.changes(1).actor(), "alice");
  EXPECT_EQ(history.changes(1).summary().rfind("expected_restoration_at: ", 0), 0u) << history.changes(1).summary();
  EXPECT_NE(history.changes(1).summary().find(" -> "), std::string::npos);
  EXPECT_EQ(history.changes(1).snapshot().expected_restoration_at().seconds(),
            incident.expected_restoration_at().seconds() + 3600);
  EXPECT_EQ(history.changes(2).change(), "resolved");
  EXPECT_EQ(history.changes(2).actor(), "alice");
  EXPECT_EQ(history.changes(2).summary(), "state: open -> resolved");
  EXPECT_GT(history.changes(2).changed_at().seconds(), 0);

  // The CLI shows the same trail, with its token from the environment.
  const std::string cli = absl::StrCat(FOREWARN_BIN_DIR, "/services/cmd/cli/forewarn --target ", stack_.intake_target());
  const std::string table = RunCommand(absl::StrCat("FOREWARN_TOKEN=", kViewer, " ", cli, " incident history ",
                                                    incident.id(), " 2>&1"));
  EXPECT_NE(table.find("grid-scada"), std::string::npos) << table;
  EXPECT_NE(table.find("state: open -> resolved"), std::string::npos) << table;
  const std::string json = RunCommand(absl::StrCat(cli, " --token ", kViewer, " incident history ", incident.id(),
                                                   " --json 2>&1"));
  EXPECT_NE(json.find("\"actor\": \"alice\""), std::string::npos) << json;
  const std::string denied = RunCommand(absl::StrCat(cli, " --token ", kViewer, " incident reconcile ",
                                                     incident.id(), " 2>&1; echo exit=$?"));
  EXPECT_NE(denied.find("requires operator"), std::string::npos) << denied;
  EXPECT_NE(denied.find("exit=1"), std::string::npos) << denied;

  // The intake's metrics count calls by method and code.
  std::string port_text;
  ASSERT_TRUE(testing::WaitForFile(stack_.dir() + "/intake.http", absl::Seconds(10), &port_text).ok());
  int port = 0;
  ASSERT_TRUE(absl::SimpleAtoi(port_text, &port));
  const std::string metrics = HttpGet(port, "/metrics");
  EXPECT_NE(metrics.find("200 OK"), std::string::npos) << metrics;
  for (const char* series : {
           "forewarn_intake_rpcs_total{code=\"UNAUTHENTICATED\",method=\"CreateIncident\"} 2",
           "forewarn_intake_rpcs_total{code=\"PERMISSION_DENIED\",method=\"CreateIncident\"} 1",
           "forewarn_intake_rpcs_total{code=\"OK\",method=\"CreateIncident\"} 1",
           "forewarn_intake_rpcs_total{code=\"PERMISSION_DENIED\",method=\"ResolveIncident\"} 1",
           "forewarn_intake_rpcs_total{code=\"OK\",method=\"ResolveIncident\"} 1",
           "forewarn_intake_rpc_duration_seconds_count{method=\"GetIncidentHistory\"} 3",
           "# TYPE forewarn_outbox_backlog gauge",
       }) {
    EXPECT_NE(metrics.find(series), std::string::npos) << series << " missing in:\n" << metrics;
  }
  EXPECT_NE(HttpGet(port, "/readyz").find("200 OK"), std::string::npos);

  // Tokens never reach the logs.
  const std::string log = testing::ReadFile(stack_.dir() + "/intake.log");
  EXPECT_NE(log.find("event=rpc_denied"), std::string::npos);
  for (const char* token : {kViewer, kSubmitter, kOperator, "not-a-known-token-at-all"}) {
    EXPECT_EQ(log.find(token), std::string::npos) << "token in the intake log";
  }
}

TEST_F(SecurityE2eTest, TlsWithATokenWorksAndPlaintextIsRefused) {
  const std::string cert = secrets_ + "/server.crt", key = secrets_ + "/server.key";
  const std::string cmd = absl::StrCat(
      "openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=localhost "
      "-addext subjectAltName=DNS:localhost,IP:127.0.0.1 -keyout ",
      key, " -out ", cert, " >", secrets_, "/openssl.log 2>&1");
  if (std::system(cmd.c_str()) != 0) GTEST_SKIP() << "openssl cannot make a test certificate";
  grpc::SslCredentialsOptions ssl;
  ssl.pem_root_certs = testing::ReadFile(cert);
  testing::ServiceStack::Options options;
  options.intake_args = {"--auth-tokens", secrets_ + "/tokens", "--tls-cert", cert, "--tls-key", key};
  options.intake_credentials = grpc::SslCredentials(ssl);
  ASSERT_NO_FATAL_FAILURE(StartStack(SeedSql(), options));

  v1::Incident incident;
  auto status = stack_.stub().CreateIncident(As(kSubmitter).get(), OutageRequest("tls-1"), &incident);
  ASSERT_TRUE(status.ok()) << status.error_message();
  v1::ListIncidentsResponse list;
  EXPECT_EQ(stack_.stub().ListIncidents(As("").get(), v1::ListIncidentsRequest(), &list).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);

  auto plaintext = v1::IncidentService::NewStub(
      grpc::CreateChannel(stack_.intake_target(), grpc::InsecureChannelCredentials()));
  auto ctx = As(kViewer);
  ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(3));
  EXPECT_EQ(plaintext->ListIncidents(ctx.get(), v1::ListIncidentsRequest(), &list).error_code(),
            grpc::StatusCode::UNAVAILABLE);
}

TEST_F(SecurityE2eTest, MutualTlsRequiresAClientCertificateSignedByTheClientCa) {
  const std::string cert = secrets_ + "/server.crt", key = secrets_ + "/server.key";
  const std::string client_cert = secrets_ + "/client.crt", client_key = secrets_ + "/client.key";
  auto make = [&](const std::string& crt, const std::string& k, const std::string& cn) {
    return std::system(absl::StrCat("openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=", cn,
                                    " -addext subjectAltName=DNS:localhost,IP:127.0.0.1 -keyout ", k, " -out ", crt,
                                    " >>", secrets_, "/openssl.log 2>&1")
                           .c_str()) == 0;
  };
  if (!make(cert, key, "localhost") || !make(client_cert, client_key, "client")) {
    GTEST_SKIP() << "openssl cannot make test certificates";
  }
  grpc::SslCredentialsOptions with_cert;
  with_cert.pem_root_certs = testing::ReadFile(cert);
  with_cert.pem_cert_chain = testing::ReadFile(client_cert);
  with_cert.pem_private_key = testing::ReadFile(client_key);
  testing::ServiceStack::Options options;
  // The self-signed client certificate is its own CA.
  options.intake_args = {"--tls-cert", cert, "--tls-key", key, "--tls-client-ca", client_cert};
  options.intake_credentials = grpc::SslCredentials(with_cert);
  ASSERT_NO_FATAL_FAILURE(StartStack(SeedSql(), options));

  v1::ListIncidentsResponse list;
  auto status = stack_.stub().ListIncidents(As("").get(), v1::ListIncidentsRequest(), &list);
  EXPECT_TRUE(status.ok()) << status.error_message();  // no tokens file: auth is off

  grpc::SslCredentialsOptions without_cert;
  without_cert.pem_root_certs = testing::ReadFile(cert);
  auto anonymous = v1::IncidentService::NewStub(
      grpc::CreateChannel(stack_.intake_target(), grpc::SslCredentials(without_cert)));
  auto ctx = As("");
  ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(3));
  EXPECT_EQ(anonymous->ListIncidents(ctx.get(), v1::ListIncidentsRequest(), &list).error_code(),
            grpc::StatusCode::UNAVAILABLE);
}

}  // namespace
}  // namespace forewarn

namespace forewarn {
namespace {

// Every line of every *.log file in `dir` that holds `secret`.
std::vector<std::string> LinesWith(const std::string& dir, const std::string& secret) {
  std::vector<std::string> out;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() != ".log") continue;
    std::ifstream in(entry.path());
    for (std::string line; std::getline(in, line);) {
      if (line.find(secret) != std::string::npos) out.push_back(entry.path().filename().string() + ": " + line);
    }
  }
  return out;
}

// Apache Kafka with a SASL_PLAINTEXT listener (SCRAM-SHA-512, the user created
// at format time): every service connects with --kafka-prop
// security.protocol, sasl.mechanism, sasl.username and sasl.password, and the
// notices are delivered; the password is in no log. A service given a wrong
// password stops at start-up (exit 2) saying the broker refused its
// credentials, instead of retrying for ever.
TEST_F(SecurityE2eTest, ServicesAuthenticateToKafkaWithScramAndAWrongPasswordStopsStartUp) {
  if (!testing::ServiceStack::KafkaNodeAvailable()) GTEST_SKIP() << "no Apache Kafka under test (--kafka mock)";
  const std::string password = absl::StrCat("scram-pw-", ::getpid(), "-", absl::ToUnixMicros(absl::Now()));
  testing::ServiceStack::Options options;
  options.kafka = testing::StackKafka::kOwnNode;
  options.kafka_scram = "forewarn-svc:" + password;
  ASSERT_NO_FATAL_FAILURE(StartStack(SeedSql(), options));
  const auto incident = stack_.CreateIncident(OutageRequest("sasl-1"));
  ASSERT_TRUE(incident.ok()) << incident.status();
  // Two customers, SMS and email each.
  EXPECT_TRUE(stack_.WaitForCount(testing::SentCountSql(incident->id()), 4, absl::Seconds(90)))
      << "logs in " << stack_.dir();
  EXPECT_EQ(stack_.ReadOutbox().size(), 4u);

  const std::string log = stack_.dir() + "/resolver-wrong-password.log";
  testing::ChildProcess resolver(
      {absl::StrCat(FOREWARN_BIN_DIR, "/services/cmd/resolver/forewarn-resolver"), "--pg", stack_.db().uri(), "--kafka",
       stack_.kafka_bootstrap(), "--kafka-prop", "security.protocol=SASL_PLAINTEXT", "--kafka-prop",
       "sasl.mechanism=SCRAM-SHA-512", "--kafka-prop", "sasl.username=forewarn-svc", "--kafka-prop",
       "sasl.password=not-" + password},
      log);
  ASSERT_TRUE(resolver.Start().ok());
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  while (resolver.Running() && absl::Now() < deadline) absl::SleepFor(absl::Milliseconds(50));
  const bool exited = !resolver.Running();
  const int wait_status = resolver.Stop();
  const std::string output = testing::ReadFile(log);
  EXPECT_TRUE(exited) << "still retrying after 30 s: " << output;
  EXPECT_TRUE(WIFEXITED(wait_status) && WEXITSTATUS(wait_status) == 2) << output;
  EXPECT_NE(output.find("refused this client's credentials"), std::string::npos) << output;
  EXPECT_NE(output.find("SCRAM-SHA-512"), std::string::npos) << output;
  EXPECT_EQ(LinesWith(stack_.dir(), password), std::vector<std::string>{});
}

}  // namespace
}  // namespace forewarn
