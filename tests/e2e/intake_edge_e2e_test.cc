// The intake's gRPC edge, with the intake started alone (its own scratch
// database, the test command's broker): the health service answers for each
// served service, bytes that are not a request are INVALID_ARGUMENT, and
// idle or silent connections are closed, so that a flood of idle sockets
// beyond the open-file limit neither stays open nor locks out callers.
#include <arpa/inet.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "forewarn/v1/incident.grpc.pb.h"
#include "tests/e2e/stack.h"
#include "tests/support/process.h"
#include "tests/support/test_db.h"

namespace forewarn {
namespace {

namespace v1 = forewarn::v1;

// grpc.health.v1 messages by hand (one string field in, one enum field out).
constexpr int kServing = 1;
constexpr int kNotServing = 2;

std::string HealthRequest(const std::string& service) {
  return absl::StrCat(std::string(1, '\x0a'), std::string(1, static_cast<char>(service.size())), service);
}

int HealthStatus(const std::string& response) {
  if (response.empty()) return 0;  // UNKNOWN: the default value is not sent
  return response.size() == 2 && response[0] == '\x08' ? response[1] : -1;
}

std::string ToString(const grpc::ByteBuffer& buffer) {
  std::vector<grpc::Slice> slices;
  std::string out;
  if (!buffer.Dump(&slices).ok()) return out;
  for (const auto& s : slices) out.append(reinterpret_cast<const char*>(s.begin()), s.size());
  return out;
}

// A unary call with raw request bytes (any method, any bytes).
grpc::Status RawUnary(const std::shared_ptr<grpc::Channel>& channel, const std::string& method,
                      const std::string& request, std::string* response) {
  grpc::GenericStub stub(channel);
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  grpc::CompletionQueue cq;
  grpc::Slice slice(request);
  grpc::ByteBuffer req(&slice, 1);
  auto call = stub.PrepareUnaryCall(&ctx, method, req, &cq);
  call->StartCall();
  grpc::ByteBuffer resp;
  grpc::Status status;
  call->Finish(&resp, &status, reinterpret_cast<void*>(1));
  void* tag = nullptr;
  bool ok = false;
  cq.Next(&tag, &ok);
  if (status.ok()) *response = ToString(resp);
  return status;
}

// The intake alone, on a scratch database and the test command's broker.
class Intake {
 public:
  absl::Status Start(const std::vector<std::string>& extra, uint64_t open_file_limit = 0,
                     const std::string& listen = "127.0.0.1:0") {
    dir_ = testing::MakeTempDir("forewarn-intake-");
    std::vector<std::string> argv = {absl::StrCat(FOREWARN_BIN_DIR, "/services/cmd/intake/forewarn-intake"),
                                     "--pg", db_.uri(), "--kafka", testing::TestKafkaBootstrap(),
                                     "--listen", listen, "--port-file", dir_ + "/port",
                                     "--http-listen", "127.0.0.1:0", "--http-port-file", dir_ + "/http.port",
                                     "--templates", FOREWARN_TEMPLATES_DIR};
    argv.insert(argv.end(), extra.begin(), extra.end());
    process_ = std::make_unique<testing::ChildProcess>(argv, dir_ + "/intake.log");
    if (open_file_limit > 0) process_->set_open_file_limit(open_file_limit);
    if (auto s = process_->Start(); !s.ok()) return s;
    std::string port, http_port;
    if (auto s = testing::WaitForFile(dir_ + "/port", absl::Seconds(60), &port); !s.ok()) return s;
    if (auto s = testing::WaitForFile(dir_ + "/http.port", absl::Seconds(10), &http_port); !s.ok()) return s;
    if (!absl::SimpleAtoi(port, &port_) || !absl::SimpleAtoi(http_port, &http_port_)) {
      return absl::InternalError("bad port file");
    }
    return absl::OkStatus();
  }
  std::shared_ptr<grpc::Channel> NewChannel(const std::string& host = "127.0.0.1") const {
    // A channel of its own each time: no connection shared with earlier calls.
    grpc::ChannelArguments args;
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    return grpc::CreateCustomChannel(absl::StrCat(host, ":", port_), grpc::InsecureChannelCredentials(), args);
  }
  // One ListIncidents call on a new channel.
  grpc::Status List(absl::Duration deadline, const std::string& host = "127.0.0.1") const {
    auto stub = v1::IncidentService::NewStub(NewChannel(host));
    grpc::ClientContext ctx;
    ctx.set_deadline(absl::ToChronoTime(absl::Now() + deadline));
    v1::ListIncidentsRequest req;
    v1::ListIncidentsResponse resp;
    return stub->ListIncidents(&ctx, req, &resp);
  }
  std::string Log() const {
    std::ifstream in(dir_ + "/intake.log");
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
  }
  int port() const { return port_; }
  int http_port() const { return http_port_; }
  testing::ChildProcess& process() { return *process_; }

