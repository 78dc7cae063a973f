#include "services/pg/customer_sql.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace forewarn::pg {
namespace {

// A customer row as RowToCustomer reads it.
#define FW_CUSTOMER_COLUMNS                                                                              \
  "SELECT c.id, coalesce(c.external_id, ''), c.name, c.locale, c.time_zone, coalesce(c.phone, ''), " \
  "coalesce(c.email, ''), c.channels_unplanned, c.channels_maintenance, c.channels_banking, "     \
  "ST_Y(c.location), ST_X(c.location) FROM customers c "

// Each external id's stored id and whether its content hash is the one
// given ($1 external ids, $2 hex hashes): the 1-based position in the
// arrays, the id, same. One index probe per id whatever the batch size
// (LIMIT keeps the planner from turning the look-up into a hash join over
// every customer).
constexpr char kLookUp[] =
    "SELECT u.i, s.id, s.same FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS u(e, h, i) "
    "CROSS JOIN LATERAL (SELECT c.id, coalesce(c.content_hash = decode(u.h, 'hex'), false) AS same "
    "  FROM customers c WHERE c.external_id = u.e LIMIT 1) s";

// The stored holder of each IBAN ($1).
constexpr char kAccountHolders[] =
    "SELECT u.iban, a.customer_id FROM unnest($1::text[]) AS u(iban) "
    "CROSS JOIN LATERAL (SELECT customer_id FROM accounts WHERE iban = u.iban LIMIT 1) a";

// $11, $12: latitude and longitude (NULL: no location).
#define FW_CUSTOMER_INSERT                                                                                    \
  "INSERT INTO customers (external_id, name, locale, time_zone, phone, email, channels_unplanned, "            \
  "  channels_maintenance, channels_banking, content_hash, updated_at, location) "                             \
  "SELECT u.e, u.n, u.l, u.z, nullif(u.p, ''), nullif(u.m, ''), u.cu, u.cm, u.cb, decode(u.h, 'hex'), now(), " \
  "  ST_SetSRID(ST_MakePoint(u.lon, u.lat), 4326) "                                                            \
  "FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::int2[], $8::int2[], " \
  "  $9::int2[], $10::text[], $11::float8[], $12::float8[]) AS u(e, n, l, z, p, m, cu, cm, cb, h, lat, lon) "

// A batch of new customers only (the look-up found none of them): a plain
// insert, without the speculative insertion of ON CONFLICT. One inserted
// meanwhile by a concurrent import is a unique violation: the batch is
// classified and written again.
constexpr char kInsertNew[] = FW_CUSTOMER_INSERT "RETURNING external_id, id";

// New customers inserted, changed ones updated, in full; returns each one's
// external id and id. '' phone or email: none. A changed customer keeps the
// channels it opted out of off (opted_out: bits 0-1 unplanned, 2-3
// maintenance, 4-5 banking); the hash stays the record's.
constexpr char kUpsert[] = FW_CUSTOMER_INSERT
    "ON CONFLICT (external_id) DO UPDATE SET name = excluded.name, locale = excluded.locale, "
    "  time_zone = excluded.time_zone, phone = excluded.phone, email = excluded.email, "
    "  channels_unplanned = excluded.channels_unplanned & ~(customers.opted_out & 3), "
    "  channels_maintenance = excluded.channels_maintenance & ~((customers.opted_out >> 2) & 3), "
    "  channels_banking = excluded.channels_banking & ~((customers.opted_out >> 4) & 3), "
    "  content_hash = excluded.content_hash, location = excluded.location, "
    "  updated_at = excluded.updated_at "
    "RETURNING external_id, id";

// The services, asset links, accounts and beneficiaries of the customers
// $1 (deletes only, on four tables: safe in one statement).
constexpr char kDeleteLists[] =
    "WITH s AS (DELETE FROM customer_services WHERE customer_id = ANY($1::bigint[])), "
    "l AS (DELETE FROM customer_assets WHERE customer_id = ANY($1::bigint[])), "
    "a AS (DELETE FROM accounts WHERE customer_id = ANY($1::bigint[])) "
    "DELETE FROM beneficiaries WHERE customer_id = ANY($1::bigint[])";

// Services ($1 service, $2 region, $3 customer), accounts ($4 IBAN, $5
// customer), beneficiaries ($6 customer, $7 IBAN, $8 nickname) and asset
// links ($9 asset, $10 service, $11 customer).
constexpr char kInsertLists[] =
    "WITH s AS (INSERT INTO customer_services (service_code, region_code, customer_id) "
    "  SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[])), "
    "l AS (INSERT INTO customer_assets (asset_code, service_code, customer_id) "
    "  SELECT * FROM unnest($9::text[], $10::text[], $11::bigint[])), "
    "a AS (INSERT INTO accounts (iban, customer_id) SELECT * FROM unnest($4::text[], $5::bigint[])) "
    "INSERT INTO beneficiaries (customer_id, iban, nickname) "
    "SELECT * FROM unnest($6::bigint[], $7::text[], $8::text[])";

constexpr char kServicesOf[] =
    "SELECT customer_id, service_code, region_code FROM customer_services WHERE customer_id = ANY($1::bigint[]) "
    "ORDER BY customer_id, service_code COLLATE \"C\", region_code COLLATE \"C\"";
constexpr char kAccountsOf[] =
    "SELECT customer_id, iban FROM accounts WHERE customer_id = ANY($1::bigint[]) "
    "ORDER BY customer_id, iban COLLATE \"C\"";
constexpr char kBeneficiariesOf[] =
    "SELECT customer_id, iban, nickname FROM beneficiaries WHERE customer_id = ANY($1::bigint[]) "
    "ORDER BY customer_id, iban COLLATE \"C\"";

constexpr char kAssetsOf[] =
    "SELECT customer_id, service_code, asset_code FROM customer_assets WHERE customer_id = ANY($1::bigint[]) "
    "ORDER BY customer_id, service_code COLLATE \"C\", asset_code";
// The asset codes of $1 that no asset has.
constexpr char kUnknownAssets[] =
    "SELECT u.c FROM unnest($1::text[]) AS u(c) WHERE NOT EXISTS (SELECT 1 FROM assets a WHERE a.code = u.c)";

constexpr char kGet[] = FW_CUSTOMER_COLUMNS "WHERE c.external_id = $1";
// Keyset paging ($1 after id), optional service ($2) and region ($3)
// filters, $4 rows.
constexpr char kList[] = FW_CUSTOMER_COLUMNS
    "WHERE c.id > $1 AND (($2 = '' AND $3 = '') OR EXISTS (SELECT 1 FROM customer_services cs "
    "  WHERE cs.customer_id = c.id AND ($2 = '' OR cs.service_code = $2) AND ($3 = '' OR cs.region_code = $3))) "
    "ORDER BY c.id LIMIT $4";

constexpr char kLockByExternalId[] = FW_CUSTOMER_COLUMNS "WHERE c.external_id = $1 FOR UPDATE";
constexpr char kLockById[] = FW_CUSTOMER_COLUMNS "WHERE c.id = $1 FOR UPDATE";
constexpr char kLockByPhone[] = FW_CUSTOMER_COLUMNS "WHERE (c.phone COLLATE \"C\") = $1 ORDER BY c.id FOR UPDATE";
// The directory's change (PreferenceSource::kDirectory): $1 id, $2..$4
// channels, $5 the opt-outs it lifts (the channels it enables), $6 hex
// content hash.
constexpr char kSetPreferences[] =
    "UPDATE customers SET channels_unplanned = $2, channels_maintenance = $3, channels_banking = $4, "
    "opted_out = opted_out & ~$5::int2, content_hash = decode($6, 'hex'), updated_at = now() WHERE id = $1";
// The customer's own (PreferenceSource::kCustomer): $1 id, $2..$4 channels,
// $5 the channels it turned off, $6 those it turned on (opted_out bits);
// the content hash stays the imported record's.
constexpr char kOptOut[] =
    "UPDATE customers SET channels_unplanned = $2, channels_maintenance = $3, channels_banking = $4, "
    "opted_out = (opted_out | $5::int2) & ~$6::int2, updated_at = now() WHERE id = $1";

// Erasure of the customers $1. The ledger has no index on the customer (it
// would cost every notice write); its primary key leads with the incident,
// then the customer, so the ledger statements go incident by incident.
constexpr char kEraseHeld[] = "DELETE FROM held_notices WHERE customer_id = ANY($1::bigint[])";
constexpr char kCloseOpen[] =
    "UPDATE notice_ledger l SET state = 'failed', error = 'customer erased', provider_id = NULL, updated_at = now() "
    "FROM incidents i WHERE l.incident_epoch = forewarn_incident_epoch(i.id) AND l.incident_id = i.id "
    "AND l.customer_id = ANY($1::bigint[]) "
    "AND l.state IN ('held', 'retrying', 'dead')";
constexpr char kRedactLedger[] =
    "UPDATE notice_ledger l SET provider_id = NULL, "
    "  error = CASE WHEN l.error IS NULL THEN NULL ELSE 'customer erased' END "
    "FROM incidents i WHERE l.incident_epoch = forewarn_incident_epoch(i.id) AND l.incident_id = i.id "
    "AND l.customer_id = ANY($1::bigint[]) "
    "AND (l.provider_id IS NOT NULL OR l.error IS DISTINCT FROM 'customer erased' AND l.error IS NOT NULL)";
constexpr char kEraseDead[] = "DELETE FROM dead_notices WHERE customer_id = ANY($1::bigint[])";
constexpr char kEraseCustomers[] = "DELETE FROM customers WHERE id = ANY($1::bigint[])";

// Full sync ($1 sync id).
constexpr char kMarkSeen[] = "INSERT INTO customer_sync_seen (sync_id, external_id) SELECT $1, unnest($2::text[])";
#define FW_UNSEEN                                                                                          \
  "FROM customers c WHERE c.external_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM customer_sync_seen s " \
  "WHERE s.sync_id = $1 AND s.external_id = c.external_id)"
constexpr char kCountUnseen[] = "SELECT count(*) " FW_UNSEEN;
constexpr char kLockUnseen[] = "SELECT c.id " FW_UNSEEN " ORDER BY c.id FOR UPDATE OF c";
constexpr char kForgetSync[] = "DELETE FROM customer_sync_seen WHERE sync_id = $1";

}  // namespace

