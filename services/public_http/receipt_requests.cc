#include "services/public_http/receipt_requests.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "nlohmann/json.hpp"

namespace forewarn {
namespace {

// Kannel's report types (gwlib/dlr.h).
constexpr int kDlrSuccess = 1, kDlrFail = 2, kDlrBuffered = 4, kDlrSmscSuccess = 8, kDlrSmscFail = 16;

absl::Status Bad(const std::string& field, absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat(field, ": ", why));
}

std::string Param(const std::map<std::string, std::string>& params, const std::string& name) {
  auto it = params.find(name);
  return it == params.end() ? std::string() : it->second;
}

// A failure report: expired when the SMSC's receipt text says so.
ReceiptStatus FailureStatus(const std::string& reply) {
  auto text = ParseDlrText(reply);
  if (text) {
    if (auto status = StatusOfStat(text->stat)) return *status;
  }
  return ReceiptStatus::kUndelivered;
}

absl::StatusOr<Receipt> JsonReceipt(const nlohmann::json& j, const std::string& at) {
  if (!j.is_object()) return Bad(at, "must be an object");
  Receipt r;
  r.source = "json";
  auto text = [&](const char* name, std::string& out) -> absl::Status {
    if (!j.contains(name)) return absl::OkStatus();
    if (!j[name].is_string()) return Bad(absl::StrCat(at, ".", name), "must be a string");
    out = j[name].get<std::string>();
    return absl::OkStatus();
  };
  std::string status, when;
  for (auto [name, out] : {std::pair{"message_id", &r.message_id}, std::pair{"provider_id", &r.provider_id},
                           std::pair{"status", &status}, std::pair{"at", &when}, std::pair{"detail", &r.detail},
                           std::pair{"source", &r.source}}) {
    if (auto s = text(name, *out); !s.ok()) return s;
  }
  if (r.message_id.empty() == r.provider_id.empty()) {
    return Bad(at, "needs exactly one of message_id and provider_id");
  }
  if (!r.message_id.empty()) {
    if (auto key = ParseMessageId(r.message_id); !key.ok()) return Bad(at + ".message_id", key.status().message());
  }
  auto parsed = ParseReceiptStatus(status);
  if (!parsed.ok()) return Bad(at + ".status", absl::StrCat("\"", status.substr(0, 32), "\" is not one of delivered, undelivered, expired"));
  r.status = *parsed;
  std::string error;
  if (!when.empty() && !absl::ParseTime(absl::RFC3339_full, when, &r.reported_at, &error)) {
    return Bad(at + ".at", "not an RFC 3339 time");
  }
  r.detail = r.detail.substr(0, 200);
  return r;
}

}  // namespace

absl::StatusOr<std::optional<Receipt>> KannelReceipt(const std::map<std::string, std::string>& params) {
  int type = 0;
  if (!absl::SimpleAtoi(Param(params, "type"), &type)) return Bad("type", "must be Kannel's report type (%d)");
  Receipt r;
  r.message_id = Param(params, "ref");
  r.source = "kannel";
  const std::string reply = Param(params, "reply");
  switch (type) {
    case kDlrSuccess: r.status = ReceiptStatus::kDelivered; break;
    case kDlrFail:
    case kDlrSmscFail: r.status = FailureStatus(reply); break;
    case kDlrBuffered:
    case kDlrSmscSuccess: return std::optional<Receipt>();
    default: return Bad("type", absl::StrCat(type, " is not a Kannel report type"));
  }
  if (auto text = ParseDlrText(reply)) r.detail = text->stat;
  int64_t seconds = 0;
  if (absl::SimpleAtoi(Param(params, "at"), &seconds) && seconds > 0) r.reported_at = absl::FromUnixSeconds(seconds);
  return std::optional<Receipt>(std::move(r));
}

absl::StatusOr<std::vector<Receipt>> JsonReceipts(std::string_view body) {
  nlohmann::json j = nlohmann::json::parse(body.begin(), body.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Bad("body", "not JSON");
  const bool list = j.is_object() && j.contains("receipts");
  if (list && !j["receipts"].is_array()) return Bad("receipts", "must be an array");
  const nlohmann::json items = list ? j["receipts"] : nlohmann::json::array({j});
  if (items.empty()) return Bad("receipts", "must not be empty");
  if (items.size() > kMaxReceiptsPerRequest) {
    return Bad("receipts", absl::StrCat("at most ", kMaxReceiptsPerRequest, " per request"));
  }
  std::vector<Receipt> out;
  for (size_t i = 0; i < items.size(); ++i) {
    auto r = JsonReceipt(items[i], list ? absl::StrCat("receipts[", i, "]") : "receipt");
    if (!r.ok()) return r.status();
    out.push_back(*std::move(r));
  }
  return out;
}

}  // namespace forewarn