 private:
  testing::ScratchDatabase db_;
  std::string dir_;
  std::unique_ptr<testing::ChildProcess> process_;
  int port_ = 0;
  int http_port_ = 0;
};

class IntakeEdgeE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (testing::TestPgUri().empty() || testing::TestKafkaBootstrap().empty()) {
      GTEST_SKIP() << "FOREWARN_TEST_PG_URI / FOREWARN_TEST_KAFKA not set";
    }
  }
};

TEST_F(IntakeEdgeE2eTest, HealthAnswersServingForEveryServedServiceThenNotServingOnStop) {
  Intake intake;
  ASSERT_TRUE(intake.Start({}).ok());
  auto channel = intake.NewChannel();
  for (const std::string name : {"", "forewarn.v1.IncidentService", "forewarn.v1.CustomerDirectory",
                                 "grpc.health.v1.Health", "grpc.reflection.v1alpha.ServerReflection"}) {
    std::string response;
    auto s = RawUnary(channel, "/grpc.health.v1.Health/Check", HealthRequest(name), &response);
    ASSERT_TRUE(s.ok()) << "'" << name << "': " << s.error_code() << " " << s.error_message();
    EXPECT_EQ(HealthStatus(response), kServing) << "'" << name << "'";
  }
  std::string response;
  EXPECT_EQ(RawUnary(channel, "/grpc.health.v1.Health/Check", HealthRequest("forewarn.v1.NoSuchService"), &response)
                .error_code(),
            grpc::StatusCode::NOT_FOUND);

  // A watcher of the incident service hears NOT_SERVING once the intake stops.
  grpc::GenericStub stub(channel);
  grpc::ClientContext ctx;
  grpc::CompletionQueue cq;
  auto step = [&cq](auto&& op) {
    void* tag = nullptr;
    bool ok = false;
    op(reinterpret_cast<void*>(1));
    return cq.Next(&tag, &ok) && ok;
  };
  auto watch = stub.PrepareCall(&ctx, "/grpc.health.v1.Health/Watch", &cq);
  ASSERT_TRUE(step([&](void* t) { watch->StartCall(t); }));
  grpc::Slice slice(HealthRequest("forewarn.v1.IncidentService"));
  ASSERT_TRUE(step([&](void* t) { watch->Write(grpc::ByteBuffer(&slice, 1), t); }));
  ASSERT_TRUE(step([&](void* t) { watch->WritesDone(t); }));
  grpc::ByteBuffer update;
  ASSERT_TRUE(step([&](void* t) { watch->Read(&update, t); }));
  EXPECT_EQ(HealthStatus(ToString(update)), kServing);
  ::kill(intake.process().pid(), SIGTERM);
  ASSERT_TRUE(step([&](void* t) { watch->Read(&update, t); }));
  EXPECT_EQ(HealthStatus(ToString(update)), kNotServing);
  ctx.TryCancel();
  grpc::Status finished;
  step([&](void* t) { watch->Finish(&finished, t); });
}

