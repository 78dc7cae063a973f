#include "services/public_http/public_server.h"

#include <httplib.h>
#include <openssl/crypto.h>
#include <openssl/sha.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <iterator>
#include <mutex>
#include <optional>
#include <thread>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "nlohmann/json.hpp"
#include "services/core/mask.h"
#include "services/public_http/http_listen.h"
#include "services/public_http/inbound_sms.h"
#include "services/public_http/pages.h"
#include "services/public_http/receipt_requests.h"
#include "spdlog/spdlog.h"

namespace forewarn {
namespace {

constexpr char kHtml[] = "text/html; charset=utf-8";
constexpr char kText[] = "text/plain; charset=utf-8";
constexpr char kTokenRoute[] = R"(/u/([A-Za-z0-9_-]{1,128}))";
constexpr char kInboundRoute[] = "/sms/inbound";
constexpr char kKannelReceiptRoute[] = "/receipts/kannel";
constexpr char kReceiptRoute[] = "/receipts";

void Reply(httplib::Response& res, int status, const std::string& body, const char* type) {
  res.status = status;
  res.set_content(body, type);
}

// Compares digests, so neither the content nor the length of the secret
// shows in the time taken.
bool SecretMatches(const std::string& expected, const std::string& given) {
  unsigned char a[SHA256_DIGEST_LENGTH], b[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(expected.data()), expected.size(), a);
  SHA256(reinterpret_cast<const unsigned char*>(given.data()), given.size(), b);
  return !given.empty() && CRYPTO_memcmp(a, b, sizeof a) == 0;
}

std::string PresentedSecret(const httplib::Request& req) {
  const std::string header = req.get_header_value("Authorization");  // a copy: keep it alive
  absl::string_view auth = header;
  if (absl::ConsumePrefix(&auth, "Bearer ")) return std::string(absl::StripAsciiWhitespace(auth));
  return req.get_param_value("key");
}

struct InboundMessage {
  std::string from;
  std::string text;
};

// JSON {"from","text"} or form fields; INVALID_ARGUMENT naming what is missing.
absl::StatusOr<InboundMessage> ParseInbound(const httplib::Request& req) {
  InboundMessage m;
  if (absl::StartsWith(absl::AsciiStrToLower(req.get_header_value("Content-Type")), "application/json")) {
    const auto json = nlohmann::json::parse(req.body, nullptr, /*allow_exceptions=*/false);
    if (!json.is_object()) return absl::InvalidArgumentError("body: not a JSON object");
    if (auto it = json.find("from"); it != json.end() && it->is_string()) m.from = it->get<std::string>();
    if (auto it = json.find("text"); it != json.end() && it->is_string()) m.text = it->get<std::string>();
  } else {
    m.from = req.get_param_value("from");
    m.text = req.get_param_value("text");
  }
  if (absl::StripAsciiWhitespace(m.from).empty()) return absl::InvalidArgumentError("from: required");
  return m;
}

// The RFC 8058 field, from a urlencoded or a multipart body.
std::string OneClickField(const httplib::Request& req) {
  if (req.has_file("List-Unsubscribe")) return req.get_file_value("List-Unsubscribe").content;
  return req.get_param_value("List-Unsubscribe");
}

}  // namespace

struct PublicHttpServer::Impl {
  Impl(const PublicHttpOptions& o, const UnsubscribeTokens* t, CustomerDirectoryService& d, MetricsRegistry& m,
       PublicReceipts r)
      : options(o),
        tokens(t),
        directory(d),
        metrics(m),
        receipts(r),
        invalid_tokens(m.counter("forewarn_unsubscribe_invalid_tokens_total",
                                 "Unsubscribe links refused: not signed by us, altered or cut short")),
        auth_refused(m.counter("forewarn_public_auth_refused_total",
                               "Public endpoint requests refused for a missing or wrong secret",
                               {{"route", kInboundRoute}})) {}

  void Routes();
  std::optional<UnsubscribePayload> Verify(const httplib::Request& req, httplib::Response& res);
  void GetUnsubscribe(const httplib::Request& req, httplib::Response& res);
  void PostUnsubscribe(const httplib::Request& req, httplib::Response& res);
  void InboundSms(const httplib::Request& req, httplib::Response& res);
  void ApplyKeyword(SmsKeyword keyword, const InboundMessage& m, httplib::Response& res);
  bool ReceiptsOn() const { return receipts.store && receipts.signer && receipts.clock; }
  void KannelReceipts(const httplib::Request& req, httplib::Response& res);
  void JsonReceiptsPosted(const httplib::Request& req, httplib::Response& res);
  void RefuseReceipt(const char* route, httplib::Response& res);
  void CountOutcomes(const ReceiptTally& tally, int64_t ignored = 0);
  void RecordReceipts(const std::vector<Receipt>& receipts, httplib::Response& res);

