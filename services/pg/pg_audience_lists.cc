#include "services/pg/pg_audience_lists.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "services/pg/customer_sql.h"
#include "services/pg/pg_pool.h"

namespace forewarn {
namespace {

// The list's row, written first (its members reference it); $1 created_by.
constexpr char kBegin[] =
    "INSERT INTO audiences (label, created_by, entries, customers, unknown) VALUES ('', $1, 0, 0, 0) RETURNING id";

// One chunk ($1 list, $2 ids, $3 external ids, $4 compact IBANs, $5 sample
// size): every entry with the customer it names (NULL: none), the customers
// found added to the list, then one row of totals (kind -1: customers new to
// the list, entries matching nobody) and up to $5 unknown entries in the
// order sent (kind 0 id, 1 external id, 2 IBAN).
constexpr char kAddChunk[] =
    "WITH entries AS MATERIALIZED ("
    "  SELECT 0 AS kind, e.ord, e.x::text AS entry, c.id AS customer_id "
    "    FROM unnest($2::bigint[]) WITH ORDINALITY AS e(x, ord) LEFT JOIN customers c ON c.id = e.x "
    "  UNION ALL "
    "  SELECT 1, e.ord, e.x, c.id "
    "    FROM unnest($3::text[]) WITH ORDINALITY AS e(x, ord) LEFT JOIN customers c ON c.external_id = e.x "
    "  UNION ALL "
    "  SELECT 2, e.ord, e.x, a.customer_id "
    "    FROM unnest($4::text[]) WITH ORDINALITY AS e(x, ord) LEFT JOIN accounts a ON a.iban = e.x"
    "), added AS ("
    "  INSERT INTO audience_members (audience_id, customer_id) "
    "  SELECT DISTINCT $1::uuid, customer_id FROM entries WHERE customer_id IS NOT NULL "
    "  ON CONFLICT DO NOTHING RETURNING 1"
    ") "
    "SELECT -1 AS kind, (SELECT count(*) FROM added)::text, (SELECT count(*) FROM entries WHERE customer_id IS NULL) "
    "UNION ALL "
    "(SELECT kind, entry, 0 FROM entries WHERE customer_id IS NULL ORDER BY kind, ord LIMIT $5)";

// The totals, when the stream has ended ($1 list, $2 label, $3 entries,
// $4 customers, $5 unknown).
constexpr char kFinish[] =
    "UPDATE audiences SET label = $2, entries = $3, customers = $4, unknown = $5 WHERE id = $1::uuid";

// The statements, as named in the shared pool ("list_*").
pg::PgPool::Prepared Statements() {
  return {{"list_begin", kBegin}, {"list_add_chunk", kAddChunk}, {"list_finish", kFinish}};
}

UnknownEntry::Kind KindOf(int kind) {
  switch (kind) {
    case 0: return UnknownEntry::Kind::kId;
    case 1: return UnknownEntry::Kind::kExternalId;
    default: return UnknownEntry::Kind::kIban;
  }
}

// One list being written in `tx`.
class PgUpload final : public AudienceListStore::Upload {
 public:
  PgUpload(pqxx::work& tx, const pg::PgPool& pool, std::string id) : tx_(tx), pool_(pool), id_(std::move(id)) {}

  absl::StatusOr<ChunkMatch> Add(const CheckedAudienceChunk& chunk, size_t max_sample) override {
    pg::ArrayLiteral external_ids, ibans;
    for (const auto& e : chunk.external_ids) external_ids.Add(e);
    for (const auto& i : chunk.ibans) ibans.Add(i);
    ChunkMatch out;
    for (const auto& r : pool_.Exec(tx_, "list_add_chunk", id_, pg::IntArray(chunk.customer_ids), external_ids.Take(),
                                    ibans.Take(), static_cast<int64_t>(max_sample))) {
      const int kind = r[0].as<int>();
      if (kind < 0) {
        out.added = r[1].as<int64_t>();
        out.unknown = r[2].as<int64_t>();
      } else {
        out.sample.push_back({KindOf(kind), r[1].as<std::string>()});
      }
    }
    return out;
  }

 private:
  pqxx::work& tx_;
  const pg::PgPool& pool_;
  const std::string id_;
};

}  // namespace

PgAudienceLists::PgAudienceLists(PgDatabase db, Options options) : pool_(db.pool()), options_(options) {
  pool_->AddPrepared(Statements());
}
PgAudienceLists::~PgAudienceLists() = default;

absl::StatusOr<std::string> PgAudienceLists::Store(
    const std::string& created_by, const std::function<absl::StatusOr<AudienceListSummary>(Upload&)>& fill) {
  if (running_.fetch_add(1) >= options_.max_concurrent) {
    running_.fetch_sub(1);
    return absl::ResourceExhaustedError(
        absl::StrCat("upload audience: ", options_.max_concurrent, " uploads are running; retry later"));
  }
  std::string id;
  auto status = pool_->Run([&](pqxx::connection& c) -> absl::Status {
    try {
      pqxx::work tx(c);
      tx.exec(absl::StrCat("SET LOCAL idle_in_transaction_session_timeout = '", options_.idle_timeout_seconds, "s'"));
      id = pool_->Exec1(tx, "list_begin", created_by)[0].as<std::string>();
      PgUpload upload(tx, *pool_, id);
      auto summary = fill(upload);
      if (!summary.ok()) return summary.status();  // rolled back: nothing stored
      pool_->Exec(tx, "list_finish", id, summary->label, summary->entries, summary->customers, summary->unknown);
      tx.commit();
    } catch (const std::exception&) {
      return pg::StatusFromException("upload audience");
    }
    return absl::OkStatus();
  });
  running_.fetch_sub(1);
  if (!status.ok()) return status;
  return id;
}

}  // namespace forewarn
