#include "tests/e2e/provider_peers.h"

#include <fstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"

namespace forewarn::testing {
namespace {

using nlohmann::json;

std::string Peer(const char* script) { return absl::StrCat(FOREWARN_CHANNEL_PEERS_DIR, "/", script); }

absl::StatusOr<json> ReadJson(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("no counts file ", path));
  json j = json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return absl::DataLossError(absl::StrCat("counts file ", path, " is not JSON"));
  return j;
}

void AddCounts(const json& from, std::map<std::string, int64_t>* to) {
  for (const auto& [id, n] : from.items()) (*to)[id] += n.get<int64_t>();
}

int64_t Beyond(const std::map<std::string, int64_t>& counts) {
  int64_t extra = 0;
  for (const auto& [id, n] : counts) extra += n - 1;
  return extra;
}

}  // namespace

int64_t ProviderCounts::duplicates() const { return Beyond(by_message_id); }
int64_t ProviderCounts::idempotency_key_duplicates() const { return Beyond(by_idempotency_key); }

absl::Status ProviderPeers::Start(const std::string& dir, const Options& options) {
  dir_ = dir;
  options_ = options;
  const std::string interval = "250";
  smtp_ = std::make_unique<ChildProcess>(
      std::vector<std::string>{"/usr/bin/python3", Peer("smtp_sink.py"), "--port-file", dir + "/smtp.port",
                               "--stats-file", dir + "/smtp-counts.json", "--stats-interval-ms", interval,
                               "--delay-ms", options.delay_ms},
      dir + "/smtp.log");
  sms_ = std::make_unique<ChildProcess>(
      std::vector<std::string>{"/usr/bin/python3", Peer("sms_gateway.py"), "--port-file", dir + "/sms.port", "--log",
                               dir + "/sms-requests.jsonl", "--stats-file", dir + "/sms-counts.json",
                               "--stats-interval-ms", interval, "--delay-ms", options.delay_ms, "--id-field",
                               options.sms_id_field, "--idempotency-header", options.idempotency_header},
      dir + "/gateway.log");
  for (ChildProcess* p : {smtp_.get(), sms_.get()}) {
    if (auto s = p->Start(); !s.ok()) return s;
  }
  std::string smtp_port, sms_port;
  if (auto s = WaitForFile(dir + "/smtp.port", absl::Seconds(20), &smtp_port); !s.ok()) return s;
  if (auto s = WaitForFile(dir + "/sms.port", absl::Seconds(20), &sms_port); !s.ok()) return s;
  if (!absl::SimpleAtoi(smtp_port, &smtp_port_) || !absl::SimpleAtoi(sms_port, &sms_port_)) {
    return absl::InternalError(absl::StrCat("bad peer ports: ", smtp_port, " ", sms_port));
  }
  return absl::OkStatus();
}

void ProviderPeers::Stop() {
  if (sms_) sms_->Stop();
  if (smtp_) smtp_->Stop();
}

std::vector<std::string> ProviderPeers::NotifierArgs() const {
  return {"--smtp-url", absl::StrCat("smtp://127.0.0.1:", smtp_port_), "--smtp-tls", "none", "--smtp-from",
          "notices@forewarn.example", "--sms-url", absl::StrCat("http://127.0.0.1:", sms_port_, "/sms"),
          "--sms-field", "to={to}", "--sms-field", "text={text}", "--sms-field",
          absl::StrCat(options_.sms_id_field, "={message_id}")};
}

absl::StatusOr<ProviderCounts> ProviderPeers::Read() const {
  auto smtp = ReadJson(dir_ + "/smtp-counts.json");
  if (!smtp.ok()) return smtp.status();
  auto sms = ReadJson(dir_ + "/sms-counts.json");
  if (!sms.ok()) return sms.status();
  ProviderCounts c;
  c.smtp_messages = smtp->at("messages").get<int64_t>();
  c.sms_requests = sms->at("requests").get<int64_t>();
  AddCounts(smtp->at("by_message_id"), &c.by_message_id);
  AddCounts(sms->at("by_message_id"), &c.by_message_id);
  c.without_message_id = smtp->at("without_message_id").get<int64_t>() + sms->at("without_message_id").get<int64_t>();
  AddCounts(sms->at("by_idempotency_key"), &c.by_idempotency_key);
  c.without_idempotency_key = sms->at("without_idempotency_key").get<int64_t>();
  return c;
}

}  // namespace forewarn::testing
