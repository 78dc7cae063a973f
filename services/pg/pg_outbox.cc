#include <algorithm>
#include <memory>
#include <thread>

#include "absl/strings/str_cat.h"
#include "services/pg/pg_lease.h"
#include "services/pg/pg_pool.h"
#include "services/pg/pg_store.h"
#include "spdlog/spdlog.h"

namespace forewarn {
namespace {

constexpr char kRelayLease[] = "outbox_relay";
constexpr char kFetch[] =
    "SELECT id, incident_id::text, version, notice_kind, occasion FROM outbox WHERE published_at IS NULL "
    "ORDER BY id LIMIT $1";
constexpr char kMarkPublished[] = "UPDATE outbox SET published_at = now() WHERE id = ANY($1::bigint[])";

class IgnoreNotifications final : public pqxx::notification_receiver {
 public:
  explicit IgnoreNotifications(pqxx::connection_base& c) : pqxx::notification_receiver(c, "forewarn_outbox") {}
  void operator()(const std::string&, int) override {}
};

}  // namespace

// One dedicated connection. In session mode it also holds the LISTEN
// registration (a broken connection drops it; it is made again). Leadership
// is the "outbox_relay" lease, valid whatever the pooling mode.
struct PgOutboxSource::Impl {
  PgEndpoint db;
  PgOutboxOptions options;
  pg::PgLease lease;
  std::unique_ptr<pqxx::connection> conn;
  std::unique_ptr<IgnoreNotifications> receiver;

  Impl(PgEndpoint d, PgOutboxOptions o)
      : db(std::move(d)),
        options(std::move(o)),
        lease(pg::PgLease::Options{kRelayLease, options.holder, options.lease, options.monotonic}) {}

  bool listens() const { return db.pooling == PgPooling::kSession; }

  void Drop() {
    receiver.reset();
    conn.reset();
  }

  absl::Status Guard(const std::string& op, const std::function<absl::Status()>& fn) {
    try {
      if (!conn || !conn->is_open()) {
        Drop();
        conn = std::make_unique<pqxx::connection>(db.uri);
        if (listens()) receiver = std::make_unique<IgnoreNotifications>(*conn);
      }
      return fn();
    } catch (const std::exception&) {
      auto status = pg::StatusFromException(op);
      if (conn && !conn->is_open()) Drop();
      return status;
    }
  }
};

PgOutboxSource::PgOutboxSource(PgEndpoint db, PgOutboxOptions options)
    : impl_(std::make_unique<Impl>(std::move(db), std::move(options))) {}

PgOutboxSource::~PgOutboxSource() {
  // A clean stop hands leadership over at once instead of after expiry.
  if (impl_->conn && impl_->conn->is_open()) {
    try {
      impl_->lease.Release(*impl_->conn);
    } catch (const std::exception& e) {
      spdlog::warn("event=lease_release_failed lease={} error=\"{}\"", kRelayLease, e.what());
    }
  }
}

absl::StatusOr<std::vector<IncidentEvent>> PgOutboxSource::FetchUnpublished(int limit) {
  std::vector<IncidentEvent> events;
  auto status = impl_->Guard("outbox fetch", [&]() -> absl::Status {
    if (!impl_->lease.Hold(*impl_->conn)) return absl::OkStatus();  // another relay leads
    pqxx::read_transaction tx(*impl_->conn);
    for (const auto& r : tx.exec_params(kFetch, limit)) {
      IncidentEvent e;
      e.outbox_id = r[0].as<int64_t>();
      e.incident_id = r[1].as<std::string>();
      e.version = r[2].as<int64_t>();
      auto kind = ParseNoticeKind(r[3].as<std::string>());
      if (!kind.ok()) return kind.status();
      e.notice_kind = *kind;
      e.occasion = r[4].as<std::string>();
      events.push_back(std::move(e));
    }
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  return events;
}

absl::Status PgOutboxSource::MarkPublished(const std::vector<int64_t>& outbox_ids) {
  return impl_->Guard("outbox mark published", [&]() -> absl::Status {
    pqxx::work tx(*impl_->conn);
    tx.exec_params(kMarkPublished, pg::IntArray(outbox_ids));
    tx.commit();
    return absl::OkStatus();
  });
}

absl::Status PgOutboxSource::WaitForNew(absl::Duration max) {
  // Never past the moment the lease must be renewed.
  const absl::Duration renew = impl_->lease.UntilRenewal();
  if (renew > absl::ZeroDuration()) max = std::min(max, renew);
  if (!impl_->listens()) {
    // Transaction pooling: a LISTEN would register on whichever server
    // connection ran it, so poll instead.
    absl::SleepFor(std::min(max, impl_->options.poll_interval));
    return absl::OkStatus();
  }
  return impl_->Guard("outbox wait", [&]() -> absl::Status {
    const int64_t us = absl::ToInt64Microseconds(max);
    impl_->conn->await_notification(us / 1000000, us % 1000000);
    return absl::OkStatus();
  });
}

}  // namespace forewarn