  const PublicHttpOptions options;
  const UnsubscribeTokens* const tokens;
  CustomerDirectoryService& directory;
  MetricsRegistry& metrics;
  const PublicReceipts receipts;
  Counter& invalid_tokens;
  Counter& auth_refused;
  httplib::Server server;
  std::thread thread;
  int port = 0;
  std::atomic<bool> listen_returned{false};
  std::once_flag stopped;
};

void PublicHttpServer::Impl::Routes() {
  server.Get(kTokenRoute, [this](const httplib::Request& req, httplib::Response& res) { GetUnsubscribe(req, res); });
  server.Post(kTokenRoute, [this](const httplib::Request& req, httplib::Response& res) { PostUnsubscribe(req, res); });
  server.Post(kInboundRoute, [this](const httplib::Request& req, httplib::Response& res) { InboundSms(req, res); });
  server.Get(kKannelReceiptRoute,
             [this](const httplib::Request& req, httplib::Response& res) { KannelReceipts(req, res); });
  server.Post(kReceiptRoute,
              [this](const httplib::Request& req, httplib::Response& res) { JsonReceiptsPosted(req, res); });
  server.set_error_handler([](const httplib::Request& req, httplib::Response& res) {
    if (!res.body.empty()) return;
    if (res.status == 404 && absl::StartsWith(req.path, "/u/")) {
      res.set_content(InvalidLinkPage(), kHtml);
    } else {
      res.set_content(res.status == 404 ? "not found\n" : absl::StrCat("error ", res.status, "\n"), kText);
    }
  });
  server.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr) {
    spdlog::error("event=public_http_exception");
    Reply(res, 500, "internal error\n", kText);
  });
}

std::optional<UnsubscribePayload> PublicHttpServer::Impl::Verify(const httplib::Request& req,
                                                                 httplib::Response& res) {
  absl::StatusOr<UnsubscribePayload> payload =
      tokens ? tokens->Verify(req.matches[1].str()) : absl::NotFoundError("unsubscribe links are off");
  if (!payload.ok()) {
    invalid_tokens.Increment();
    spdlog::info("event=unsubscribe_invalid_token method={} status=\"{}\"", req.method, payload.status().ToString());
    Reply(res, 404, InvalidLinkPage(), kHtml);
    return std::nullopt;
  }
  return *payload;
}

void PublicHttpServer::Impl::GetUnsubscribe(const httplib::Request& req, httplib::Response& res) {
  if (auto payload = Verify(req, res)) Reply(res, 200, ConfirmUnsubscribePage(payload->category, req.matches[1].str()), kHtml);
}

void PublicHttpServer::Impl::PostUnsubscribe(const httplib::Request& req, httplib::Response& res) {
  std::optional<UnsubscribePayload> payload = Verify(req, res);
  if (!payload) return;
  if (OneClickField(req) != "One-Click") return Reply(res, 400, BadUnsubscribeRequestPage(), kHtml);
  absl::StatusOr<Customer> changed =
      directory.SetChannel(payload->customer_id, payload->category, payload->channel, false);
  const std::string& category = ToString(payload->category);
  auto count = [&](const char* outcome) {
    metrics
        .counter("forewarn_unsubscribes_total", "One-click unsubscribe requests by category and outcome",
                 {{"category", category}, {"outcome", outcome}})
        .Increment();
    spdlog::info("event=unsubscribe customer_id={} category={} channel={} outcome={}", payload->customer_id, category,
                 ToString(payload->channel), outcome);
  };
  if (changed.ok()) {
    count("unsubscribed");
    return Reply(res, 200, UnsubscribedPage(payload->category), kHtml);
  }
  switch (changed.status().code()) {
    case absl::StatusCode::kFailedPrecondition:
      count("refused_by_policy");
      return Reply(res, 409, CannotUnsubscribePage(payload->category), kHtml);
    case absl::StatusCode::kNotFound:  // erased since the email went
      count("unknown_customer");
      return Reply(res, 404, InvalidLinkPage(), kHtml);
    default:
      spdlog::warn("event=unsubscribe_failed customer_id={} status=\"{}\"", payload->customer_id,
                   changed.status().ToString());
      return Reply(res, 503, TryLaterPage(), kHtml);
  }
}

