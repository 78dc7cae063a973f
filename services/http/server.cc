#include "services/http/server.h"

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace forewarn {

namespace {

using Clock = std::chrono::steady_clock;

constexpr auto kReadTimeout = std::chrono::seconds(5);    // request line + headers
constexpr auto kWriteTimeout = std::chrono::seconds(10);  // whole response
constexpr size_t kMaxRequestBytes = 8 * 1024;
constexpr size_t kMaxConnections = 64;
constexpr auto kAcceptBackoff = std::chrono::milliseconds(100);

constexpr char kMetricsContentType[] = "text/plain; version=0.0.4; charset=utf-8";
constexpr char kTextContentType[] = "text/plain; charset=utf-8";

// Owns a file descriptor.
class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() { Reset(); }
  Fd(Fd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  Fd& operator=(Fd&& o) noexcept {
    if (this != &o) {
      Reset();
      fd_ = std::exchange(o.fd_, -1);
    }
    return *this;
  }
  int get() const { return fd_; }
  void Reset() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_ = -1;
};

std::string ErrnoText(int err) { return std::strerror(err); }

struct Connection {
  Fd fd;
  std::string in;
  std::string out;
  size_t sent = 0;
  bool writing = false;
  Clock::time_point deadline;
};

std::string Response(int code, const char* reason, const char* content_type, const std::string& body, bool head,
                     const char* extra_headers = "") {
  std::string out = absl::StrCat("HTTP/1.1 ", code, " ", reason, "\r\nContent-Type: ", content_type,
                                 "\r\nContent-Length: ", body.size(),
                                 "\r\nCache-Control: no-store\r\nConnection: close\r\n", extra_headers, "\r\n");
  if (!head) out += body;
  return out;
}

// Splits "host:port", "[v6]:port" or ":port". Returns false when malformed.
bool SplitHostPort(const std::string& listen, std::string* host, std::string* port) {
  std::string rest;
  if (!listen.empty() && listen[0] == '[') {
    size_t close = listen.find(']');
    if (close == std::string::npos || close + 1 >= listen.size() || listen[close + 1] != ':') return false;
    *host = listen.substr(1, close - 1);
    rest = listen.substr(close + 2);
  } else {
    size_t colon = listen.rfind(':');
    if (colon == std::string::npos) return false;
    *host = listen.substr(0, colon);
    if (host->find(':') != std::string::npos) return false;  // bare IPv6 needs brackets
    rest = listen.substr(colon + 1);
  }
  if (rest.empty() || rest.size() > 5 || !std::all_of(rest.begin(), rest.end(), [](char c) {
        return c >= '0' && c <= '9';
      })) {
    return false;
  }
  if (std::stoi(rest) > 65535) return false;
  *port = rest;
  return true;
}

// Fills `fds` (wake pipe, listener, then one per connection in order) and
// returns the poll timeout: until the earliest deadline, or the end of an
// accept pause, at most a minute; -1 when nothing is due.
int PreparePoll(const std::vector<Connection>& conns, bool accepting, Clock::time_point accept_paused_until,
                Clock::time_point now, int wake_fd, int listen_fd, std::vector<pollfd>& fds) {
  fds.clear();
  fds.push_back({wake_fd, POLLIN, 0});
  fds.push_back({accepting ? listen_fd : -1, POLLIN, 0});  // fd -1: ignored by poll
  Clock::time_point next = Clock::time_point::max();
  if (!accepting && conns.size() < kMaxConnections) next = accept_paused_until;
  for (const Connection& c : conns) {
    fds.push_back({c.fd.get(), static_cast<short>(c.writing ? POLLOUT : POLLIN), 0});
    next = std::min(next, c.deadline);
  }
  if (next == Clock::time_point::max()) return -1;
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(next - now).count() + 1;
  return static_cast<int>(std::clamp<long long>(ms, 0, 60'000));
}

// Sends what is left of the response; true when the connection is done
// (all sent, or a send error).
bool WriteResponse(Connection& c) {
  ssize_t put = ::send(c.fd.get(), c.out.data() + c.sent, c.out.size() - c.sent, MSG_NOSIGNAL);
  if (put > 0) {
    c.sent += static_cast<size_t>(put);
    if (c.sent < c.out.size()) return false;
    ::shutdown(c.fd.get(), SHUT_WR);
    // Drain what the client may still have sent so close() does not reset the connection
    // before it read the response.
    char sink[512];
    while (::recv(c.fd.get(), sink, sizeof(sink), MSG_DONTWAIT) > 0) {
    }
    return true;
  }
  return put < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR;
}

}  // namespace

namespace {

// A listening socket on the first of `addresses` that binds; its port in `port`.
absl::StatusOr<Fd> ListenOnFirst(addrinfo* addresses, const std::string& listen, int* port) {
  std::string last_error = "no address";
  for (addrinfo* ai = addresses; ai != nullptr; ai = ai->ai_next) {
    Fd fd(::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, ai->ai_protocol));
    if (fd.get() < 0) {
      last_error = ErrnoText(errno);
      continue;
    }
    int one = 1;
    ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    sockaddr_storage bound{};
    socklen_t len = sizeof(bound);
    if (::bind(fd.get(), ai->ai_addr, ai->ai_addrlen) != 0 || ::listen(fd.get(), 128) != 0 ||
        ::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&bound), &len) != 0) {
      last_error = ErrnoText(errno);
      continue;
    }
    *port = bound.ss_family == AF_INET6 ? ntohs(reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port)
                                        : ntohs(reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
    return fd;
  }
  return absl::UnavailableError(absl::StrCat("http listen on ", listen, ": ", last_error));
}

}  // namespace

struct ObservabilityServer::Impl {
  MetricsRegistry* registry = nullptr;
  std::function<bool()> ready;
  Fd listen_fd;
  Fd wake_read;
  Fd wake_write;
  int port = 0;
  std::thread thread;
  std::mutex stop_mu;
  bool stopped = false;

  void Run();
  std::string Handle(const std::string& request_head);
  bool Serve(Connection& c, short revents, Clock::time_point now);
  bool ReadRequest(Connection& c, Clock::time_point now);
  void AcceptAll(std::vector<Connection>& conns, Clock::time_point now, Clock::time_point& accept_paused_until);
};

std::string ObservabilityServer::Impl::Handle(const std::string& head) {
  size_t eol = head.find('\n');
  std::string line = head.substr(0, eol);
  if (!line.empty() && line.back() == '\r') line.pop_back();

  size_t sp1 = line.find(' ');
  size_t sp2 = sp1 == std::string::npos ? std::string::npos : line.find(' ', sp1 + 1);
  if (sp2 == std::string::npos || line.compare(sp2 + 1, 7, "HTTP/1.") != 0) {
    return Response(400, "Bad Request", kTextContentType, "bad request\n", false);
  }
  std::string method = line.substr(0, sp1);
  std::string target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  // Absolute form (http://host/path) is allowed by HTTP/1.1; keep the path.
  if (target.rfind("http://", 0) == 0 || target.rfind("https://", 0) == 0) {
    size_t slash = target.find('/', target.find("//") + 2);
    target = slash == std::string::npos ? "/" : target.substr(slash);
  }
  std::string path = target.substr(0, target.find_first_of("?#"));

  bool head_only = method == "HEAD";
  if (method != "GET" && !head_only) {
    return Response(405, "Method Not Allowed", kTextContentType, "method not allowed\n", false,
                    "Allow: GET, HEAD\r\n");
  }
  try {
    if (path == "/metrics") {
      return Response(200, "OK", kMetricsContentType, registry->Render(), head_only);
    }
    if (path == "/healthz") {
      return Response(200, "OK", kTextContentType, "ok\n", head_only);
    }
    if (path == "/readyz") {
      bool is_ready = true;
      if (ready) {
        try {
          is_ready = ready();
        } catch (...) {
          is_ready = false;
        }
      }
      return is_ready ? Response(200, "OK", kTextContentType, "ready\n", head_only)
                      : Response(503, "Service Unavailable", kTextContentType, "not ready\n", head_only);
    }
  } catch (...) {
    return Response(500, "Internal Server Error", kTextContentType, "internal error\n", head_only);
  }
  return Response(404, "Not Found", kTextContentType, "not found\n", head_only);
}

// Reads request bytes; once the headers are complete (or too large) the
// response is queued. True when the connection is to be closed (peer closed
// before sending a full request, or an error).
bool ObservabilityServer::Impl::ReadRequest(Connection& c, Clock::time_point now) {
  char buf[2048];
  ssize_t got = ::recv(c.fd.get(), buf, sizeof(buf), 0);
  if (got <= 0) return got == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR);
  c.in.append(buf, static_cast<size_t>(got));
  size_t end = c.in.find("\r\n\r\n");
  if (end == std::string::npos) end = c.in.find("\n\n");
  if (end != std::string::npos) {
    c.out = Handle(c.in.substr(0, end));
  } else if (c.in.size() > kMaxRequestBytes) {
    c.out = Response(431, "Request Header Fields Too Large", kTextContentType, "request too large\n", false);
  }
  if (!c.out.empty()) {
    c.writing = true;
    c.deadline = now + kWriteTimeout;
  }
  return false;
}

