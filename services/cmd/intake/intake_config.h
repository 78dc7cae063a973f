#pragma once

// forewarn-intake's configuration: its flags and what is derived from them
// once parsed.

#include <set>
#include <string>

#include "absl/status/status.h"
#include "services/api/guarded_listener.h"
#include "services/core/notice_policy.h"
#include "services/core/validation.h"
#include "services/core/notice_links.h"
#include "services/runtime/notice_link_flags.h"
#include "services/runtime/pg_flags.h"
#include "services/runtime/policy_flags.h"
#include "services/runtime/service_flags.h"

namespace CLI {
class App;
}

namespace forewarn {

struct IntakeConfig {
  PgFlags pg;
  PgReadFlags pg_read;  // reports, completeness, proof and preview counts may read from a replica
  KafkaFlags kafka;
  std::string listen = "127.0.0.1:0";
  std::string port_file;
  std::string events_topic = "forewarn.events";
  std::string notices_topic = "forewarn.notices";  // dead-letter replays go here
  std::string dlq_topic = "forewarn.notices.dlq";
  int relay_lease_ms = 10000;
  int outbox_poll_ms = 250;
  ClockFlags clock;
  PolicyFlags policy;
  OptOutFlags opt_out;  // the customer directory's policy
  // For notice previews: templates, SMS budgets, provider rates.
  std::string templates_dir = "templates";
  double sms_rate = 0;
  double email_rate = 0;
  // The status link and code previews show, as the notifiers send them
  // (their flags; optional here: without them previews show neither).
  NoticeLinkFlags links;
  // Security: TLS (mutual when a client CA is given) and bearer tokens.
  std::string tls_cert;
  std::string tls_key;
  std::string tls_client_ca;
  std::string auth_tokens;
  // Observability: /metrics, /healthz, /readyz.
  HttpFlags http;
  int backlog_refresh_seconds = 5;
  // Request validation: how far back an outage's start may be dated.
  std::string max_backdate = "168h";
  // Connection lifetimes and descriptor headroom (see ConnectionLimits).
  std::string max_connection_idle = "5m";
  std::string max_connection_age = "30m";
  std::string max_connection_age_grace = "5m";
  std::string handshake_timeout = "10s";
  std::string keepalive_time = "2m";
  std::string keepalive_timeout = "20s";
  int fd_headroom = 64;
  // The public HTTP endpoint: one-click unsubscribe and the SMS gateway's
  // inbound webhook, delivery receipts (on when any secret file is given).
  std::string public_listen = "127.0.0.1:0";
  std::string public_port_file;
  std::string unsubscribe_secret_file;
  std::string inbound_sms_secret_file;
  // Delivery receipts (/receipts/kannel, /receipts): the key that signs
  // their callbacks, the same file as the notifiers' --receipt-secret-file.
  std::string receipt_secret_file;

  // Derived by FinishIntakeConfig.
  NoticeLinkSettings notice_links;
  NoticePolicy notice_policy;
  std::set<NoticeCategory> opt_out_categories;
  ValidationLimits validation_limits;
  ConnectionLimits connection_limits;
};

void AddIntakeFlags(CLI::App& app, IntakeConfig& cfg);

// Fills the derived fields; INVALID_ARGUMENT naming the flag at fault.
absl::Status FinishIntakeConfig(IntakeConfig& cfg);

}  // namespace forewarn