TEST_F(IntakeEdgeE2eTest, BytesThatAreNotTheRequestAreInvalidArgumentWithAMessage) {
  Intake intake;
  ASSERT_TRUE(intake.Start({}).ok());
  auto channel = intake.NewChannel();
  // Field 3 (idempotency_key, a string) with a length running past the end.
  const std::string garbage = "\x1a\x7f\x01\x02";
  std::string response;
  auto s = RawUnary(channel, "/forewarn.v1.IncidentService/CreateIncident", garbage, &response);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << s.error_message();
  EXPECT_EQ(s.error_message().rfind("request: not a valid forewarn.v1.CreateIncidentRequest", 0), 0u)
      << s.error_message();
  s = RawUnary(channel, "/forewarn.v1.IncidentService/ListIncidents", "\xff\xff\xff\xff", &response);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << s.error_message();
  EXPECT_NE(s.error_message().find("forewarn.v1.ListIncidentsRequest"), std::string::npos) << s.error_message();
  // Well-formed bytes are served as before, and the refusals are counted.
  s = RawUnary(channel, "/forewarn.v1.IncidentService/ListIncidents", "", &response);
  EXPECT_TRUE(s.ok()) << s.error_message();
  EXPECT_NE(testing::HttpGet(intake.http_port(), "/metrics")
                .find("forewarn_intake_rpcs_total{code=\"INVALID_ARGUMENT\",method=\"ListIncidents\"} 1"),
            std::string::npos);
}

bool HasIpv6Loopback() {
  const int fd = ::socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in6 addr{};
  addr.sin6_family = AF_INET6;
  addr.sin6_addr = in6addr_loopback;
  const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return ok;
}

TEST_F(IntakeEdgeE2eTest, AWildcardListenAddressServesEveryAddressFamily) {
  Intake intake;
  ASSERT_TRUE(intake.Start({}, 0, "0.0.0.0:0").ok());  // what the Helm chart sets
  EXPECT_TRUE(intake.List(absl::Seconds(5), "127.0.0.1").ok());
  if (HasIpv6Loopback()) {
    auto s = intake.List(absl::Seconds(5), "[::1]");
    EXPECT_TRUE(s.ok()) << s.error_message();
  }
}

int ConnectRaw(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// True once the peer closed `fd` (EOF or reset); false while it is open.
bool ClosedByPeer(int fd) {
  pollfd p{fd, POLLIN, 0};
  if (::poll(&p, 1, 0) <= 0) return false;
  char buf[256];
  const ssize_t n = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT);
  return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
}

TEST_F(IntakeEdgeE2eTest, IdleSocketsBeyondTheOpenFileLimitAreClosedAndCallersGetThrough) {
  // The test holds 400 sockets of its own.
  rlimit own{};
  ::getrlimit(RLIMIT_NOFILE, &own);
  own.rlim_cur = own.rlim_max;
  ::setrlimit(RLIMIT_NOFILE, &own);
  ASSERT_GE(own.rlim_cur, 600u);

  constexpr uint64_t kOpenFiles = 256;
  constexpr int kIdleSockets = 400;  // well past the intake's limit
  const absl::Duration handshake = absl::Seconds(2);
  Intake intake;
  ASSERT_TRUE(intake.Start({"--handshake-timeout", "2s", "--max-connection-idle", "3s", "--fd-headroom", "32"},
                           kOpenFiles)
                  .ok());
  ASSERT_TRUE(intake.List(absl::Seconds(5)).ok());
  EXPECT_NE(intake.Log().find("event=open_file_limit soft=256 hard=256"), std::string::npos);

  std::vector<int> idle;
  for (int i = 0; i < kIdleSockets; ++i) {
    const int fd = ConnectRaw(intake.port());
    ASSERT_GE(fd, 0) << "connect " << i;
    idle.push_back(fd);
  }
  const absl::Time flooded = absl::Now();

  // A real client gets through within the handshake timeout (plus margin),
  // while the idle sockets are still open.
  grpc::Status last;
  int attempts = 0;
  while (absl::Now() - flooded < handshake + absl::Seconds(8)) {
    ++attempts;
    last = intake.List(absl::Seconds(1));
    if (last.ok()) break;
    absl::SleepFor(absl::Milliseconds(100));
  }
  const absl::Duration waited = absl::Now() - flooded;
  ASSERT_TRUE(last.ok()) << "no call got through in " << waited << ": " << last.error_code() << " "
                         << last.error_message();
  std::cout << "first call through " << waited << " after the flood, attempt " << attempts << "\n";

  // The server closes every idle socket: those past the headroom at once,
  // the others when the handshake timeout ends.
  int closed = 0;
  std::vector<bool> done(idle.size(), false);
  while (closed < kIdleSockets && absl::Now() - flooded < handshake + absl::Seconds(10)) {
    for (size_t i = 0; i < idle.size(); ++i) {
      if (!done[i] && ClosedByPeer(idle[i])) {
        done[i] = true;
        ++closed;
      }
    }
    absl::SleepFor(absl::Milliseconds(50));
  }
  const absl::Duration all_closed = absl::Now() - flooded;
  for (int fd : idle) ::close(fd);
  EXPECT_EQ(closed, kIdleSockets) << "open after " << all_closed;
  std::cout << closed << " idle sockets closed by the intake within " << all_closed << "\n";

  // The listener survived: calls go through at once, nothing hit EMFILE in
  // gRPC, and the refusals were counted.
  const absl::Time before = absl::Now();
  EXPECT_TRUE(intake.List(absl::Seconds(2)).ok());
  EXPECT_LT(absl::Now() - before, absl::Seconds(1));
  EXPECT_TRUE(intake.process().Running());
  const std::string log = intake.Log();
  EXPECT_EQ(log.find("Failed accept4"), std::string::npos);
  EXPECT_NE(log.find("event=connection_refused"), std::string::npos);
  const std::string metrics = testing::HttpGet(intake.http_port(), "/metrics");
  const std::string name = "\nforewarn_intake_connections_refused_total ";
  const size_t at = metrics.find(name);
  ASSERT_NE(at, std::string::npos) << metrics;
  const size_t from = at + name.size();
  int64_t refused = 0;
  ASSERT_TRUE(absl::SimpleAtoi(absl::StripAsciiWhitespace(metrics.substr(from, metrics.find('\n', from) - from)),
                               &refused));
  EXPECT_GT(refused, 0);
  std::cout << refused << " connections refused at the headroom\n";
}