void PublicHttpServer::Impl::InboundSms(const httplib::Request& req, httplib::Response& res) {
  if (options.inbound_sms_secret.empty()) return Reply(res, 404, "not found\n", kText);
  if (!SecretMatches(options.inbound_sms_secret, PresentedSecret(req))) {
    auth_refused.Increment();
    spdlog::warn("event=inbound_sms_refused reason=\"missing or wrong secret\"");
    res.set_header("WWW-Authenticate", "Bearer");
    return Reply(res, 401, "unauthorized\n", kText);
  }
  absl::StatusOr<InboundMessage> message = ParseInbound(req);
  if (!message.ok()) return Reply(res, 400, absl::StrCat(message.status().message(), "\n"), kText);
  const SmsKeyword keyword = ParseSmsKeyword(message->text);
  metrics
      .counter("forewarn_inbound_sms_total", "Messages from customers by the command they carry",
               {{"keyword", KeywordLabel(keyword)}})
      .Increment();
  if (keyword == SmsKeyword::kNone) {
    spdlog::info("event=inbound_sms from={} keyword=other", MaskPhone(message->from));
    return Reply(res, 200, "", kText);
  }
  ApplyKeyword(keyword, *message, res);
}

void PublicHttpServer::Impl::ApplyKeyword(SmsKeyword keyword, const InboundMessage& m, httplib::Response& res) {
  const std::string from = GatewaySender(m.from);
  absl::StatusOr<std::vector<Customer>> changed = directory.SetSmsByPhone(from, keyword == SmsKeyword::kStart);
  std::string locale = KeywordLocale(m.text);
  if (changed.ok() && !changed->empty()) locale = changed->front().locale;
  const absl::StatusCode code = changed.status().code();
  spdlog::info("event=inbound_sms from={} keyword={} customers={} status={}", MaskPhone(from), KeywordLabel(keyword),
               changed.ok() ? changed->size() : 0, absl::StatusCodeToString(code));
  // A number that is no customer's (or no number at all) gets the same
  // answer as a customer's: the webhook never tells who is a customer.
  if (!changed.ok() && code != absl::StatusCode::kNotFound && code != absl::StatusCode::kInvalidArgument) {
    return Reply(res, 503, "try again later\n", kText);
  }
  Reply(res, 200, SmsReply(keyword, locale), kText);
}

void PublicHttpServer::Impl::CountOutcomes(const ReceiptTally& tally, int64_t ignored) {
  for (auto [outcome, count] : {std::pair{"applied", tally.applied}, std::pair{"duplicate", tally.duplicate},
                                std::pair{"pending", tally.pending}, std::pair{"conflicting", tally.conflicting},
                                std::pair{"ignored", ignored}}) {
    if (count == 0) continue;
    metrics
        .counter("forewarn_receipt_outcomes_total",
                 "What receipts did: applied, duplicate, pending (came first), conflicting, ignored (not final)",
                 {{"outcome", outcome}})
        .Increment(static_cast<double>(count));
  }
}

void PublicHttpServer::Impl::RefuseReceipt(const char* route, httplib::Response& res) {
  metrics
      .counter("forewarn_public_auth_refused_total",
               "Public endpoint requests refused for a missing or wrong secret", {{"route", route}})
      .Increment();
  spdlog::warn("event=receipt_refused route={} reason=\"missing or wrong signature\"", route);
  Reply(res, 401, "unauthorized\n", kText);
}

void PublicHttpServer::Impl::KannelReceipts(const httplib::Request& req, httplib::Response& res) {
  if (!ReceiptsOn()) return Reply(res, 404, "not found\n", kText);
  if (!receipts.signer->Verify(req.get_param_value("ref"), req.get_param_value("sig"))) {
    return RefuseReceipt(kKannelReceiptRoute, res);
  }
  std::map<std::string, std::string> params;
  for (const auto& [name, value] : req.params) params.emplace(name, value);
  absl::StatusOr<std::optional<Receipt>> receipt = KannelReceipt(params);
  if (!receipt.ok()) return Reply(res, 400, absl::StrCat(receipt.status().message(), "\n"), kText);
  if (!receipt->has_value()) {
    CountOutcomes({}, 1);
    return Reply(res, 200, "ignored: not a final report\n", kText);
  }
  RecordReceipts({**receipt}, res);
}

