#pragma once

// Helpers shared by the channel tests: Python peers started as child
// processes, free ports, files.

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "tests/support/process.h"

#ifndef FOREWARN_TESTS_DIR
#error "FOREWARN_TESTS_DIR must point at tests/channels"
#endif
#ifndef FOREWARN_PYTHON
#define FOREWARN_PYTHON "/usr/bin/python3"
#endif

namespace forewarn::channel_testing {

inline std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline std::vector<std::string> ReadLines(const std::string& path) {
  std::vector<std::string> lines;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) lines.push_back(line);
  }
  return lines;
}

// A loopback TCP socket bound to port 0. listen() makes connections succeed
// (the kernel completes the handshake) though nobody ever answers.
class LoopbackSocket {
 public:
  explicit LoopbackSocket(bool listen_now) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) return;
    socklen_t len = sizeof addr;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    if (listen_now) ::listen(fd_, 16);
  }
  ~LoopbackSocket() { Close(); }
  void Close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }
  int port() const { return port_; }

 private:
  int fd_ = -1;
  int port_ = 0;
};

// A port nothing listens on (bound, then closed: connections are refused).
inline int RefusedPort() {
  LoopbackSocket s(/*listen_now=*/false);
  return s.port();
}

// Starts `script` (in tests/channels) with /usr/bin/python3 and waits for it
// to write its port to `<dir>/port`.
class PythonPeer {
 public:
  PythonPeer(const std::string& script, std::vector<std::string> args, const std::string& dir)
      : port_file_(dir + "/port") {
    std::vector<std::string> argv = {FOREWARN_PYTHON, absl::StrCat(FOREWARN_TESTS_DIR, "/", script), "--port-file",
                                     port_file_};
    argv.insert(argv.end(), args.begin(), args.end());
    process_ = std::make_unique<forewarn::testing::ChildProcess>(argv, dir + "/peer.log");
  }

  absl::Status Start() {
    if (absl::Status s = process_->Start(); !s.ok()) return s;
    std::string content;
    if (absl::Status s = forewarn::testing::WaitForFile(port_file_, absl::Seconds(30), &content); !s.ok()) {
      return absl::UnavailableError(
          absl::StrCat("peer did not start: ", s.message(), "\n", ReadFile(process_->log_path())));
    }
    port_ = std::stoi(content);
    return absl::OkStatus();
  }

  int port() const { return port_; }
  const std::string& log_path() const { return process_->log_path(); }

 private:
  std::string port_file_;
  std::unique_ptr<forewarn::testing::ChildProcess> process_;
  int port_ = 0;
};

// A throw-away self-signed certificate for localhost and 127.0.0.1 (PEM
// files); nullopt when openssl is not available.
struct Cert {
  std::string cert;
  std::string key;
};

inline std::optional<Cert> MakeSelfSignedCert() {
  const std::string dir = forewarn::testing::MakeTempDir("channel-cert");
  Cert c{dir + "/cert.pem", dir + "/key.pem"};
  const std::string cmd = absl::StrCat(
      "openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=localhost "
      "-addext subjectAltName=DNS:localhost,IP:127.0.0.1 -keyout ",
      c.key, " -out ", c.cert, " > ", dir, "/openssl.log 2>&1");
  if (std::system(cmd.c_str()) != 0) return std::nullopt;
  return c;
}

}  // namespace forewarn::channel_testing