// One poll result on a connection; true when it is to be closed (error,
// done, or past its read or write deadline).
bool ObservabilityServer::Impl::Serve(Connection& c, short revents, Clock::time_point now) {
  bool close_it = false;
  if (revents & (POLLERR | POLLNVAL)) {
    close_it = true;
  } else if (!c.writing && (revents & (POLLIN | POLLHUP))) {
    close_it = ReadRequest(c, now);
  } else if (c.writing && (revents & (POLLOUT | POLLHUP))) {
    close_it = WriteResponse(c);
  }
  return close_it || now >= c.deadline;
}

// Accepts pending connections up to the limit; an error other than "none
// pending" (e.g. EMFILE) pauses accepting for kAcceptBackoff.
void ObservabilityServer::Impl::AcceptAll(std::vector<Connection>& conns, Clock::time_point now,
                                          Clock::time_point& accept_paused_until) {
  while (conns.size() < kMaxConnections) {
    int fd = ::accept4(listen_fd.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) accept_paused_until = now + kAcceptBackoff;
      return;
    }
    Connection c;
    c.fd = Fd(fd);
    c.deadline = now + kReadTimeout;
    conns.push_back(std::move(c));
  }
}

void ObservabilityServer::Impl::Run() {
  std::vector<Connection> conns;
  std::vector<pollfd> fds;
  Clock::time_point accept_paused_until{};

  for (;;) {
    Clock::time_point now = Clock::now();
    bool accepting = conns.size() < kMaxConnections && now >= accept_paused_until;
    int timeout_ms =
        PreparePoll(conns, accepting, accept_paused_until, now, wake_read.get(), listen_fd.get(), fds);
    int n = ::poll(fds.data(), fds.size(), timeout_ms);
    if (n < 0) {
      if (errno == EINTR) continue;
      std::this_thread::sleep_for(kAcceptBackoff);  // should not happen; avoid spinning
      continue;
    }
    if (fds[0].revents != 0) break;  // Stop()
    now = Clock::now();

    // Serve existing connections (indices 2.. match conns).
    for (size_t i = 0; i < conns.size(); ++i) {
      if (Serve(conns[i], fds[i + 2].revents, now)) conns[i].fd.Reset();
    }
    conns.erase(std::remove_if(conns.begin(), conns.end(), [](const Connection& c) { return c.fd.get() < 0; }),
                conns.end());

    if (accepting && (fds[1].revents & POLLIN)) AcceptAll(conns, now, accept_paused_until);
  }
  conns.clear();  // closes every client socket
}

