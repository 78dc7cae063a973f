-- Forewarn schema, version 5: retries and dead letters. A notice whose
-- delivery failed transiently is 'retrying' (its next copy waits on the
-- retry topic); out of attempts it is 'dead' (on the dead-letter topic)
-- until an operator replays it. delivery_attempts counts the failed
-- attempts; a copy of the job with fewer is stale and is not claimed.
ALTER TABLE notice_ledger DROP CONSTRAINT notice_ledger_state_check;
ALTER TABLE notice_ledger ADD CONSTRAINT notice_ledger_state_check
  CHECK (state IN ('claimed', 'sent', 'failed', 'held', 'superseded', 'retrying', 'dead'));
ALTER TABLE notice_ledger ADD COLUMN delivery_attempts integer NOT NULL DEFAULT 0;

-- The dead-letter queue's size without an index on notice_ledger.state: any
-- index mentioning state (even a partial one) would make every claimed ->
-- sent update a non-HOT update with six-column primary key insertions.
-- Kept in the transaction that marks a notice dead or revives it.
CREATE TABLE dead_notices (
  incident_id      uuid   NOT NULL,
  incident_version bigint NOT NULL,
  notice_kind      text   NOT NULL,
  occasion         text   NOT NULL,
  customer_id      bigint NOT NULL,
  channel          text   NOT NULL,
  dead_at          timestamptz NOT NULL,
  PRIMARY KEY (incident_id, incident_version, notice_kind, occasion, customer_id, channel)
);

-- Room on every page for the claimed -> sent version of its rows, so the
-- update stays on the page (HOT: no index writes). Measured: 3.6x faster
-- batch updates than at 85 (bench/, README).
ALTER TABLE notice_ledger SET (fillfactor = 50);
