#include "notifier/cmd/notifier_config.h"

#include <algorithm>
#include <chrono>
#include <fstream>

#include "CLI/CLI.hpp"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "notifier/channels/file_outbox_channel.h"

namespace forewarn {
namespace {

void AddTopicFlags(CLI::App& app, NotifierConfig& cfg) {
  app.add_option("--notices-topic", cfg.notices_topic)->envname("FOREWARN_NOTICES_TOPIC");
  app.add_option("--retry-topic", cfg.retry_topic, "notices waiting to be tried again (also consumed)")
      ->envname("FOREWARN_RETRY_TOPIC");
  app.add_option("--dlq-topic", cfg.dlq_topic, "notices out of delivery attempts")->envname("FOREWARN_DLQ_TOPIC");
  app.add_option("--max-attempts", cfg.max_attempts, "delivery attempts before a notice is dead-lettered")
      ->envname("FOREWARN_MAX_ATTEMPTS")
      ->check(CLI::Range(1, 100));
  app.add_option("--retry-backoff-ms", cfg.retry_backoff_ms, "first retry after this (doubling, with jitter)")
      ->envname("FOREWARN_RETRY_BACKOFF_MS")
      ->check(CLI::Range(1, 3600000));
  app.add_option("--retry-backoff-max-ms", cfg.retry_backoff_max_ms, "longest wait between attempts")
      ->envname("FOREWARN_RETRY_BACKOFF_MAX_MS")
      ->check(CLI::Range(1, 86400000));
}

void AddSmtpFlags(CLI::App& app, NotifierConfig& cfg) {
  app.add_option("--smtp-url", cfg.smtp.url, "SMTP server, smtp://host:port or smtps://host:port")
      ->envname("FOREWARN_SMTP_URL");
  app.add_option("--smtp-tls", cfg.smtp_tls, "none, starttls or implicit")
      ->envname("FOREWARN_SMTP_TLS")
      ->check(CLI::IsMember({"none", "starttls", "implicit"}));
  app.add_option("--smtp-username", cfg.smtp.username)->envname("FOREWARN_SMTP_USERNAME");
  app.add_option("--smtp-password", cfg.smtp.password)->envname("FOREWARN_SMTP_PASSWORD");
  app.add_option("--smtp-from", cfg.smtp.from_address, "sender address")->envname("FOREWARN_SMTP_FROM");
  app.add_option("--smtp-from-name", cfg.smtp.from_name, "sender display name")->envname("FOREWARN_SMTP_FROM_NAME");
  app.add_option("--smtp-ca-file", cfg.smtp.ca_file)->envname("FOREWARN_SMTP_CA_FILE");
  app.add_option("--email-rate", cfg.email_rate, "SMTP provider limit, messages per second (0: none)")
      ->envname("FOREWARN_EMAIL_RATE");
}

void AddSmsFlags(CLI::App& app, NotifierConfig& cfg) {
  app.add_option("--sms-url", cfg.sms.url, "SMS gateway endpoint (HTTP POST)")->envname("FOREWARN_SMS_URL");
  app.add_option("--sms-auth-header", cfg.sms.auth_header, "e.g. 'Authorization: Bearer TOKEN'")
      ->envname("FOREWARN_SMS_AUTH_HEADER");
  app.add_option("--sms-body", cfg.sms_body, "json or form")
      ->envname("FOREWARN_SMS_BODY")
      ->check(CLI::IsMember({"json", "form"}));
  app.add_option("--sms-field", cfg.sms_fields, "body field name=template with {to} {text} {message_id} {sender}");
  app.add_option("--sms-sender", cfg.sms.sender)->envname("FOREWARN_SMS_SENDER");
  app.add_option("--sms-id-field", cfg.sms.provider_id_field, "response field holding the provider message id");
  app.add_option("--sms-ca-file", cfg.sms.ca_file)->envname("FOREWARN_SMS_CA_FILE");
  app.add_option("--sms-idempotency-header", cfg.sms.idempotency_header,
                 "header carrying the message id on every gateway request (empty: none)")
      ->envname("FOREWARN_SMS_IDEMPOTENCY_HEADER");
  app.add_option("--sms-timeout-ms", cfg.sms_timeout_ms, "per request, connect included")
      ->check(CLI::Range(100, 120000));
  app.add_option("--sms-rate", cfg.sms_rate, "SMS provider limit, messages per second (0: none)")
      ->envname("FOREWARN_SMS_RATE");
}

void AddKannelFlags(CLI::App& app, NotifierConfig& cfg) {
  app.add_option("--sms-provider", cfg.sms_provider,
                 "http (the gateway at --sms-url, or the file outbox), kannel (Kannel's sendsms, with delivery "
                 "reports to --receipt-url) or smpp (a direct SMPP account, --smpp-*)")
      ->envname("FOREWARN_SMS_PROVIDER")
      ->check(CLI::IsMember({"http", "kannel", "smpp"}));
  app.add_option("--kannel-url", cfg.kannel.sendsms_url, "Kannel's sendsms, e.g. http://127.0.0.1:13013/cgi-bin/sendsms")
      ->envname("FOREWARN_KANNEL_URL");
  app.add_option("--kannel-user", cfg.kannel.username, "Kannel sendsms-user name")->envname("FOREWARN_KANNEL_USER");
  app.add_option("--kannel-password-file", cfg.kannel_password_file, "file holding the sendsms-user's password")
      ->envname("FOREWARN_KANNEL_PASSWORD_FILE");
  app.add_option("--receipt-url", cfg.kannel.receipt_url,
                 "the intake's public receipt endpoint base, http(s)://host:port (Kannel calls "
                 "<base>/receipts/kannel)")
      ->envname("FOREWARN_RECEIPT_URL");
  app.add_option("--receipt-secret-file", cfg.receipt_secret_file,
                 "the receipt signing secret (one line, 32+ bytes), the same file as the intake's")
      ->envname("FOREWARN_RECEIPT_SECRET_FILE");
}

void AddSmppFlags(CLI::App& app, NotifierConfig& cfg) {
  auto& f = cfg.smpp_flags;
  app.add_option("--smpp-host", f.host, "SMSC to bind to as transceiver, HOST:PORT")->envname("FOREWARN_SMPP_HOST");
  app.add_option("--smpp-system-id", f.system_id)->envname("FOREWARN_SMPP_SYSTEM_ID");
  app.add_option("--smpp-password-file", f.password_file, "file whose first line is the SMPP password")
      ->envname("FOREWARN_SMPP_PASSWORD_FILE");
  app.add_option("--smpp-system-type", f.system_type)->envname("FOREWARN_SMPP_SYSTEM_TYPE");
  app.add_option("--smpp-source-addr", f.source_addr, "sender: an international number (digits) or a name")
      ->envname("FOREWARN_SMPP_SOURCE_ADDR");
  app.add_option("--smpp-window", f.window, "submit_sm sent and not yet answered, at most")
      ->envname("FOREWARN_SMPP_WINDOW")
      ->check(CLI::Range(1, 1000));
  app.add_option("--smpp-enquire-link-s", f.enquire_link_s, "enquire_link keep-alive interval")
      ->envname("FOREWARN_SMPP_ENQUIRE_LINK_S")
      ->check(CLI::Range(1, 3600));
  app.add_option("--smpp-throughput", f.throughput,
                 "submit_sm per second the account allows, each part of a long message counted (0: unlimited)")
      ->envname("FOREWARN_SMPP_THROUGHPUT")
      ->check(CLI::Range(0.0, 100000.0));
}

// The SMPP session's settings from the --smpp-* flags. INVALID_ARGUMENT /
// FAILED_PRECONDITION naming the flag.
absl::Status FinishSmpp(NotifierConfig& cfg) {
  const auto& f = cfg.smpp_flags;
  const size_t colon = f.host.rfind(':');
  int port = 0;
  if (colon == std::string::npos || colon == 0 || !absl::SimpleAtoi(f.host.substr(colon + 1), &port) || port <= 0 ||
      port > 65535) {
    return absl::InvalidArgumentError(absl::StrCat("--smpp-host: expected HOST:PORT, got '", f.host, "'"));
  }
  if (f.system_id.empty() || f.system_id.size() > 15) {
    return absl::InvalidArgumentError("--smpp-system-id: required, at most 15 characters");
  }
  if (f.system_type.size() > 12) return absl::InvalidArgumentError("--smpp-system-type: at most 12 characters");
  if (f.source_addr.size() > 20) return absl::InvalidArgumentError("--smpp-source-addr: at most 20 characters");
  if (f.password_file.empty()) return absl::InvalidArgumentError("--smpp-password-file: required with --sms-provider smpp");
  std::ifstream in(f.password_file);
  std::string password;
  if (!in.is_open() || !std::getline(in, password)) {
    return absl::FailedPreconditionError(absl::StrCat("--smpp-password-file: ", f.password_file, ": cannot be read"));
  }
  if (!password.empty() && password.back() == '\r') password.pop_back();
  if (password.size() > 8) return absl::InvalidArgumentError("--smpp-password-file: SMPP passwords have at most 8 characters");
  cfg.smpp.host = f.host.substr(0, colon);
  cfg.smpp.port = port;
  cfg.smpp.bind = {f.system_id, password, f.system_type};
  cfg.smpp.window = f.window;
  cfg.smpp.enquire_link = std::chrono::seconds(f.enquire_link_s);
  cfg.smpp.throughput = f.throughput;
  cfg.smpp.timeout = std::chrono::milliseconds(cfg.sms_timeout_ms);
  return absl::OkStatus();
}

void AddBatchFlags(CLI::App& app, NotifierConfig& cfg) {
  app.add_option("--batch-size", cfg.batch_size,
                 "notices per batch (default: 5000 with the file outbox only, else 1000)")
      ->default_str("auto")
      ->check(CLI::Range(1, 10000));
  app.add_option("--record-every", cfg.record_every,
                 "notices claimed, sent and recorded together: at most this many may be sent twice after a crash "
                 "(default: 20 with a network provider, the batch with the file outbox only)")
      ->envname("FOREWARN_RECORD_EVERY")
      ->default_str("auto")
      ->check(CLI::Range(1, 10000));
  app.add_option("--record-interval-ms", cfg.record_interval_ms, "record sends at least this often")
      ->envname("FOREWARN_RECORD_INTERVAL_MS")
      ->check(CLI::Range(10, 60000));
  app.add_option("--lease-ms", cfg.lease_ms,
                 "in-flight notices stay this worker's this long without renewal; a paused worker resumes without "
                 "duplicates if paused for less, a crashed worker's in-flight notices wait this long")
      ->envname("FOREWARN_LEASE_MS")
      ->check(CLI::Range(1000, 3600000));
}

// Batch size and record group defaults (see NotifierConfig).
void DefaultBatching(NotifierConfig& cfg) {
  const bool outbox_only = !SmsProviderConfigured(cfg) && cfg.smtp.url.empty();
  if (cfg.batch_size == 0) {
    cfg.batch_size = outbox_only ? 5000 : 1000;
    for (double rate : {cfg.sms_rate, cfg.email_rate}) {
      if (rate > 0) cfg.batch_size = std::clamp(static_cast<int>(rate * 60), 1, cfg.batch_size);
    }
  }
  if (cfg.record_every == 0) cfg.record_every = outbox_only ? cfg.batch_size : 20;
}

absl::Status CheckChannels(const NotifierConfig& cfg) {
  const bool smpp = cfg.sms_provider == "smpp";
  const bool need_outbox = cfg.smtp.url.empty() || !SmsProviderConfigured(cfg);
  if (need_outbox && cfg.outbox_dir.empty()) {
    return absl::InvalidArgumentError(
        "--outbox-dir is required unless both --smtp-url and an SMS provider (--sms-url, --sms-provider kannel "
        "or smpp) are set");
  }
  if (need_outbox) {
    if (auto s = FileOutboxChannel::Validate(cfg.outbox_dir); !s.ok()) return s;
  }
  if (!cfg.smtp.url.empty()) {
    if (auto s = SmtpChannel::Validate(cfg.smtp); !s.ok()) return s;
  }
  if (smpp && !cfg.sms.url.empty()) {
    return absl::InvalidArgumentError("--sms-url: not used with --sms-provider smpp (set --smpp-host instead)");
  }
  if (smpp) return absl::OkStatus();  // FinishSmpp checked the --smpp-* flags
  if (!cfg.sms.url.empty()) return HttpSmsChannel::Validate(cfg.sms);
  return absl::OkStatus();
}

bool IsHttpBase(const std::string& url) {
  for (std::string_view scheme : {"http://", "https://"}) {
    if (url.rfind(scheme, 0) == 0 && url.size() > scheme.size() && url[scheme.size()] != '/') return true;
  }
  return false;
}

// The one non-empty line of --kannel-password-file.
absl::Status ReadKannelPassword(NotifierConfig& cfg) {
  std::ifstream in(cfg.kannel_password_file);
  if (!in.is_open()) {
    return absl::InvalidArgumentError(absl::StrCat("--kannel-password-file: ", cfg.kannel_password_file,
                                                   " cannot be read"));
  }
  std::string line;
  cfg.kannel.password.clear();
  while (std::getline(in, line)) {
    const std::string value(absl::StripAsciiWhitespace(line));
    if (value.empty()) continue;
    if (!cfg.kannel.password.empty()) {
      return absl::InvalidArgumentError("--kannel-password-file: more than one non-empty line");
    }
    cfg.kannel.password = value;
  }
  if (cfg.kannel.password.empty()) return absl::InvalidArgumentError("--kannel-password-file: the file is empty");
  return absl::OkStatus();
}

// --sms-provider kannel: every Kannel and receipt flag, read and checked.
absl::Status FinishKannel(NotifierConfig& cfg) {
  const std::pair<const char*, const std::string*> required[] = {
      {"--kannel-url", &cfg.kannel.sendsms_url},   {"--kannel-user", &cfg.kannel.username},
      {"--kannel-password-file", &cfg.kannel_password_file}, {"--receipt-url", &cfg.kannel.receipt_url},
      {"--receipt-secret-file", &cfg.receipt_secret_file}};
  if (cfg.sms_provider != "kannel") {
    for (const auto& [flag, value] : required) {
      if (!value->empty()) return absl::InvalidArgumentError(absl::StrCat(flag, ": only with --sms-provider kannel"));
    }
    return absl::OkStatus();
  }
  for (const auto& [flag, value] : required) {
    if (value->empty()) return absl::InvalidArgumentError(absl::StrCat(flag, ": required with --sms-provider kannel"));
  }
  if (!cfg.sms.url.empty()) return absl::InvalidArgumentError("--sms-url: not used with --sms-provider kannel");
  if (!IsHttpBase(cfg.kannel.sendsms_url)) {
    return absl::InvalidArgumentError("--kannel-url: must be http:// or https:// with a host");
  }
  if (!IsHttpBase(cfg.kannel.receipt_url) || cfg.kannel.receipt_url.find_first_of("?#") != std::string::npos) {
    return absl::InvalidArgumentError(
        "--receipt-url: must be http(s)://host:port of the intake's public endpoint, without a query");
  }
  if (auto s = ReadKannelPassword(cfg); !s.ok()) return s;
  auto signer = ReceiptSigner::FromFile(cfg.receipt_secret_file);
  if (!signer.ok()) return absl::InvalidArgumentError(absl::StrCat("--receipt-secret-file: ", signer.status().message()));
  cfg.receipt_signer.emplace(*std::move(signer));
  cfg.kannel.timeout = std::chrono::milliseconds(cfg.sms_timeout_ms);
  cfg.kannel.ca_file = cfg.sms.ca_file;
  if (!cfg.sms.sender.empty()) cfg.kannel.sender = cfg.sms.sender;
  if (auto s = KannelSmsChannel::Validate(cfg.kannel); !s.ok()) return absl::InvalidArgumentError(s.message());
  return absl::OkStatus();
}

}  // namespace

void AddNotifierFlags(CLI::App& app, NotifierConfig& cfg) {
  AddPgFlags(app, cfg.pg);
  AddKafkaFlags(app, cfg.kafka);
  AddGroupFlags(app, cfg.group, "FOREWARN_NOTIFIER_GROUP");
  AddTopicFlags(app, cfg);
  app.add_option("--templates", cfg.templates_dir, "templates directory")->envname("FOREWARN_TEMPLATES");
  app.add_option("--outbox-dir", cfg.outbox_dir,
                 "file outbox (sms.jsonl, email.jsonl) for channels without a provider")
      ->envname("FOREWARN_OUTBOX_DIR");
  app.add_flag("--outbox-compact", cfg.outbox.compact,
               "keep only each notice's message id and a hash of its text in the outbox (benchmarks "
               "of tens of millions of notices)")
      ->envname("FOREWARN_OUTBOX_COMPACT");
  AddSmtpFlags(app, cfg);
  AddSmsFlags(app, cfg);
  AddKannelFlags(app, cfg);
  AddSmppFlags(app, cfg);
  app.add_option("--provider-probe-wait-ms", cfg.provider_probe_wait_ms,
                 "at start-up, wait this long for an unreachable SMTP server or SMS gateway (0: try once)")
      ->envname("FOREWARN_PROVIDER_PROBE_WAIT_MS")
      ->check(CLI::Range(0, 600000));
  AddBatchFlags(app, cfg);
  AddHttpFlags(app, cfg.http);
  AddClockFlags(app, cfg.clock);
  AddPolicyFlags(app, cfg.policy);
  AddOptOutFlags(app, cfg.opt_out);
  app.add_option("--receipt-timeout", cfg.receipt_timeout,
                 "channels whose provider reports deliveries and how long a receipt is awaited before the notice "
                 "escalates to the customer's other channel, e.g. sms=30m,email=4h")
      ->envname("FOREWARN_RECEIPT_TIMEOUT");
  app.add_option("--unsubscribe-url", cfg.unsubscribe_url,
                 "one-click unsubscribe base URL, e.g. https://forewarn.example/u/ (the token is appended); "
                 "needs --unsubscribe-secret-file")
      ->envname("FOREWARN_UNSUBSCRIBE_URL");
  app.add_option("--unsubscribe-secret-file", cfg.unsubscribe_secret_file,
                 "unsubscribe token keys (\"VERSION SECRET\" lines, signing key first; secrets of 32+ bytes), "
                 "the same file as the intake's")
      ->envname("FOREWARN_UNSUBSCRIBE_SECRET_FILE");
  AddNoticeLinkFlags(app, cfg.links);
}

// "sms=30m,email=4h" -> {sms: 30m, email: 4h}.
absl::Status ParseReceiptTimeouts(const std::string& spec, std::map<Channel, absl::Duration>* out) {
  out->clear();
  for (absl::string_view item : absl::StrSplit(spec, ',', absl::SkipWhitespace())) {
    std::pair<absl::string_view, absl::string_view> kv = absl::StrSplit(item, absl::MaxSplits('=', 1));
    auto channel = ParseChannel(std::string(absl::StripAsciiWhitespace(kv.first)));
    absl::Duration d;
    if (!channel.ok() || !absl::ParseDuration(absl::StripAsciiWhitespace(kv.second), &d) ||
        d <= absl::ZeroDuration()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--receipt-timeout: '", item, "' is not CHANNEL=DURATION (sms or email, e.g. sms=30m)"));
    }
    (*out)[*channel] = d;
  }
  return absl::OkStatus();
}
bool SmsProviderConfigured(const NotifierConfig& cfg) { return !cfg.sms.url.empty() || cfg.sms_provider != "http"; }

absl::Status FinishNotifierConfig(NotifierConfig& cfg) {
  DefaultBatching(cfg);
  if (auto s = ToNoticePolicy(cfg.policy, &cfg.notice_policy); !s.ok()) return s;
  if (auto s = ToOptOutCategories(cfg.opt_out, &cfg.opt_out_categories); !s.ok()) return s;
  if (auto s = ParseReceiptTimeouts(cfg.receipt_timeout, &cfg.receipt_timeouts); !s.ok()) return s;
  // Kannel and SMPP report deliveries: without a receipt in an hour, escalate.
  if (cfg.sms_provider != "http") cfg.receipt_timeouts.try_emplace(Channel::kSms, absl::Hours(1));
  if (cfg.unsubscribe_url.empty() != cfg.unsubscribe_secret_file.empty()) {
    return absl::InvalidArgumentError(cfg.unsubscribe_url.empty()
                                          ? "--unsubscribe-url: required with --unsubscribe-secret-file"
                                          : "--unsubscribe-secret-file: required with --unsubscribe-url");
  }
  auto links = ToNoticeLinkSettings(cfg.links, /*code_required=*/true);
  if (!links.ok()) return links.status();
  cfg.notice_links = *std::move(links);
  cfg.sms.timeout = std::chrono::milliseconds(cfg.sms_timeout_ms);
  cfg.smtp.tls = cfg.smtp_tls == "none"       ? SmtpConfig::Tls::kNone
                 : cfg.smtp_tls == "implicit" ? SmtpConfig::Tls::kImplicit
                                              : SmtpConfig::Tls::kStartTls;
  cfg.sms.body = cfg.sms_body == "form" ? HttpSmsConfig::Body::kForm : HttpSmsConfig::Body::kJson;
  for (const auto& f : cfg.sms_fields) {
    const auto eq = f.find('=');
    if (eq == std::string::npos || eq == 0) {
      return absl::InvalidArgumentError(absl::StrCat("--sms-field '", f, "': expected name=template"));
    }
    cfg.sms.fields[f.substr(0, eq)] = f.substr(eq + 1);
  }
  if (auto s = FinishKannel(cfg); !s.ok()) return s;
  if (cfg.sms_provider == "smpp") {
    if (auto s = FinishSmpp(cfg); !s.ok()) return s;
  }
  return CheckChannels(cfg);
}

}  // namespace forewarn
