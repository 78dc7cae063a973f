#include "services/api/guarded_listener.h"

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>
#include <vector>

#include "absl/strings/str_cat.h"
#include "spdlog/spdlog.h"

namespace forewarn {
namespace {

int Millis(absl::Duration d) {
  return static_cast<int>(std::min<int64_t>(absl::ToInt64Milliseconds(d), INT_MAX));
}

// A listening socket on the first address of `host`:`port` that binds
// (errno in *error otherwise).
int ListenOnHost(const std::string& host, const std::string& port, int* error) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  if (const int rc = ::getaddrinfo(host.c_str(), port.c_str(), &hints, &found); rc != 0) {
    *error = EADDRNOTAVAIL;
    return -1;
  }
  int fd = -1;
  for (const addrinfo* ai = found; ai != nullptr && fd < 0; ai = ai->ai_next) {
    fd = ::socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
      *error = errno;
      continue;
    }
    const int on = 1, off = 0;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
    if (ai->ai_family == AF_INET6) ::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof off);
    if (::bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || ::listen(fd, SOMAXCONN) != 0) {
      *error = errno;
      ::close(fd);
      fd = -1;
    }
  }
  ::freeaddrinfo(found);
  return fd;
}

// Listens on "HOST:PORT". As with gRPC's own listener, a wildcard host
// ("0.0.0.0", "::", "[::]" or none) means every address family: a dual-stack
// IPv6 socket where the system has IPv6, IPv4 otherwise.
absl::StatusOr<int> ListenOn(const std::string& address, int* bound_port) {
  const size_t colon = address.rfind(':');
  if (colon == std::string::npos) {
    return absl::InvalidArgumentError(absl::StrCat("--listen: '", address, "' is not HOST:PORT"));
  }
  std::string host = address.substr(0, colon);
  const std::string port = address.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  std::vector<std::string> hosts = {host};
  if (host.empty() || host == "0.0.0.0" || host == "::") hosts = {"::", "0.0.0.0"};
  int error = 0;
  int fd = -1;
  for (size_t i = 0; i < hosts.size() && fd < 0; ++i) fd = ListenOnHost(hosts[i], port, &error);
  if (fd < 0) return absl::UnavailableError(absl::StrCat("cannot listen on ", address, ": ", std::strerror(error)));
  sockaddr_storage addr{};
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  *bound_port = ntohs(addr.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&addr)->sin6_port
                                                 : reinterpret_cast<sockaddr_in*>(&addr)->sin_port);
  return fd;
}

}  // namespace

absl::Status CheckConnectionLimits(const ConnectionLimits& l) {
  const std::pair<const char*, absl::Duration> positive[] = {
      {"--max-connection-idle", l.max_idle},   {"--max-connection-age", l.max_age},
      {"--handshake-timeout", l.handshake_timeout}, {"--keepalive-time", l.keepalive_time},
      {"--keepalive-timeout", l.keepalive_timeout}};
  for (const auto& [flag, d] : positive) {
    if (d < absl::Milliseconds(1)) return absl::InvalidArgumentError(absl::StrCat(flag, ": must be at least 1ms"));
  }
  if (l.fd_headroom < 16) return absl::InvalidArgumentError("--fd-headroom: must be at least 16");
  return absl::OkStatus();
}

void ApplyConnectionLimits(const ConnectionLimits& l, grpc::ServerBuilder& builder) {
  builder.AddChannelArgument(GRPC_ARG_MAX_CONNECTION_IDLE_MS, Millis(l.max_idle));
  builder.AddChannelArgument(GRPC_ARG_MAX_CONNECTION_AGE_MS, Millis(l.max_age));
  builder.AddChannelArgument(GRPC_ARG_MAX_CONNECTION_AGE_GRACE_MS, Millis(l.max_age_grace));
  builder.AddChannelArgument(GRPC_ARG_SERVER_HANDSHAKE_TIMEOUT_MS, Millis(l.handshake_timeout));
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIME_MS, Millis(l.keepalive_time));
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, Millis(l.keepalive_timeout));
}

absl::StatusOr<std::unique_ptr<GuardedListener>> GuardedListener::Bind(const std::string& address, int fd_headroom,
                                                                     uint64_t open_file_limit) {
  const uint64_t limit = std::min<uint64_t>(open_file_limit, INT_MAX);
  if (fd_headroom < 0 || limit < static_cast<uint64_t>(fd_headroom) + 16) {
    return absl::InvalidArgumentError(absl::StrCat("--fd-headroom: ", fd_headroom, " leaves fewer than 16 of the ",
                                                   open_file_limit, " open files for callers"));
  }
  int port = 0;
  auto fd = ListenOn(address, &port);
  if (!fd.ok()) return fd.status();
  std::unique_ptr<GuardedListener> listener(
      new GuardedListener(*fd, port, static_cast<int>(limit) - fd_headroom));
  listener->spare_ = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  return listener;
}

GuardedListener::~GuardedListener() { Stop(); }

void GuardedListener::Start(std::unique_ptr<grpc::experimental::ExternalConnectionAcceptor> acceptor) {
  acceptor_ = std::move(acceptor);
  thread_ = std::thread([this] { Run(); });
}

void GuardedListener::Stop() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
  if (fd_ >= 0) ::close(fd_);
  if (spare_ >= 0) ::close(spare_);
  fd_ = spare_ = -1;
}

void GuardedListener::Run() {
  pollfd p{fd_, POLLIN, 0};
  while (!stop_.load()) {
    if (::poll(&p, 1, 100) > 0) AcceptPending();
  }
}

// Accepts until the backlog is empty.
void GuardedListener::AcceptPending() {
  while (!stop_.load()) {
    const int fd = ::accept4(fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd >= fd_limit_) {
      Refuse(fd);
    } else if (fd >= 0) {
      const int on = 1;
      ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
      ++accepted_;
      grpc::experimental::ExternalConnectionAcceptor::NewConnectionParameters params;
      params.listener_fd = fd_;
      params.fd = fd;  // gRPC owns it from here
      acceptor_->HandleNewConnection(&params);
    } else if (errno == EINTR || errno == ECONNABORTED) {
      continue;
    } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
      return;
    } else if ((errno == EMFILE || errno == ENFILE) && spare_ >= 0) {
      // Out of descriptors despite the headroom: tell one waiting caller at
      // once (accept it on the spare descriptor and close it).
      ::close(spare_);
      const int dropped = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (dropped >= 0) Refuse(dropped);
      spare_ = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    } else {
      spdlog::warn("event=accept_failed error=\"{}\" retry_in_ms=50", std::strerror(errno));
      absl::SleepFor(absl::Milliseconds(50));
      return;
    }
  }
}

void GuardedListener::Refuse(int fd) {
  ::close(fd);
  const uint64_t n = ++refused_;
  if (on_refused_) on_refused_();
  // At most one line per 10 s (only this thread refuses): a flood cannot fill the log.
  if (const absl::Time now = absl::Now(); now >= next_log_) {
    next_log_ = now + absl::Seconds(10);
    spdlog::warn("event=connection_refused reason=\"open files near the limit\" fd={} fd_limit={} refused_total={}",
                 fd, fd_limit_, n);
  }
}

}  // namespace forewarn