ObservabilityServer::ObservabilityServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

ObservabilityServer::~ObservabilityServer() { Stop(); }

int ObservabilityServer::port() const { return impl_->port; }

absl::StatusOr<std::unique_ptr<ObservabilityServer>> ObservabilityServer::Start(const std::string& listen,
                                                                                MetricsRegistry& registry,
                                                                                std::function<bool()> ready) {
  std::string host, port;
  if (!SplitHostPort(listen, &host, &port)) {
    return absl::InvalidArgumentError(absl::StrCat("http listen address must be host:port, got '", listen, "'"));
  }

  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* result = nullptr;
  int rc = ::getaddrinfo(host.empty() ? nullptr : host.c_str(), port.c_str(), &hints, &result);
  if (rc != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("http listen address '", listen, "': ", std::string(::gai_strerror(rc))));
  }

  auto impl = std::make_unique<Impl>();
  auto bound = ListenOnFirst(result, listen, &impl->port);
  ::freeaddrinfo(result);
  if (!bound.ok()) return bound.status();
  impl->listen_fd = *std::move(bound);

  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC | O_NONBLOCK) != 0) {
    return absl::UnavailableError(absl::StrCat("http wake pipe: ", ErrnoText(errno)));
  }
  impl->wake_read = Fd(pipe_fds[0]);
  impl->wake_write = Fd(pipe_fds[1]);
  impl->registry = &registry;
  impl->ready = std::move(ready);
  Impl* raw = impl.get();
  impl->thread = std::thread([raw] { raw->Run(); });
  return std::unique_ptr<ObservabilityServer>(new ObservabilityServer(std::move(impl)));
}

void ObservabilityServer::Stop() {
  if (!impl_) return;
  std::lock_guard<std::mutex> lock(impl_->stop_mu);
  if (impl_->stopped) return;
  impl_->stopped = true;
  char byte = 1;
  while (::write(impl_->wake_write.get(), &byte, 1) < 0 && errno == EINTR) {
  }
  if (impl_->thread.joinable()) impl_->thread.join();
  impl_->listen_fd.Reset();
  impl_->wake_read.Reset();
  impl_->wake_write.Reset();
}

}  // namespace forewarn