void PublicHttpServer::Impl::JsonReceiptsPosted(const httplib::Request& req, httplib::Response& res) {
  if (!ReceiptsOn()) return Reply(res, 404, "not found\n", kText);
  if (!receipts.signer->Verify(req.body, req.get_header_value("X-Forewarn-Signature"))) {
    return RefuseReceipt(kReceiptRoute, res);
  }
  absl::StatusOr<std::vector<Receipt>> parsed = JsonReceipts(req.body);
  if (!parsed.ok()) return Reply(res, 400, absl::StrCat(parsed.status().message(), "\n"), kText);
  RecordReceipts(*parsed, res);
}

void PublicHttpServer::Impl::RecordReceipts(const std::vector<Receipt>& list, httplib::Response& res) {
  absl::StatusOr<ReceiptTally> tally = receipts.store->Record(list, receipts.clock->Now());
  if (!tally.ok()) {
    spdlog::warn("event=receipts_not_recorded count={} status=\"{}\"", list.size(), tally.status().ToString());
    return Reply(res, tally.status().code() == absl::StatusCode::kInvalidArgument ? 400 : 503,
                 absl::StrCat(tally.status().message(), "\n"), kText);
  }
  const std::string& source = list.front().source;
  for (const Receipt& r : list) {
    metrics
        .counter("forewarn_receipts_total", "Delivery receipts received, by source and status",
                 {{"source", r.source}, {"status", std::string(ToString(r.status))}})
        .Increment();
  }
  CountOutcomes(*tally);
  spdlog::info("event=receipts source={} count={} applied={} duplicate={} pending={} conflicting={}", source,
               list.size(), tally->applied, tally->duplicate, tally->pending, tally->conflicting);
  const nlohmann::json body = {{"applied", tally->applied},
                               {"duplicate", tally->duplicate},
                               {"pending", tally->pending},
                               {"conflicting", tally->conflicting}};
  Reply(res, 200, body.dump() + "\n", "application/json");
}

PublicHttpServer::PublicHttpServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
PublicHttpServer::~PublicHttpServer() { Stop(); }

absl::StatusOr<std::unique_ptr<PublicHttpServer>> PublicHttpServer::Start(const PublicHttpOptions& options,
                                                                          const UnsubscribeTokens* tokens,
                                                                          CustomerDirectoryService& directory,
                                                                          MetricsRegistry& metrics,
                                                                          PublicReceipts receipts) {
  auto impl = std::make_unique<Impl>(options, tokens, directory, metrics, receipts);
  httplib::Server& server = impl->server;
  ConfigurePublicServer(server,
                        {.threads = options.threads, .max_body_bytes = options.max_body_bytes,
                         .read_timeout = options.read_timeout, .write_timeout = options.write_timeout},
                        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'");
  impl->Routes();
  absl::StatusOr<int> port = BindAndServe(server, options.listen, "--public-listen", impl->thread, impl->listen_returned);
  if (!port.ok()) return port.status();
  impl->port = *port;
  spdlog::info("event=public_http_listening port={} unsubscribe={} inbound_sms={} receipts={}", impl->port,
               tokens != nullptr, !options.inbound_sms_secret.empty(), impl->ReceiptsOn());
  return std::unique_ptr<PublicHttpServer>(new PublicHttpServer(std::move(impl)));
}

int PublicHttpServer::port() const { return impl_->port; }

void PublicHttpServer::Stop() { StopServing(impl_->server, impl_->thread, impl_->stopped); }

absl::StatusOr<std::string> ReadSharedSecret(const char* flag, const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::string text(std::istreambuf_iterator<char>(in), {});
  if (!in.is_open() || in.bad()) {
    return absl::FailedPreconditionError(absl::StrCat(flag, ": ", path, " cannot be read"));
  }
  std::string secret(absl::StripAsciiWhitespace(text));
  if (secret.size() < 16) {
    return absl::FailedPreconditionError(
        absl::StrCat(flag, ": ", path, " holds ", secret.size(), " bytes; a secret needs at least 16"));
  }
  return secret;
}

}  // namespace forewarn
