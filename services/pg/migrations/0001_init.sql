-- Forewarn schema, version 1.
CREATE TABLE services (
  code    text PRIMARY KEY CHECK (code ~ '^[a-z0-9_-]{1,64}$'),
  name_en text NOT NULL,
  name_ar text NOT NULL
);

CREATE TABLE regions (
  code    text PRIMARY KEY CHECK (code ~ '^[a-z0-9_-]{1,64}$'),
  name_en text NOT NULL,
  name_ar text NOT NULL
);

CREATE TABLE customers (
  id           bigint PRIMARY KEY,
  name         text NOT NULL,
  locale       text NOT NULL CHECK (locale IN ('ar', 'en')),
  time_zone    text NOT NULL,
  phone        text CHECK (phone ~ '^\+[1-9][0-9]{6,14}$'),  -- E.164
  email        text CHECK (email LIKE '%_@_%'),
  notify_sms   boolean NOT NULL DEFAULT true,
  notify_email boolean NOT NULL DEFAULT true,
  created_at   timestamptz NOT NULL DEFAULT now()
);

-- Which customer uses which service in which region.
CREATE TABLE customer_services (
  service_code text   NOT NULL REFERENCES services (code),
  region_code  text   NOT NULL REFERENCES regions (code),
  customer_id  bigint NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
  PRIMARY KEY (service_code, region_code, customer_id)
);
CREATE INDEX customer_services_customer ON customer_services (customer_id);

CREATE TABLE incidents (
  id                      uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  version                 bigint NOT NULL CHECK (version > 0),
  kind                    text NOT NULL,
  state                   text NOT NULL CHECK (state IN ('open', 'resolved')),
  services                text[] NOT NULL,
  regions                 text[] NOT NULL,
  reason_ar               text NOT NULL,
  reason_en               text NOT NULL,
  starts_at               timestamptz NOT NULL,
  expected_restoration_at timestamptz NOT NULL,
  resolved_at             timestamptz,
  idempotency_key         text NOT NULL UNIQUE,
  request_hash            text NOT NULL,
  created_at              timestamptz NOT NULL,
  updated_at              timestamptz NOT NULL
);
CREATE INDEX incidents_state_created ON incidents (state, created_at DESC, id);

-- Immutable snapshot of every version: what each notice was rendered from.
CREATE TABLE incident_versions (
  incident_id             uuid NOT NULL REFERENCES incidents (id),
  version                 bigint NOT NULL,
  notice_kind             text NOT NULL,
  state                   text NOT NULL,
  services                text[] NOT NULL,
  regions                 text[] NOT NULL,
  reason_ar               text NOT NULL,
  reason_en               text NOT NULL,
  starts_at               timestamptz NOT NULL,
  expected_restoration_at timestamptz NOT NULL,
  resolved_at             timestamptz,
  changed_at              timestamptz NOT NULL,
  PRIMARY KEY (incident_id, version)
);

-- Transactional outbox: written in the same transaction as the change.
CREATE TABLE outbox (
  id           bigserial PRIMARY KEY,
  incident_id  uuid NOT NULL REFERENCES incidents (id),
  version      bigint NOT NULL,
  notice_kind  text NOT NULL,
  created_at   timestamptz NOT NULL,
  published_at timestamptz
);
CREATE INDEX outbox_unpublished ON outbox (id) WHERE published_at IS NULL;

-- The notice ledger: one row per (incident, version, kind, customer, channel).
CREATE TABLE notice_ledger (
  incident_id      uuid   NOT NULL,
  incident_version bigint NOT NULL,
  notice_kind      text   NOT NULL,
  customer_id      bigint NOT NULL,
  channel          text   NOT NULL CHECK (channel IN ('sms', 'email')),
  state            text   NOT NULL CHECK (state IN ('claimed', 'sent', 'failed')),
  attempts         integer NOT NULL DEFAULT 1,
  provider_id      text,
  error            text,
  claimed_at       timestamptz NOT NULL,
  updated_at       timestamptz NOT NULL,
  PRIMARY KEY (incident_id, incident_version, notice_kind, customer_id, channel)
);
CREATE INDEX notice_ledger_incident_state ON notice_ledger (incident_id, channel, state);
