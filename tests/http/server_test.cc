#include "services/http/server.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>

namespace forewarn {
namespace {

// A plain blocking socket client with a 5 s receive timeout.
int Connect(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  timeval tv{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// Connects, then sends `bytes` as they are; the socket, or -1.
int ConnectAndSend(int port, const std::string& bytes) {
  const int fd = Connect(port);
  if (fd >= 0) ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
  return fd;
}

std::string ReadAll(int fd) {
  std::string out;
  char buf[4096];
  for (;;) {
    ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

struct Reply {
  int status = 0;
  std::string head;
  std::string body;
};

Reply Request(int port, const std::string& method, const std::string& target) {
  Reply r;
  int fd = ConnectAndSend(port, method + " " + target + " HTTP/1.1\r\nHost: localhost\r\nUser-Agent: test\r\n\r\n");
  if (fd < 0) return r;
  std::string raw = ReadAll(fd);
  ::close(fd);
  size_t end = raw.find("\r\n\r\n");
  if (raw.rfind("HTTP/1.1 ", 0) != 0 || end == std::string::npos) return r;
  r.status = std::stoi(raw.substr(9, 3));
  r.head = raw.substr(0, end + 2);
  r.body = raw.substr(end + 4);
  return r;
}

Reply Get(int port, const std::string& path) { return Request(port, "GET", path); }

std::unique_ptr<ObservabilityServer> StartOrDie(MetricsRegistry& reg, std::function<bool()> ready) {
  auto server = ObservabilityServer::Start("127.0.0.1:0", reg, std::move(ready));
  EXPECT_TRUE(server.ok()) << server.status();
  if (!server.ok()) return nullptr;
  EXPECT_GT((*server)->port(), 0);
  return std::move(*server);
}

TEST(ObservabilityServer, ServesMetricsInPrometheusTextFormat) {
  MetricsRegistry reg;
  reg.counter("forewarn_notices_total", "Notices.", {{"channel", "sms"}}).Increment(2);
  auto server = StartOrDie(reg, nullptr);
  ASSERT_NE(server, nullptr);

  Reply r = Get(server->port(), "/metrics");
  EXPECT_EQ(r.status, 200);
  EXPECT_NE(r.head.find("Content-Type: text/plain; version=0.0.4"), std::string::npos) << r.head;
  EXPECT_NE(r.head.find("Content-Length: " + std::to_string(reg.Render().size()) + "\r\n"), std::string::npos)
      << r.head;
  EXPECT_EQ(r.body, reg.Render());

  // Values are live: a later update shows in the next scrape; a query string is ignored.
  reg.counter("forewarn_notices_total", "Notices.", {{"channel", "sms"}}).Increment();
  EXPECT_NE(Get(server->port(), "/metrics?x=1").body.find("forewarn_notices_total{channel=\"sms\"} 3\n"),
            std::string::npos);
}

TEST(ObservabilityServer, HealthzIsOkWhileRunning) {
  MetricsRegistry reg;
  auto server = StartOrDie(reg, [] { return false; });
  ASSERT_NE(server, nullptr);
  Reply r = Get(server->port(), "/healthz");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "ok\n");
}

TEST(ObservabilityServer, ReadyzFlipsFrom503To200) {
  MetricsRegistry reg;
  std::atomic<bool> ready{false};
  auto server = StartOrDie(reg, [&ready] { return ready.load(); });
  ASSERT_NE(server, nullptr);
  EXPECT_EQ(Get(server->port(), "/readyz").status, 503);
  ready = true;
  EXPECT_EQ(Get(server->port(), "/readyz").status, 200);
  ready = false;
  EXPECT_EQ(Get(server->port(), "/readyz").status, 503);
}

TEST(ObservabilityServer, UnknownPathIs404AndOtherMethods405) {
  MetricsRegistry reg;
  auto server = StartOrDie(reg, nullptr);
  ASSERT_NE(server, nullptr);
  EXPECT_EQ(Get(server->port(), "/nope").status, 404);
  EXPECT_EQ(Get(server->port(), "/metrics/extra").status, 404);
  Reply post = Request(server->port(), "POST", "/metrics");
  EXPECT_EQ(post.status, 405);
  EXPECT_NE(post.head.find("Allow: GET, HEAD"), std::string::npos);
  Reply head = Request(server->port(), "HEAD", "/healthz");
  EXPECT_EQ(head.status, 200);
  EXPECT_EQ(head.body, "");
}

TEST(ObservabilityServer, MalformedRequestIs400) {
  MetricsRegistry reg;
  auto server = StartOrDie(reg, nullptr);
  ASSERT_NE(server, nullptr);
  int fd = ConnectAndSend(server->port(), "hello\r\n\r\n");
  ASSERT_GE(fd, 0);
  std::string raw = ReadAll(fd);
  ::close(fd);
  EXPECT_EQ(raw.rfind("HTTP/1.1 400 ", 0), 0u) << raw;
}

TEST(ObservabilityServer, IdleClientDoesNotDelayOtherRequests) {
  MetricsRegistry reg;
  auto server = StartOrDie(reg, nullptr);
  ASSERT_NE(server, nullptr);
  int idle = ConnectAndSend(server->port(), "GET /metrics HTTP/1.1\r\n");  // headers never finished
  ASSERT_GE(idle, 0);

  auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(Get(server->port(), "/healthz").status, 200);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(2));
  ::close(idle);
}

TEST(ObservabilityServer, StopReturnsPromptlyWhileClientHoldsIdleConnection) {
  MetricsRegistry reg;
  auto server = StartOrDie(reg, nullptr);
  ASSERT_NE(server, nullptr);
  int idle = Connect(server->port());
  ASSERT_GE(idle, 0);
  // Let the server accept it (a served request proves the loop has run past the accept).
  EXPECT_EQ(Get(server->port(), "/healthz").status, 200);

  auto t0 = std::chrono::steady_clock::now();
  server->Stop();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(1));
  // The idle connection was closed by the server: the client sees end of stream, not a timeout.
  char c;
  EXPECT_LE(::recv(idle, &c, 1, 0), 0);
  ::close(idle);

  server->Stop();  // idempotent
  EXPECT_LT(Connect(server->port()), 0) << "still listening after Stop()";
}

TEST(ObservabilityServer, RejectsMalformedListenAddress) {
  MetricsRegistry reg;
  for (const char* bad : {"", "127.0.0.1", "127.0.0.1:", "127.0.0.1:99999", "::1:80", "[::1]80", "host:port"}) {
    auto server = ObservabilityServer::Start(bad, reg, nullptr);
    EXPECT_EQ(server.status().code(), absl::StatusCode::kInvalidArgument) << bad;
  }
}

TEST(ObservabilityServer, PortInUseIsUnavailable) {
  MetricsRegistry reg;
  auto first = StartOrDie(reg, nullptr);
  ASSERT_NE(first, nullptr);
  auto second = ObservabilityServer::Start("127.0.0.1:" + std::to_string(first->port()), reg, nullptr);
  EXPECT_EQ(second.status().code(), absl::StatusCode::kUnavailable) << second.status();
}

}  // namespace
}  // namespace forewarn
