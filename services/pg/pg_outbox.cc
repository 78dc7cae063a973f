#include <memory>

#include "absl/strings/str_cat.h"
#include "services/pg/pg_pool.h"
#include "services/pg/pg_store.h"
#include "spdlog/spdlog.h"

namespace forewarn {
namespace {

// Any fixed 64-bit number; identifies the relay leader lock.
constexpr int64_t kRelayLockId = 0x466f726577617201;  // "Forewar\x01"
constexpr char kTryLock[] = "SELECT pg_try_advisory_lock($1)";
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

// One dedicated connection: it holds the session-level leader lock and the
// LISTEN registration. A broken connection drops both; they are re-acquired.
struct PgOutboxSource::Impl {
  std::string uri;
  std::unique_ptr<pqxx::connection> conn;
  std::unique_ptr<IgnoreNotifications> receiver;
  bool leader = false;

  absl::Status Guard(const std::string& op, const std::function<absl::Status()>& fn) {
    try {
      if (!conn || !conn->is_open()) {
        receiver.reset();
        conn.reset();
        leader = false;
        conn = std::make_unique<pqxx::connection>(uri);
        receiver = std::make_unique<IgnoreNotifications>(*conn);
      }
      return fn();
    } catch (const std::exception&) {
      auto status = pg::StatusFromException(op);
      if (conn && !conn->is_open()) {
        receiver.reset();
        conn.reset();
        leader = false;
      }
      return status;
    }
  }
};

PgOutboxSource::PgOutboxSource(std::string uri) : impl_(std::make_unique<Impl>()) { impl_->uri = std::move(uri); }
PgOutboxSource::~PgOutboxSource() = default;

absl::StatusOr<std::vector<IncidentEvent>> PgOutboxSource::FetchUnpublished(int limit) {
  std::vector<IncidentEvent> events;
  auto status = impl_->Guard("outbox fetch", [&]() -> absl::Status {
    if (!impl_->leader) {
      pqxx::nontransaction tx(*impl_->conn);
      impl_->leader = tx.exec_params1(kTryLock, kRelayLockId)[0].as<bool>();
      if (!impl_->leader) return absl::OkStatus();  // another relay leads
      spdlog::info("event=outbox_relay_leader acquired=true");
    }
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
  return impl_->Guard("outbox wait", [&]() -> absl::Status {
    const int64_t us = absl::ToInt64Microseconds(max);
    impl_->conn->await_notification(us / 1000000, us % 1000000);
    return absl::OkStatus();
  });
}

}  // namespace forewarn
