#include <optional>

#include "absl/strings/str_cat.h"
#include "services/pg/pg_pool.h"
#include "services/pg/pg_store.h"
#include "spdlog/spdlog.h"

namespace forewarn {
namespace {

// Due rows, locked so that concurrent schedulers each take different ones.
constexpr char kSelectDue[] =
    "SELECT s.id, s.incident_id::text, s.version, s.notice_kind, s.occasion, i.version, i.state, "
    "  " FW_TS("s.due_at") ", i.kind "
    "FROM scheduled_notices s JOIN incidents i ON i.id = s.incident_id "
    "WHERE s.state = 'pending' AND s.due_at <= " FW_AT("$1") " "
    "ORDER BY s.due_at, s.id LIMIT $2 FOR UPDATE OF s SKIP LOCKED";
constexpr char kSettle[] =
    "UPDATE scheduled_notices SET state = $2, settled_at = " FW_AT("$3") " WHERE id = $1";
// A maintenance completing on schedule closes the incident as of $3 (the
// new version is recorded with pg::CommitVersion).
constexpr char kCloseOnSchedule[] =
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

// A row of kSelectDue; nullopt (logged) when it names an unknown kind or state.
std::optional<DueNotice> ReadDue(const pqxx::row& r) {
  auto kind = ParseNoticeKind(r[3].as<std::string>());
  auto incident_kind = ParseIncidentKind(r[8].as<std::string>());
  auto state = ParseIncidentState(r[6].as<std::string>());
  if (!kind.ok() || !incident_kind.ok() || !state.ok()) {
    spdlog::error("event=bad_scheduled_notice id={}", r[0].as<int64_t>());
    return std::nullopt;
  }
  DueNotice due;
  due.incident_id = r[1].as<std::string>();
  due.version = r[2].as<int64_t>();
  due.kind = *kind;
  due.occasion = r[4].as<std::string>();
  due.due_at = pg::FromMicros(r[7].as<int64_t>());
  due.incident_kind = *incident_kind;
  due.current_version = r[5].as<int64_t>();
  due.current_state = *state;
  return due;
}

// Carries out `action` for `due` (scheduled row `id`); true when released or
// closed, false when cancelled.
bool Settle(pqxx::work& tx, int64_t id, const DueNotice& due, const DueNoticeAction& action, absl::Time now) {
  const int64_t now_us = pg::ToMicros(now);
  switch (action.what) {
    case DueNoticeAction::Do::kCancel:
      break;
    case DueNoticeAction::Do::kRelease:
      tx.exec_params(pg::kQueueNotice, due.incident_id, due.version, ToString(due.kind), due.occasion, now_us);
      tx.exec_params(kSettle, id, "released", now_us);
      return true;
    case DueNoticeAction::Do::kClose:
      if (tx.exec_params(kCloseOnSchedule, due.incident_id, due.version, pg::ToMicros(action.closed_at)).empty()) {
        break;  // closed meanwhile
      }
      pg::CommitVersion(tx, due.incident_id, Change::kResolved, action.plan, now, action.audit);
      tx.exec_params(kSettle, id, "released", now_us);
      return true;
  }
  tx.exec_params(kSettle, id, "cancelled", now_us);
  return false;
}

}  // namespace

PgNoticeScheduler::PgNoticeScheduler(PgDatabase db) : pool_(db.pool()) {}
PgNoticeScheduler::~PgNoticeScheduler() = default;

absl::StatusOr<int> PgNoticeScheduler::ReleaseDue(absl::Time now, int limit, const DueNoticeDecision& decide) {
  int released = 0;
  auto status = pool_->Run([&](pqxx::connection& c) -> absl::Status {
    released = 0;
    pqxx::work tx(c);
    for (const auto& r : tx.exec_params(kSelectDue, pg::ToMicros(now), limit)) {
      const auto due = ReadDue(r);
      // An unreadable row (logged) is cancelled rather than retried forever.
      const DueNoticeAction action = due ? decide(*due) : DueNoticeAction{};
      if (Settle(tx, r[0].as<int64_t>(), due.value_or(DueNotice{}), action, now)) ++released;
    }
    if (released > 0) tx.exec0("NOTIFY forewarn_outbox");
    tx.commit();
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  return released;
}
PgHeldNotices::PgHeldNotices(PgDatabase db) : pool_(db.pool()) {}
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
