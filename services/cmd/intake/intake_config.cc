#include "services/cmd/intake/intake_config.h"

#include <tuple>
#include <utility>

#include "CLI/CLI.hpp"

namespace forewarn {
namespace {

void AddPreviewFlags(CLI::App& app, IntakeConfig& cfg) {
  app.add_option("--templates", cfg.templates_dir, "templates directory (for notice previews)")
      ->envname("FOREWARN_TEMPLATES");
  app.add_option("--sms-rate", cfg.sms_rate, "SMS provider rate for completion estimates, messages/s")
      ->envname("FOREWARN_SMS_RATE");
  app.add_option("--email-rate", cfg.email_rate, "SMTP provider rate for completion estimates, messages/s")
      ->envname("FOREWARN_EMAIL_RATE");
}

void AddSecurityFlags(CLI::App& app, IntakeConfig& cfg) {
  app.add_option("--tls-cert", cfg.tls_cert, "server certificate chain (PEM); TLS when given")
      ->envname("FOREWARN_TLS_CERT");
  app.add_option("--tls-key", cfg.tls_key, "server private key (PEM)")->envname("FOREWARN_TLS_KEY");
  app.add_option("--tls-client-ca", cfg.tls_client_ca, "CA bundle (PEM) for client certificates: mutual TLS")
      ->envname("FOREWARN_TLS_CLIENT_CA");
  app.add_option("--auth-tokens", cfg.auth_tokens,
                 "bearer tokens file, lines \"TOKEN ROLE NAME\" (role: viewer|submitter|operator|directory); "
                 "without it authentication is OFF")
      ->envname("FOREWARN_AUTH_TOKENS");
}

void AddConnectionFlags(CLI::App& app, IntakeConfig& cfg) {
  app.add_option("--max-connection-idle", cfg.max_connection_idle, "close gRPC connections without a call this long")
      ->envname("FOREWARN_MAX_CONNECTION_IDLE");
  app.add_option("--max-connection-age", cfg.max_connection_age, "ask any gRPC connection to go away after this long")
      ->envname("FOREWARN_MAX_CONNECTION_AGE");
  app.add_option("--max-connection-age-grace", cfg.max_connection_age_grace,
                 "time left to calls in flight on a connection asked to go away")
      ->envname("FOREWARN_MAX_CONNECTION_AGE_GRACE");
  app.add_option("--handshake-timeout", cfg.handshake_timeout,
                 "close connections that have not completed TLS and HTTP/2 set-up within this")
      ->envname("FOREWARN_HANDSHAKE_TIMEOUT");
  app.add_option("--keepalive-time", cfg.keepalive_time, "ping a silent peer with calls in flight after this")
      ->envname("FOREWARN_KEEPALIVE_TIME");
  app.add_option("--keepalive-timeout", cfg.keepalive_timeout, "drop a peer that does not answer a ping within this")
      ->envname("FOREWARN_KEEPALIVE_TIMEOUT");
  app.add_option("--fd-headroom", cfg.fd_headroom,
                 "open files kept free for the database, Kafka and files: connections beyond are closed at once")
      ->envname("FOREWARN_FD_HEADROOM");
}

// The flags' durations as the domain's and the server's plain values;
// INVALID_ARGUMENT naming the flag.
absl::Status ParseLimits(const IntakeConfig& cfg, ValidationLimits* validation, ConnectionLimits* connections) {
  const std::tuple<const char*, const std::string&, absl::Duration*> durations[] = {
      {"--max-backdate", cfg.max_backdate, &validation->max_backdate},
      {"--max-connection-idle", cfg.max_connection_idle, &connections->max_idle},
      {"--max-connection-age", cfg.max_connection_age, &connections->max_age},
      {"--max-connection-age-grace", cfg.max_connection_age_grace, &connections->max_age_grace},
      {"--handshake-timeout", cfg.handshake_timeout, &connections->handshake_timeout},
      {"--keepalive-time", cfg.keepalive_time, &connections->keepalive_time},
      {"--keepalive-timeout", cfg.keepalive_timeout, &connections->keepalive_timeout}};
  for (const auto& [flag, text, out] : durations) {
    if (auto s = ParseDurationFlag(flag, text, out); !s.ok()) return s;
  }
  connections->fd_headroom = cfg.fd_headroom;
  return CheckConnectionLimits(*connections);
}

void AddPublicFlags(CLI::App& app, IntakeConfig& cfg) {
  app.add_option("--public-listen", cfg.public_listen,
                 "public HTTP endpoint (one-click unsubscribe /u/, SMS gateway webhook /sms/inbound, receipts /receipts)")
      ->envname("FOREWARN_PUBLIC_LISTEN");
  app.add_option("--public-port-file", cfg.public_port_file, "write the public endpoint's port here once serving");
  app.add_option("--unsubscribe-secret-file", cfg.unsubscribe_secret_file,
                 "unsubscribe token keys (\"VERSION SECRET\" lines, signing key first; secrets of 32+ bytes), "
                 "the same file as the notifiers'")
      ->envname("FOREWARN_UNSUBSCRIBE_SECRET_FILE");
  app.add_option("--inbound-sms-secret-file", cfg.inbound_sms_secret_file,
                 "shared secret (16+ bytes) the SMS gateway sends as ?key= or Authorization: Bearer")
      ->envname("FOREWARN_INBOUND_SMS_SECRET_FILE");
  app.add_option("--receipt-secret-file", cfg.receipt_secret_file,
                 "key (one line, 32+ bytes) that signs delivery receipt callbacks (/receipts/kannel, /receipts), "
                 "the same file as the notifiers'")
      ->envname("FOREWARN_RECEIPT_SECRET_FILE");
}

}  // namespace

void AddIntakeFlags(CLI::App& app, IntakeConfig& cfg) {
  AddPgFlags(app, cfg.pg);
  AddPgReadFlags(app, cfg.pg_read);
  AddKafkaFlags(app, cfg.kafka);
  app.add_option("--listen", cfg.listen, "gRPC listen address (port 0: chosen at run time)")
      ->envname("FOREWARN_LISTEN");
  app.add_option("--port-file", cfg.port_file, "write the bound port here once serving");
  app.add_option("--events-topic", cfg.events_topic)->envname("FOREWARN_EVENTS_TOPIC");
  app.add_option("--notices-topic", cfg.notices_topic)->envname("FOREWARN_NOTICES_TOPIC");
  app.add_option("--dlq-topic", cfg.dlq_topic, "dead-letter topic (ListDeadLetters, ReplayDeadLetters)")
      ->envname("FOREWARN_DLQ_TOPIC");
  app.add_option("--relay-lease-ms", cfg.relay_lease_ms,
                 "outbox relay leadership lease; a crashed leader's successor takes over within it")
      ->envname("FOREWARN_RELAY_LEASE_MS")
      ->check(CLI::Range(500, 600000));
  app.add_option("--outbox-poll-ms", cfg.outbox_poll_ms,
                 "how often the relay looks for new outbox rows under transaction pooling (no LISTEN there)")
      ->envname("FOREWARN_OUTBOX_POLL_MS")
      ->check(CLI::Range(10, 60000));
  AddClockFlags(app, cfg.clock);
  AddPolicyFlags(app, cfg.policy);
  AddOptOutFlags(app, cfg.opt_out);
  AddPreviewFlags(app, cfg);
  AddNoticeLinkFlags(app, cfg.links);
  AddSecurityFlags(app, cfg);
  AddHttpFlags(app, cfg.http);
  app.add_option("--backlog-refresh-seconds", cfg.backlog_refresh_seconds, "outbox backlog gauge refresh period")
      ->check(CLI::Range(1, 3600));
  app.add_option("--max-backdate", cfg.max_backdate,
                 "refuse unplanned outages that started longer ago than this (e.g. 168h)")
      ->envname("FOREWARN_MAX_BACKDATE");
  AddConnectionFlags(app, cfg);
  AddPublicFlags(app, cfg);
}

absl::Status FinishIntakeConfig(IntakeConfig& cfg) {
  if (auto s = ToNoticePolicy(cfg.policy, &cfg.notice_policy); !s.ok()) return s;
  if (auto s = ToOptOutCategories(cfg.opt_out, &cfg.opt_out_categories); !s.ok()) return s;
  auto links = ToNoticeLinkSettings(cfg.links, /*code_required=*/false);
  if (!links.ok()) return links.status();
  cfg.notice_links = *std::move(links);
  return ParseLimits(cfg, &cfg.validation_limits, &cfg.connection_limits);
}

}  // namespace forewarn
