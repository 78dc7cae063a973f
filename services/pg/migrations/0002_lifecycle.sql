-- Forewarn schema, version 2: planned maintenance, IBAN changes, scheduled
-- and held notices, supersession.

ALTER TABLE incidents DROP CONSTRAINT incidents_state_check;
ALTER TABLE incidents ADD CONSTRAINT incidents_state_check CHECK (state IN ('open', 'resolved', 'cancelled'));
ALTER TABLE incidents ADD COLUMN old_iban text, ADD COLUMN new_iban text;

ALTER TABLE incident_versions RENAME COLUMN notice_kind TO change;
ALTER TABLE incident_versions ADD COLUMN old_iban text, ADD COLUMN new_iban text;

-- Repeated notices of one kind and version (maintenance reminders) differ
-- by occasion, e.g. 'lead-48h'.
ALTER TABLE outbox ADD COLUMN occasion text NOT NULL DEFAULT '';

ALTER TABLE notice_ledger ADD COLUMN occasion text NOT NULL DEFAULT '';
ALTER TABLE notice_ledger DROP CONSTRAINT notice_ledger_pkey;
ALTER TABLE notice_ledger ADD PRIMARY KEY (incident_id, incident_version, notice_kind, occasion, customer_id, channel);
ALTER TABLE notice_ledger DROP CONSTRAINT notice_ledger_state_check;
ALTER TABLE notice_ledger ADD CONSTRAINT notice_ledger_state_check
  CHECK (state IN ('claimed', 'sent', 'failed', 'held', 'superseded'));

-- Time-driven notices, released by forewarn-scheduler into the outbox.
CREATE TABLE scheduled_notices (
  id          bigserial PRIMARY KEY,
  incident_id uuid NOT NULL REFERENCES incidents (id),
  version     bigint NOT NULL,
  notice_kind text NOT NULL,
  occasion    text NOT NULL DEFAULT '',
  due_at      timestamptz NOT NULL,
  state       text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'released', 'cancelled')),
  settled_at  timestamptz
);
CREATE INDEX scheduled_notices_due ON scheduled_notices (due_at) WHERE state = 'pending';
CREATE INDEX scheduled_notices_incident ON scheduled_notices (incident_id) WHERE state = 'pending';

-- Notices parked by a notifier until the customer's quiet hours end.
CREATE TABLE held_notices (
  id          bigserial PRIMARY KEY,
  incident_id uuid NOT NULL,
  version     bigint NOT NULL,
  notice_kind text NOT NULL,
  occasion    text NOT NULL,
  customer_id bigint NOT NULL,
  channel     text NOT NULL,
  address     text NOT NULL,
  locale      text NOT NULL,
  time_zone   text NOT NULL,
  name        text NOT NULL,
  role        text NOT NULL,
  release_at  timestamptz NOT NULL,
  released_at timestamptz,
  UNIQUE (incident_id, version, notice_kind, occasion, customer_id, channel)
);
CREATE INDEX held_notices_due ON held_notices (release_at) WHERE released_at IS NULL;

-- Bank accounts and saved beneficiaries, for IBAN change notices.
CREATE TABLE accounts (
  iban        text PRIMARY KEY,
  customer_id bigint NOT NULL REFERENCES customers (id) ON DELETE CASCADE
);
CREATE INDEX accounts_customer ON accounts (customer_id);

CREATE TABLE beneficiaries (
  customer_id bigint NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
  iban        text NOT NULL,
  nickname    text NOT NULL DEFAULT '',
  PRIMARY KEY (customer_id, iban)
);
CREATE INDEX beneficiaries_iban ON beneficiaries (iban);
