-- Forewarn schema, version 5: retries and dead letters. A notice whose
-- delivery failed transiently is 'retrying' (its next copy waits on the
-- retry topic); out of attempts it is 'dead' (on the dead-letter topic)
-- until an operator replays it. delivery_attempts counts the failed
-- attempts; a copy of the job with fewer is stale and is not claimed.
ALTER TABLE notice_ledger DROP CONSTRAINT notice_ledger_state_check;
ALTER TABLE notice_ledger ADD CONSTRAINT notice_ledger_state_check
  CHECK (state IN ('claimed', 'sent', 'failed', 'held', 'superseded', 'retrying', 'dead'));
ALTER TABLE notice_ledger ADD COLUMN delivery_attempts integer NOT NULL DEFAULT 0;
-- The dead-letter queue's size, cheaply (a metric polls it).
CREATE INDEX notice_ledger_dead ON notice_ledger (incident_id) WHERE state = 'dead';