TEST_F(IntakeEdgeE2eTest, AnHttp2ConnectionWithoutCallsIsClosedAfterTheIdleLimitNotBefore) {
  Intake intake;
  ASSERT_TRUE(intake.Start({"--handshake-timeout", "1s", "--max-connection-idle", "4s"}).ok());
  const int fd = ConnectRaw(intake.port());
  ASSERT_GE(fd, 0);
  // The HTTP/2 client preface and an empty SETTINGS frame; then the ACK of
  // the server's SETTINGS, and nothing more.
  const std::string preface = std::string("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n") + std::string("\0\0\0\x04\0\0\0\0\0", 9);
  ASSERT_EQ(::send(fd, preface.data(), preface.size(), MSG_NOSIGNAL), static_cast<ssize_t>(preface.size()));
  const absl::Time opened = absl::Now();
  pollfd p{fd, POLLIN, 0};
  ASSERT_EQ(::poll(&p, 1, 5000), 1);
  char buf[1024];
  ASSERT_GT(::recv(fd, buf, sizeof buf, 0), 0);  // the server's SETTINGS
  const std::string ack("\0\0\0\x04\x01\0\0\0\0", 9);
  ASSERT_EQ(::send(fd, ack.data(), ack.size(), MSG_NOSIGNAL), static_cast<ssize_t>(ack.size()));

  // Past the handshake timeout it is still open (it spoke HTTP/2) ...
  absl::SleepFor(absl::Seconds(2.5));
  bool closed = false;
  while (!closed) {  // drain the server's frames (SETTINGS ACK), watching for EOF
    if (::poll(&p, 1, 0) <= 0) break;
    const ssize_t n = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT);
    closed = n == 0 || (n < 0 && errno != EAGAIN);
  }
  EXPECT_FALSE(closed) << "closed before the idle limit";
  // ... and the server ends it (GOAWAY, then close) once idle for 4 s.
  std::string tail;
  while (!closed && absl::Now() - opened < absl::Seconds(12)) {
    if (::poll(&p, 1, 200) <= 0) continue;
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n > 0) tail.append(buf, static_cast<size_t>(n));
    closed = n <= 0;
  }
  const absl::Duration lived = absl::Now() - opened;
  ::close(fd);
  EXPECT_TRUE(closed) << "still open after " << lived;
  EXPECT_GE(lived, absl::Seconds(3.5));
  EXPECT_NE(tail.find(std::string("\x07\0\0\0\0\0", 6)), std::string::npos) << "no GOAWAY frame";  // type 7
  std::cout << "HTTP/2 connection without calls closed after " << lived << "\n";
}

}  // namespace
}  // namespace forewarn
