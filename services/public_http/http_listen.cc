#include "services/public_http/http_listen.h"

#include <sys/socket.h>

#include <algorithm>
#include <chrono>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "spdlog/spdlog.h"

namespace forewarn {
namespace {

constexpr int kListenBacklog = 1024;

struct ListenAddress {
  std::string host;
  int port = 0;
};

// "host:port", "[v6]:port" or ":port" (all interfaces).
absl::StatusOr<ListenAddress> ParseListen(const std::string& listen, absl::string_view flag) {
  const size_t colon = listen.rfind(':');
  ListenAddress out;
  if (colon == std::string::npos || !absl::SimpleAtoi(listen.substr(colon + 1), &out.port) || out.port < 0 ||
      out.port > 65535) {
    return absl::InvalidArgumentError(absl::StrCat(flag, ": '", listen, "' is not HOST:PORT"));
  }
  out.host = listen.substr(0, colon);
  if (out.host.size() >= 2 && out.host.front() == '[' && out.host.back() == ']') {
    out.host = out.host.substr(1, out.host.size() - 2);
  }
  if (out.host.empty()) out.host = "0.0.0.0";
  return out;
}

}  // namespace

void ConfigurePublicServer(httplib::Server& server, const PublicServerLimits& limits,
                           const std::string& content_security_policy) {
  const size_t threads = static_cast<size_t>(std::max(1, limits.threads));
  server.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  server.set_payload_max_length(limits.max_body_bytes);
  server.set_read_timeout(std::chrono::microseconds(absl::ToInt64Microseconds(limits.read_timeout)));
  server.set_write_timeout(std::chrono::microseconds(absl::ToInt64Microseconds(limits.write_timeout)));
  server.set_keep_alive_max_count(1);
  server.set_default_headers({{"Cache-Control", "no-store"},
                              {"Referrer-Policy", "no-referrer"},
                              {"X-Content-Type-Options", "nosniff"},
                              {"X-Frame-Options", "DENY"},
                              {"Content-Security-Policy", content_security_policy}});
}

absl::StatusOr<int> BindAndServe(httplib::Server& server, const std::string& listen, absl::string_view flag,
                                 std::thread& thread, std::atomic<bool>& returned) {
  absl::StatusOr<ListenAddress> address = ParseListen(listen, flag);
  if (!address.ok()) return address.status();
  // Debian's cpp-httplib is compiled with a listen backlog of 5: a burst of
  // connections (smsbox calls dlr-urls for a whole fan-out at once; a
  // crowd opening the status page) overflowed it and some connections hung
  // unanswered. The listening socket's backlog is raised once bound.
  int listen_fd = -1;
  server.set_socket_options([&listen_fd](socket_t sock) {
    httplib::default_socket_options(sock);
    listen_fd = sock;
  });
  const int port = address->port == 0 ? server.bind_to_any_port(address->host)
                                      : (server.bind_to_port(address->host, address->port) ? address->port : -1);
  if (port <= 0 || listen_fd < 0 || ::listen(listen_fd, kListenBacklog) != 0) {
    return absl::UnavailableError(absl::StrCat(flag, ": cannot bind ", listen));
  }
  thread = std::thread([&server, &returned, flag = std::string(flag)] {
    if (!server.listen_after_bind()) spdlog::error("event=http_stopped_serving flag={}", flag);
    returned = true;
  });
  // stop() only takes effect once the server runs: wait for it.
  while (!server.is_running() && !returned) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  return port;
}

void StopServing(httplib::Server& server, std::thread& thread, std::once_flag& stopped) {
  std::call_once(stopped, [&] {
    server.stop();
    if (thread.joinable()) thread.join();
  });
}

}  // namespace forewarn
