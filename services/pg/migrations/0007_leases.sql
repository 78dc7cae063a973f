-- Named leases (leadership that holds behind any connection pooler, unlike a
-- session advisory lock). A holder takes or renews a lease with one
-- INSERT ... ON CONFLICT ... WHERE holder = it OR expires_at < now(), judged
-- by the database's clock; see services/pg/pg_lease.h. First user: the
-- outbox relay ("outbox_relay").
CREATE TABLE leases (
  name       text PRIMARY KEY,
  holder     text NOT NULL,
  expires_at timestamptz NOT NULL
);