PgPool::Prepared CustomerStatements() {
  return {{"dir_look_up", kLookUp},
          {"dir_account_holders", kAccountHolders},
          {"dir_insert_new", kInsertNew},
          {"dir_upsert", kUpsert},
          {"dir_delete_lists", kDeleteLists},
          {"dir_insert_lists", kInsertLists},
          {"dir_services_of", kServicesOf},
          {"dir_accounts_of", kAccountsOf},
          {"dir_beneficiaries_of", kBeneficiariesOf},
          {"dir_assets_of", kAssetsOf},
          {"dir_unknown_assets", kUnknownAssets},
          {"dir_get", kGet},
          {"dir_list", kList},
          {"dir_lock_by_external_id", kLockByExternalId},
          {"dir_lock_by_id", kLockById},
          {"dir_lock_by_phone", kLockByPhone},
          {"dir_set_preferences", kSetPreferences},
          {"dir_opt_out", kOptOut},
          {"dir_erase_held", kEraseHeld},
          {"dir_close_open", kCloseOpen},
          {"dir_redact_ledger", kRedactLedger},
          {"dir_erase_dead", kEraseDead},
          {"dir_erase_customers", kEraseCustomers},
          {"dir_mark_seen", kMarkSeen},
          {"dir_count_unseen", kCountUnseen},
          {"dir_lock_unseen", kLockUnseen},
          {"dir_forget_sync", kForgetSync}};
}

