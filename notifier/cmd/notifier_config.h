#pragma once

// forewarn-notifier's configuration: its flags and the checks and defaults
// applied once they are parsed.

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "notifier/channels/file_outbox_channel.h"
#include "notifier/channels/http_sms_channel.h"
#include "notifier/channels/kannel_sms_channel.h"
#include "notifier/channels/smtp_channel.h"
#include "notifier/smpp/smpp_session.h"
#include "services/core/notice_policy.h"
#include "services/core/notice_links.h"
#include "services/runtime/notice_link_flags.h"
#include "services/runtime/pg_flags.h"
#include "services/runtime/policy_flags.h"
#include "services/runtime/service_flags.h"

namespace CLI {
class App;
}

namespace forewarn {

struct NotifierConfig {
  PgFlags pg;
  KafkaFlags kafka;
  GroupFlags group{.group = "forewarn-notifier", .instance_id = ""};
  std::string notices_topic = "forewarn.notices";
  std::string retry_topic = "forewarn.notices.retry";
  std::string dlq_topic = "forewarn.notices.dlq";
  int max_attempts = 5;
  int retry_backoff_ms = 2000;
  int retry_backoff_max_ms = 300000;
  std::string templates_dir = "templates";
  std::string outbox_dir;  // file outbox for channels without a provider
  // The outbox keeps the notice (full) or only its id and hash (compact: benchmarks).
  FileOutboxOptions outbox;
  // Email over SMTP when smtp.url is set.
  SmtpConfig smtp;
  std::string smtp_tls = "starttls";
  // SMS over an HTTP gateway when sms.url is set.
  HttpSmsConfig sms;
  std::string sms_body = "json";
  std::vector<std::string> sms_fields;  // name=template
  int sms_timeout_ms = 5000;
  // Which SMS provider: "http" (the gateway at --sms-url, or the file
  // outbox without one), "kannel" (Kannel's sendsms with delivery reports to
  // --receipt-url, which needs every --kannel-* flag, --receipt-url and
  // --receipt-secret-file) or "smpp" (a direct SMPP account, --smpp-*).
  std::string sms_provider = "http";
  KannelSmsConfig kannel;  // password and signer filled by FinishNotifierConfig
  std::string kannel_password_file;
  std::string receipt_secret_file;
  std::optional<ReceiptSigner> receipt_signer;  // from receipt_secret_file (kannel)
  struct SmppFlags {
    std::string host;  // HOST:PORT
    std::string system_id;
    std::string password_file;  // the password is the file's first line
    std::string system_type;
    std::string source_addr;  // sender: digits (international) or alphanumeric
    int window = 10;
    int enquire_link_s = 30;
    double throughput = 0;  // submit_sm per second, every part counted (0: unlimited)
  } smpp_flags;
  smpp::SessionConfig smpp;  // from smpp_flags (password read), by FinishNotifierConfig
  // Provider rate limits, messages per second (0: unlimited).
  double sms_rate = 0;
  double email_rate = 0;
  // Notices per batch (one claim, one outbox write, one ledger write).
  // Default: 5000 when every channel is the local file outbox, 1000 with a
  // network provider (a send is a round trip); a rate-limited channel caps
  // it at a minute of its rate. A batch must finish well within librdkafka's
  // max.poll.interval.ms (5 minutes) or the group rebalances.
  int batch_size = 0;
  // Sends recorded in groups of at most this many (0: 20 with a network
  // provider, the whole batch with the file outbox only, which a restarted
  // worker can ask what it already has): a crash re-sends at most this many
  // per worker.
  int record_every = 0;
  int record_interval_ms = 200;  // and at least this often
  int lease_ms = 60000;          // how long in-flight notices stay this worker's without renewal
  // How long a provider that cannot be reached at start-up is waited for
  // (a configuration fault stops the start at once).
  int provider_probe_wait_ms = 30000;
  HttpFlags http;
  ClockFlags clock;
  PolicyFlags policy;
  NoticePolicy notice_policy;  // from `policy`, by FinishNotifierConfig
  // One-click unsubscribe (RFC 8058): emails of the categories customers may
  // turn off carry List-Unsubscribe with this URL followed by a token signed
  // with the secret file's key (both flags or neither).
  std::string unsubscribe_url;
  std::string unsubscribe_secret_file;
  // Channels whose provider reports deliveries, "CHANNEL=DURATION,...",
  // e.g. "sms=30m,email=4h": a notice sent there without a receipt by then
  // (earlier when its deadline needs it) escalates to the customer's other
  // channel. A channel not listed sets no timer (its receipts, when they
  // come, still count); SMS through Kannel or SMPP defaults to sms=1h.
  std::string receipt_timeout;
  std::map<Channel, absl::Duration> receipt_timeouts;  // from receipt_timeout, by FinishNotifierConfig
  // The status link and verification code of every notice (issue 19): the
  // code secret is required, the link optional (--status-base-url).
  NoticeLinkFlags links;
  NoticeLinkSettings notice_links;  // from `links`, by FinishNotifierConfig
  OptOutFlags opt_out;                          // must match the intake's
  std::set<NoticeCategory> opt_out_categories;  // from `opt_out`, by FinishNotifierConfig
};

void AddNotifierFlags(CLI::App& app, NotifierConfig& cfg);

// True when SMS go to a provider (an HTTP gateway or Kannel), not the file outbox.
bool SmsProviderConfigured(const NotifierConfig& cfg);

// Derives what the flags leave open (batch size, record group, policy, SMTP
// TLS mode, SMS body and fields) and checks the channels' settings.
// INVALID_ARGUMENT naming the flag at fault.
absl::Status FinishNotifierConfig(NotifierConfig& cfg);

}  // namespace forewarn
