-- Forewarn schema, version 10: the customer directory (forewarn.v1.CustomerDirectory,
-- services/pg/pg_customer_store.h). Customers now arrive from a CRM through the
-- import, named by the CRM's key; preferences are channels per notice category.

-- The CRM's key. Rows written by SQL before the directory have none (NULL;
-- the directory cannot name them). Byte-wise collation: a batch looks up
-- thousands of keys at once, and a linguistic collation calls strcoll on
-- every index comparison.
ALTER TABLE customers
  ADD COLUMN external_id text COLLATE "C" UNIQUE,
  -- SHA-256 of the customer as last imported or set over the API (every
  -- field, its services, accounts, beneficiaries and preferences; not the
  -- customer's own opt-outs, see opted_out): an import leaves an identical
  -- one untouched. NULL: written by SQL, compared as changed.
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
    CONSTRAINT customers_channels_banking_check CHECK (channels_banking BETWEEN 0 AND 3),
  -- The channels the customer turned off themselves (the one-click
  -- unsubscribe link of an email, STOP by SMS), a bit set: bit
  -- 2 * category + channel, category 0 unplanned outages, 1 planned
  -- maintenance, 2 banking changes, channel 0 SMS, 1 email (so bits 0-1,
  -- 2-3 and 4-5 line up with the three channels_* columns). An import
  -- stores channels_* = the record's channels less these: a CRM that keeps
  -- sending the preferences it always had does not undo an opt-out (and
  -- content_hash stays the record's, so the same record is unchanged).
  -- The customer's START clears its bits, as does an operator or the CRM
  -- enabling the channel over the API (SetPreferences). channels_* remain
  -- the effective preferences: the audience rule reads only them.
  ADD COLUMN opted_out smallint NOT NULL DEFAULT 0
    CONSTRAINT customers_opted_out_check CHECK (opted_out BETWEEN 0 AND 63);
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

-- customer_services holds a row per customer and service it uses: an import
-- of a million customers writes over a million. Its three foreign keys were
-- checked row by row (a query per key and row: 83% of the insert's time,
-- measured), now once per statement over the rows it wrote, with the same
-- errors (foreign_key_violation) and the same cascade when a customer is
-- deleted. Left out: the key-share row locks, so a service or region deleted
-- while an import names it can leave rows naming it (the audience rule only
-- reads rows of existing customers, and codes are never deleted in use).
ALTER TABLE customer_services
  DROP CONSTRAINT customer_services_service_code_fkey,
  DROP CONSTRAINT customer_services_region_code_fkey,
  DROP CONSTRAINT customer_services_customer_id_fkey;

CREATE FUNCTION customer_services_check_keys() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF EXISTS (SELECT 1 FROM written w
             WHERE NOT EXISTS (SELECT 1 FROM services s WHERE s.code = w.service_code)
                OR NOT EXISTS (SELECT 1 FROM regions r WHERE r.code = w.region_code)
                -- OFFSET 0: one primary-key probe per row, never a join
                -- over every customer.
                OR NOT EXISTS (SELECT 1 FROM customers c WHERE c.id = w.customer_id OFFSET 0)) THEN
    RAISE foreign_key_violation USING MESSAGE = 'customer_services: unknown service, region or customer';
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER customer_services_keys_on_insert AFTER INSERT ON customer_services
  REFERENCING NEW TABLE AS written FOR EACH STATEMENT EXECUTE FUNCTION customer_services_check_keys();
CREATE TRIGGER customer_services_keys_on_update AFTER UPDATE ON customer_services
  REFERENCING NEW TABLE AS written FOR EACH STATEMENT EXECUTE FUNCTION customer_services_check_keys();

CREATE FUNCTION customers_delete_services() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM customer_services cs USING deleted d WHERE cs.customer_id = d.id;
  RETURN NULL;
END $$;
CREATE TRIGGER customers_services_cascade AFTER DELETE ON customers
  REFERENCING OLD TABLE AS deleted FOR EACH STATEMENT EXECUTE FUNCTION customers_delete_services();

CREATE FUNCTION service_codes_in_use() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF (TG_TABLE_NAME = 'services' AND EXISTS (
        SELECT 1 FROM deleted d JOIN customer_services cs ON cs.service_code = d.code))
     OR (TG_TABLE_NAME = 'regions' AND EXISTS (
        SELECT 1 FROM deleted d JOIN customer_services cs ON cs.region_code = d.code)) THEN
    RAISE foreign_key_violation USING MESSAGE = TG_TABLE_NAME || ': a deleted code is still used by customers';
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER services_in_use AFTER DELETE ON services
  REFERENCING OLD TABLE AS deleted FOR EACH STATEMENT EXECUTE FUNCTION service_codes_in_use();
CREATE TRIGGER regions_in_use AFTER DELETE ON regions
  REFERENCING OLD TABLE AS deleted FOR EACH STATEMENT EXECUTE FUNCTION service_codes_in_use();
