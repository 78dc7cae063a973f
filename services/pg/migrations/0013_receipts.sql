-- Forewarn schema, version 13: delivery receipts, escalation, proof of notice.
-- A SENT notice of a channel that reports deliveries (Kannel, SMPP, an email
-- provider's bounce webhook) is settled by its receipt: DELIVERED,
-- UNDELIVERED or EXPIRED.
ALTER TABLE notice_ledger DROP CONSTRAINT notice_ledger_state_check;
ALTER TABLE notice_ledger ADD CONSTRAINT notice_ledger_state_check
  CHECK (state IN ('claimed', 'sent', 'failed', 'held', 'superseded', 'retrying', 'dead',
                   'delivered', 'undelivered', 'expired'));

ALTER TABLE notice_ledger
  -- When the customer must have it by (maintenance reminders: the start
  -- minus the lead; IBAN notices: the effective date minus the notice
  -- period); NULL for notices without a lead time.
  ADD COLUMN deadline_at timestamptz,
  -- When the receipt's event happened (the network's time when it says).
  ADD COLUMN receipt_at timestamptz,
  -- The escalation timer, a row and not a sleep: set when a notice of a
  -- channel with receipts is sent (sent + the channel's receipt timeout,
  -- earlier when a deadline needs it), cleared by a delivered receipt, made
  -- due at once by an undelivered or expired one; the scheduler escalates
  -- what is due and clears it.
  ADD COLUMN receipt_due_at timestamptz,
  -- The escalation: when, and to which channel (NULL with escalated_at set:
  -- the customer has no other channel; reported as undeliverable).
  ADD COLUMN escalated_at timestamptz,
  ADD COLUMN escalated_to text COLLATE "C" CHECK (escalated_to IN ('sms', 'email'));

-- Only notices waiting for a receipt are in it: a fan-out over the file
-- outbox or SMTP writes no entry.
CREATE INDEX notice_ledger_receipt_due ON notice_ledger (receipt_due_at) WHERE receipt_due_at IS NOT NULL;
-- Receipts that name the provider's id (SMPP): only notices whose provider
-- gave one have an entry.
CREATE INDEX notice_ledger_provider_id ON notice_ledger (provider_id) WHERE provider_id IS NOT NULL;

-- Every receipt received, once per reference and status (the same receipt
-- twice changes nothing). One that came before its notice was settled stays
-- pending (applied_at NULL) until the scheduler finds the notice settled.
CREATE TABLE notice_receipts (
  ref          text COLLATE "C" NOT NULL,  -- our message id, or the provider's (by_provider)
  status       text COLLATE "C" NOT NULL CHECK (status IN ('delivered', 'undelivered', 'expired')),
  by_provider  boolean NOT NULL,
  source       text NOT NULL,
  detail       text NOT NULL DEFAULT '',
  reported_at  timestamptz,
  received_at  timestamptz NOT NULL,
  applied_at   timestamptz,
  outcome      text CHECK (outcome IN ('applied', 'conflicting', 'orphaned')),
  PRIMARY KEY (ref, status)
);
CREATE INDEX notice_receipts_pending ON notice_receipts (received_at) WHERE applied_at IS NULL;
