#include "services/kafka/rdkafka_util.h"

#include <limits>

#include "absl/strings/str_cat.h"
#include "spdlog/spdlog.h"

namespace forewarn::rdk {
namespace {

// librdkafka's internal log lines (syslog levels) -> spdlog. They carry
// broker/topic names, never message payloads.
void LogCallback(const rd_kafka_t* rk, int level, const char* fac, const char* buf) {
  const char* name = rk != nullptr ? rd_kafka_name(rk) : "rdkafka";
  if (level <= 3) {
    spdlog::error("kafka {} [{}]: {}", name, fac, buf);
  } else if (level == 4) {
    spdlog::warn("kafka {} [{}]: {}", name, fac, buf);
  } else if (level <= 6) {
    spdlog::info("kafka {} [{}]: {}", name, fac, buf);
  } else {
    spdlog::debug("kafka {} [{}]: {}", name, fac, buf);
  }
}

void ErrorCallback(rd_kafka_t* rk, int err, const char* reason, void* /*opaque*/) { LogClientError(rk, err, reason); }

absl::Status Set(rd_kafka_conf_t* conf, const std::string& name, const std::string& value) {
  char errstr[512];
  if (rd_kafka_conf_set(conf, name.c_str(), value.c_str(), errstr, sizeof(errstr)) !=
      RD_KAFKA_CONF_OK) {
    return absl::InvalidArgumentError(absl::StrCat("kafka property ", name, ": ", errstr));
  }
  return absl::OkStatus();
}

// Every client's settings, before the caller's defaults. A broker that went
// away is tried again at most a second apart: librdkafka doubles the pause
// after each failed attempt up to reconnect.backoff.max.ms, 10 s by
// default, so a client could notice a restarted broker up to 10 s late.
const std::pair<const char*, const char*> kEveryClient[] = {
    {"reconnect.backoff.ms", "100"},
    {"reconnect.backoff.max.ms", "1000"},
};

}  // namespace

void LogClientError(rd_kafka_t* rk, int err, const char* reason) {
  const auto code = static_cast<rd_kafka_resp_err_t>(err);
  if (code == RD_KAFKA_RESP_ERR__FATAL) {
    char fatal[512];
    const rd_kafka_resp_err_t orig = rd_kafka_fatal_error(rk, fatal, sizeof(fatal));
    spdlog::error("kafka {}: FATAL {}: {}", rd_kafka_name(rk), rd_kafka_err2name(orig), fatal);
    return;
  }
  spdlog::warn("kafka {}: {}: {}", rd_kafka_name(rk), rd_kafka_err2name(code), reason);
}

absl::StatusOr<ConfPtr> BuildConf(const KafkaConfig& cfg, const Properties& defaults) {
  ConfPtr conf(rd_kafka_conf_new());
  if (cfg.bootstrap_servers.empty()) {
    return absl::InvalidArgumentError("kafka bootstrap_servers is empty");
  }
  if (auto st = Set(conf.get(), "bootstrap.servers", cfg.bootstrap_servers); !st.ok()) return st;
  if (auto st = Set(conf.get(), "client.id", cfg.client_id); !st.ok()) return st;
  for (const auto& [name, value] : kEveryClient) {
    if (auto st = Set(conf.get(), name, value); !st.ok()) return st;
  }
  for (const auto& [name, value] : defaults) {
    if (auto st = Set(conf.get(), name, value); !st.ok()) return st;
  }
  for (const auto& [name, value] : cfg.extra) {
    if (auto st = Set(conf.get(), name, value); !st.ok()) return st;
  }
  rd_kafka_conf_set_log_cb(conf.get(), &LogCallback);
  rd_kafka_conf_set_error_cb(conf.get(), &ErrorCallback);
  return conf;
}

absl::StatusOr<HandlePtr> NewHandle(rd_kafka_type_t type, ConfPtr conf) {
  char errstr[512];
  rd_kafka_t* rk = rd_kafka_new(type, conf.get(), errstr, sizeof(errstr));
  if (rk == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat("kafka client: ", errstr));
  }
  (void)conf.release();  // now owned by rk
  return HandlePtr(rk);
}

absl::Status ToStatus(rd_kafka_resp_err_t err, std::string_view context) {
  if (err == RD_KAFKA_RESP_ERR_NO_ERROR) return absl::OkStatus();
  const std::string msg = absl::StrCat(absl::string_view(context.data(), context.size()), ": ", rd_kafka_err2name(err), ": ",
                                       rd_kafka_err2str(err));
  switch (err) {
    case RD_KAFKA_RESP_ERR__INVALID_ARG:
    case RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE:
    case RD_KAFKA_RESP_ERR_TOPIC_EXCEPTION:
      return absl::InvalidArgumentError(msg);
    case RD_KAFKA_RESP_ERR__FATAL:
      return absl::InternalError(msg);
    case RD_KAFKA_RESP_ERR__TIMED_OUT:
    case RD_KAFKA_RESP_ERR__MSG_TIMED_OUT:
      return absl::DeadlineExceededError(msg);
    default:
      return absl::UnavailableError(msg);
  }
}

int ToTimeoutMs(absl::Duration d) {
  if (d == absl::InfiniteDuration()) return -1;
  if (d <= absl::ZeroDuration()) return 0;
  const int64_t ms = absl::ToInt64Milliseconds(absl::Ceil(d, absl::Milliseconds(1)));
  return ms > std::numeric_limits<int>::max() ? std::numeric_limits<int>::max()
                                              : static_cast<int>(ms);
}

}  // namespace forewarn::rdk
