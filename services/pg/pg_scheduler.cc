#include "absl/strings/str_cat.h"
#include "services/pg/pg_pool.h"
#include "services/pg/pg_store.h"
#include "spdlog/spdlog.h"

namespace forewarn {
namespace {

// Due rows, locked so that concurrent schedulers each take different ones.
constexpr char kSelectDue[] =
    "SELECT s.id, s.incident_id::text, s.version, s.notice_kind, s.occasion, i.version, i.state, "
    "  " FW_TS("s.due_at") " "
    "FROM scheduled_notices s JOIN incidents i ON i.id = s.incident_id "
    "WHERE s.state = 'pending' AND s.due_at <= " FW_AT("$1") " "
    "ORDER BY s.due_at, s.id LIMIT $2 FOR UPDATE OF s SKIP LOCKED";
constexpr char kSettle[] =
    "UPDATE scheduled_notices SET state = $2, settled_at = " FW_AT("$3") " WHERE id = $1";
// A maintenance completing on schedule closes the incident: a new version.
constexpr char kCompleteOnSchedule[] =
    "UPDATE incidents SET version = version + 1, state = 'resolved', resolved_at = " FW_AT("$3") ", "
    "  updated_at = " FW_AT("$3") " "
    "WHERE id = $1::uuid AND version = $2 AND state = 'open' RETURNING version";

constexpr char kFetchHeld[] =
    "SELECT id, incident_id::text, version, notice_kind, occasion, customer_id, channel, address, locale, "
    "  time_zone, name, role, holds FROM held_notices "
    "WHERE released_at IS NULL AND release_at <= " FW_AT("$1") " ORDER BY release_at, id LIMIT $2";
// Only the hold that was fetched: one made since then stays due.
constexpr char kMarkHeldReleased[] =
    "UPDATE held_notices h SET released_at = " FW_AT("$3") " "
    "FROM unnest($1::bigint[], $2::int[]) AS k(id, holds) WHERE h.id = k.id AND h.holds = k.holds";

}  // namespace

PgNoticeScheduler::PgNoticeScheduler(PgEndpoint db) : pool_(std::make_unique<pg::PgPool>(std::move(db), 1)) {}
PgNoticeScheduler::~PgNoticeScheduler() = default;

absl::StatusOr<int> PgNoticeScheduler::ReleaseDue(absl::Time now, int limit) {
  int released = 0;
  auto status = pool_->Run([&](pqxx::connection& c) -> absl::Status {
    released = 0;
    pqxx::work tx(c);
    const int64_t now_us = pg::ToMicros(now);
    for (const auto& r : tx.exec_params(kSelectDue, now_us, limit)) {
      const auto id = r[0].as<int64_t>();
      const auto incident = r[1].as<std::string>();
      const auto version = r[2].as<int64_t>();
      const auto kind = r[3].as<std::string>();
      const auto occasion = r[4].as<std::string>();
      const bool current = r[5].as<int64_t>() == version && r[6].as<std::string>() == "open";
      const auto due_us = r[7].as<int64_t>();
      if (!current) {
        // The incident moved on after this was planned: its newer version
        // planned what is still relevant.
        tx.exec_params(kSettle, id, "cancelled", now_us);
        continue;
      }
      int64_t notice_version = version;
      if (kind == ToString(NoticeKind::kMaintenanceCompleted)) {
        auto closed = tx.exec_params(kCompleteOnSchedule, incident, version, due_us);
        if (closed.empty()) {
          tx.exec_params(kSettle, id, "cancelled", now_us);
          continue;
        }
        notice_version = closed[0][0].as<int64_t>();
        // Same snapshot the store writes; actor and summary as the column defaults.
        tx.exec_params(pg::kSnapshotVersion, incident, std::string(ToString(Change::kResolved)), "system", "");
        tx.exec_params(pg::kCancelPendingNotices, incident, now_us);
      }
      tx.exec_params(pg::kQueueNotice, incident, notice_version, kind, occasion, now_us);
      tx.exec_params(kSettle, id, "released", now_us);
      ++released;
    }
    if (released > 0) tx.exec0("NOTIFY forewarn_outbox");
    tx.commit();
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  return released;
}

PgHeldNotices::PgHeldNotices(PgEndpoint db) : pool_(std::make_unique<pg::PgPool>(std::move(db), 1)) {}
PgHeldNotices::~PgHeldNotices() = default;

absl::StatusOr<std::vector<HeldNotices::Held>> PgHeldNotices::FetchDue(absl::Time now, int limit) {
  std::vector<Held> out;
  auto status = pool_->Run([&](pqxx::connection& c) -> absl::Status {
    out.clear();
    pqxx::read_transaction tx(c);
    for (const auto& r : tx.exec_params(kFetchHeld, pg::ToMicros(now), limit)) {
      Held h;
      h.id = r[0].as<int64_t>();
      h.job.incident_id = r[1].as<std::string>();
      h.job.version = r[2].as<int64_t>();
      auto kind = ParseNoticeKind(r[3].as<std::string>());
      auto channel = ParseChannel(r[6].as<std::string>());
      if (!kind.ok() || !channel.ok()) {
        spdlog::error("event=bad_held_notice id={}", h.id);
        continue;
      }
      h.job.kind = *kind;
      h.job.occasion = r[4].as<std::string>();
      h.job.recipient.customer_id = r[5].as<int64_t>();
      h.job.recipient.channel = *channel;
      h.job.recipient.address = r[7].as<std::string>();
      h.job.recipient.locale = r[8].as<std::string>();
      h.job.recipient.time_zone = r[9].as<std::string>();
      h.job.recipient.name = r[10].as<std::string>();
      h.job.recipient.role = ParseAudienceRole(r[11].as<std::string>());
      h.hold = r[12].as<int64_t>();
      out.push_back(std::move(h));
    }
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  return out;
}

absl::Status PgHeldNotices::MarkReleased(const std::vector<Held>& released, absl::Time now) {
  std::vector<int64_t> ids, holds;
  for (const Held& h : released) {
    ids.push_back(h.id);
    holds.push_back(h.hold);
  }
  return pool_->Run([&](pqxx::connection& c) -> absl::Status {
    pqxx::work tx(c);
    tx.exec_params(kMarkHeldReleased, pg::IntArray(ids), pg::IntArray(holds), pg::ToMicros(now));
    tx.commit();
    return absl::OkStatus();
  });
}

}  // namespace forewarn
