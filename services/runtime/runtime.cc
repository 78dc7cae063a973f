#include "services/runtime/runtime.h"

#include <sys/resource.h>
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <fstream>

#include "absl/random/random.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "spdlog/sinks/stdout_sinks.h"
#include "spdlog/spdlog.h"

namespace forewarn {
namespace {

std::atomic<bool> g_stop{false};

extern "C" void OnStopSignal(int) { g_stop.store(true); }

absl::BitGen& BitGen() {
  thread_local absl::BitGen gen;
  return gen;
}

}  // namespace

void SetupLogging(const std::string& service) {
  auto logger = spdlog::stderr_logger_mt(service);
  logger->set_pattern(absl::StrCat("ts=%Y-%m-%dT%H:%M:%S.%eZ level=%l service=", service, " %v"),
                      spdlog::pattern_time_type::utc);
  spdlog::set_default_logger(logger);
  spdlog::flush_every(std::chrono::seconds(1));
  spdlog::flush_on(spdlog::level::warn);
}

uint64_t RaiseOpenFileLimit() {
  rlimit lim{};
  if (::getrlimit(RLIMIT_NOFILE, &lim) != 0) {
    spdlog::warn("event=open_file_limit_unknown errno={}", errno);
    return 1024;
  }
  const rlim_t before = lim.rlim_cur;
  if (lim.rlim_cur < lim.rlim_max) {
    lim.rlim_cur = lim.rlim_max;
    if (::setrlimit(RLIMIT_NOFILE, &lim) != 0) {
      spdlog::warn("event=open_file_limit_not_raised soft={} hard={} errno={}", before, lim.rlim_max, errno);
      return before;
    }
  }
  spdlog::info("event=open_file_limit soft={} hard={} raised_from={}", lim.rlim_cur, lim.rlim_max, before);
  return lim.rlim_cur;
}

const std::atomic<bool>& InstallStopSignals() {
  struct sigaction sa {};
  sa.sa_handler = OnStopSignal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);
  std::signal(SIGPIPE, SIG_IGN);
  return g_stop;
}

void SleepUnlessStopped(const std::atomic<bool>& stop, absl::Duration d) {
  const absl::Time until = absl::Now() + d;
  while (!stop.load() && absl::Now() < until) {
    absl::SleepFor(std::min(absl::Milliseconds(50), until - absl::Now()));
  }
}

std::function<bool(absl::Duration)> StopAwareSleep(const std::atomic<bool>& stop) {
  return [&stop](absl::Duration d) {
    SleepUnlessStopped(stop, d);
    return !stop.load();
  };
}

int StartupFailed(const absl::Status& status, int exit_code) {
  spdlog::error("event=startup_failed status=\"{}\"", status.ToString());
  return exit_code;
}

absl::Status WriteFileAtomically(const std::string& path, const std::string& content) {
  const std::string tmp = absl::StrCat(path, ".tmp");
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << content;
    if (!out.good()) return absl::InternalError(absl::StrCat("cannot write ", tmp));
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    return absl::InternalError(absl::StrCat("cannot rename ", tmp, " to ", path));
  }
  return absl::OkStatus();
}

absl::Time OffsetFileClock::Now() const {
  // A few microseconds (open, read, close): test runs only.
  absl::Duration offset = absl::ZeroDuration();
  if (const int fd = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC); fd >= 0) {
    char buf[32] = {};
    const ssize_t n = ::read(fd, buf, sizeof(buf) - 1);
    ::close(fd);
    int64_t seconds = 0;
    if (n > 0 && absl::SimpleAtoi(absl::StripAsciiWhitespace(absl::string_view(buf, static_cast<size_t>(n))),
                                  &seconds)) {
      offset = absl::Seconds(seconds);
    }
  }
  return absl::Now() + offset;
}

std::unique_ptr<Clock> MakeServiceClock(const std::string& offset_file, int64_t offset_seconds) {
  if (!offset_file.empty()) return std::make_unique<OffsetFileClock>(offset_file);
  return std::make_unique<SystemClock>(absl::Seconds(offset_seconds));
}

absl::StatusOr<std::unique_ptr<ObservabilityServer>> StartObservabilityIfConfigured(
    const std::string& listen, const std::string& port_file, MetricsRegistry& registry,
    std::function<bool()> ready) {
  if (listen.empty()) return std::unique_ptr<ObservabilityServer>();
  auto server = ObservabilityServer::Start(listen, registry, std::move(ready));
  if (!server.ok() || port_file.empty()) return server;
  if (auto s = WriteFileAtomically(port_file, absl::StrCat((*server)->port(), "\n")); !s.ok()) {
    spdlog::warn("event=port_file_failed status=\"{}\"", s.ToString());
  }
  return server;
}

absl::Status RetryUntilOk(const std::atomic<bool>& stop, const std::string& what,
                          const std::function<absl::Status()>& fn) {
  absl::Duration backoff = absl::Milliseconds(100);
  while (true) {
    absl::Status s = fn();
    if (s.ok() || stop.load()) return s;
    // Full jitter: replicas retrying the same outage do not move in step.
    const absl::Duration wait = absl::Milliseconds(absl::Uniform<int64_t>(
        BitGen(), absl::ToInt64Milliseconds(backoff) / 2, absl::ToInt64Milliseconds(backoff) + 1));
    spdlog::warn("event=retry what=\"{}\" status=\"{}\" retry_in_ms={}", what, s.ToString(),
                 absl::ToInt64Milliseconds(wait));
    SleepUnlessStopped(stop, wait);
    backoff = std::min(backoff * 2, absl::Seconds(5));
  }
}

ConsumeRuntime ServiceConsumeRuntime(const Clock& clock, const std::atomic<bool>& stop) {
  ConsumeRuntime runtime;
  runtime.clock = &clock;
  runtime.sleep = StopAwareSleep(stop);
  runtime.retry_until_ok = [&stop](const std::string& what, const std::function<absl::Status()>& fn) {
    return RetryUntilOk(stop, what, fn);
  };
  return runtime;
}

}  // namespace forewarn