void ArrayLiteral::Separate() {
  if (!empty_) out_ += ',';
  empty_ = false;
}

void ArrayLiteral::Add(std::string_view text) {
  Separate();
  out_ += '"';
  for (char c : text) {
    if (c == '"' || c == '\\') out_ += '\\';
    out_ += c;
  }
  out_ += '"';
}

void ArrayLiteral::Add(int64_t n) {
  Separate();
  absl::StrAppend(&out_, n);
}

void ArrayLiteral::AddDouble(double x) {
  Separate();
  absl::StrAppendFormat(&out_, "%.17g", x);
}

void ArrayLiteral::AddNull() {
  Separate();
  out_ += "NULL";
}

std::string ArrayLiteral::Take() {
  out_.push_back('}');
  std::string out;
  out.swap(out_);
  out_.push_back('{');
  empty_ = true;
  return out;
}

int ChannelBits(const ChannelSet& c) { return (c.sms ? 1 : 0) | (c.email ? 2 : 0); }
ChannelSet ChannelsFromBits(int bits) { return {(bits & 1) != 0, (bits & 2) != 0}; }
int PreferenceBits(const Preferences& p) {
  return ChannelBits(p.unplanned_outages) | ChannelBits(p.planned_maintenance) << 2 |
         ChannelBits(p.banking_changes) << 4;
}

Customer RowToCustomer(const pqxx::row& r) {
  Customer c;
  c.id = r[0].as<int64_t>();
  c.external_id = r[1].as<std::string>();
  c.name = r[2].as<std::string>();
  c.locale = r[3].as<std::string>();
  c.time_zone = r[4].as<std::string>();
  c.phone = r[5].as<std::string>();
  c.email = r[6].as<std::string>();
  c.preferences.unplanned_outages = ChannelsFromBits(r[7].as<int>());
  c.preferences.planned_maintenance = ChannelsFromBits(r[8].as<int>());
  c.preferences.banking_changes = ChannelsFromBits(r[9].as<int>());
  if (!r[10].is_null()) c.location = GeoPoint{r[10].as<double>(), r[11].as<double>()};
  return c;
}

}  // namespace forewarn::pg
