-- Forewarn schema, version 10: the customer directory (forewarn.v1.CustomerDirectory,
-- services/pg/pg_customer_store.h). Customers now arrive from a CRM through the
-- import, named by the CRM's key; preferences are channels per notice category.

-- The CRM's key. Rows written by SQL before the directory have none (NULL;
-- the directory cannot name them). Byte-wise collation: a batch looks up
-- thousands of keys at once, and a linguistic collation calls strcoll on
-- every index comparison.
ALTER TABLE customers
  ADD COLUMN external_id text COLLATE "C" UNIQUE,
  -- SHA-256 of the customer as stored (every field, its services, accounts,
  -- beneficiaries and preferences): an import leaves an identical one
  -- untouched. NULL: written by SQL, compared as changed.
  ADD COLUMN content_hash bytea,
  ADD COLUMN updated_at timestamptz NOT NULL DEFAULT now();

-- STOP / START by SMS finds customers by number.
CREATE INDEX customers_phone ON customers ((phone COLLATE "C"));

-- Forewarn assigns the ids the ledger keeps (existing rows keep theirs).
CREATE SEQUENCE customers_id_seq AS bigint OWNED BY customers.id;
SELECT setval('customers_id_seq', coalesce(max(id), 0) + 1, false) FROM customers;
ALTER TABLE customers ALTER COLUMN id SET DEFAULT nextval('customers_id_seq');

-- Channels per notice category, a bit set: 1 = SMS, 2 = email (3: both, 0:
-- none). The category of an incident's notices picks the column: unplanned
-- outages, planned maintenance, banking (IBAN) changes. Added with a constant
-- default (no table rewrite); only the rows that had a channel off are
-- updated, to the same choice in every category.
ALTER TABLE customers
  ADD COLUMN channels_unplanned smallint NOT NULL DEFAULT 3
    CONSTRAINT customers_channels_unplanned_check CHECK (channels_unplanned BETWEEN 0 AND 3),
  ADD COLUMN channels_maintenance smallint NOT NULL DEFAULT 3
    CONSTRAINT customers_channels_maintenance_check CHECK (channels_maintenance BETWEEN 0 AND 3),
  ADD COLUMN channels_banking smallint NOT NULL DEFAULT 3
    CONSTRAINT customers_channels_banking_check CHECK (channels_banking BETWEEN 0 AND 3);
UPDATE customers
  SET channels_unplanned = notify_sms::int + 2 * notify_email::int,
      channels_maintenance = notify_sms::int + 2 * notify_email::int,
      channels_banking = notify_sms::int + 2 * notify_email::int
  WHERE NOT (notify_sms AND notify_email);
ALTER TABLE customers DROP COLUMN notify_sms, DROP COLUMN notify_email;

-- A full sync (import --delete-missing): the external ids each running sync
-- has seen, across batches on any connection. Scratch data, rebuilt by the
-- next sync after a crash: not WAL-logged. The index serves both the
-- anti-join that finds the unseen customers and forgetting a sync.
CREATE UNLOGGED TABLE customer_sync_seen (
  sync_id     text COLLATE "C" NOT NULL,
  external_id text COLLATE "C" NOT NULL
);
CREATE INDEX customer_sync_seen_key ON customer_sync_seen (sync_id, external_id);
