#include "services/pg/pg_proof_source.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "services/pg/pg_pool.h"
#include "services/pg/pg_read.h"

namespace forewarn {
namespace {

constexpr char kIncidentExists[] = "SELECT count(*) FROM incidents WHERE id = $1::uuid";

// $1 incident, $2 kind ('' for every kind), $3 occasion ('' for every one).
// Ordered as the proof lists them: one notice's channels together, SMS
// first. The primary key (incident, customer, ...) gives the customer order;
// the rest is sorted per customer (an incremental sort: no sort of the
// whole incident).
constexpr char kDeclare[] =
    "DECLARE proof NO SCROLL CURSOR FOR "
    "SELECT customer_id, incident_version, notice_kind, occasion, channel, state, " FW_TS("updated_at") ", "
    FW_TS("deadline_at") ", coalesce(" FW_TS("receipt_at") ", -1), coalesce(escalated_to, '') "
    "FROM notice_ledger "
    "WHERE incident_epoch = forewarn_incident_epoch($1::uuid) AND incident_id = $1::uuid "
    "  AND deadline_at IS NOT NULL AND state <> 'superseded' "
    "  AND ($2::text = '' OR notice_kind = $2::text) AND ($3::text = '' OR occasion = $3::text) "
    "ORDER BY customer_id, incident_version, notice_kind, occasion, channel = 'email'";

// A row whose kind, channel or state this build does not know is a
// corrupt ledger (the schema's checks allow none): INTERNAL naming it.
absl::Status ReadRow(const pqxx::row& r, ProofRow& out) {
  auto kind = ParseNoticeKind(r[2].as<std::string>());
  auto channel = ParseChannel(r[4].as<std::string>());
  auto state = ParseNoticeState(r[5].as<std::string>());
  if (!kind.ok() || !channel.ok() || !state.ok()) {
    return absl::InternalError(absl::StrCat("notice_ledger: unreadable row of customer ", r[0].as<int64_t>()));
  }
  out.customer_id = r[0].as<int64_t>();
  out.version = r[1].as<int64_t>();
  out.kind = *kind;
  out.occasion = r[3].as<std::string>();
  out.channel = *channel;
  out.state = *state;
  out.updated_at = pg::FromMicros(r[6].as<int64_t>());
  out.deadline = pg::FromMicros(r[7].as<int64_t>());
  const int64_t receipt = r[8].as<int64_t>();
  out.receipt_at = receipt == -1 ? std::nullopt : std::optional(pg::FromMicros(receipt));
  const std::string escalated = r[9].as<std::string>();
  out.escalated_to.reset();
  if (!escalated.empty()) {
    auto to = ParseChannel(escalated);
    if (!to.ok()) return absl::InternalError(absl::StrCat("notice_ledger: unreadable escalated_to '", escalated, "'"));
    out.escalated_to = *to;
  }
  return absl::OkStatus();
}

}  // namespace

PgProofSource::PgProofSource(PgDatabase db, int fetch_size) : reads_(db.reads()), fetch_size_(fetch_size) {}
PgProofSource::~PgProofSource() = default;

absl::Status PgProofSource::Stream(const ProofQuery& query, const std::function<absl::Status(const ProofRow&)>& fn) {
  const std::string fetch = absl::StrCat("FETCH FORWARD ", fetch_size_, " FROM proof");
  return reads_->CaughtUp("proof")->Run([&](pqxx::connection& c) -> absl::Status {
    pqxx::transaction<pqxx::repeatable_read, pqxx::read_only> tx(c);
    if (tx.exec_params1(kIncidentExists, query.incident_id)[0].as<int64_t>() == 0) {
      return absl::NotFoundError(absl::StrCat("incident ", query.incident_id, " not found"));
    }
    tx.exec0("SET LOCAL jit = off");  // a stream gains nothing from JIT compilation
    tx.exec_params0(kDeclare, query.incident_id, query.notice_kind, query.occasion);
    ProofRow row;
    while (true) {
      const pqxx::result rows = tx.exec(fetch);
      if (rows.empty()) break;
      for (const auto& r : rows) {
        if (auto s = ReadRow(r, row); !s.ok()) return s;
        if (auto s = fn(row); !s.ok()) return s;
      }
    }
    tx.exec0("CLOSE proof");
    tx.commit();
    return absl::OkStatus();
  });
}

}  // namespace forewarn
