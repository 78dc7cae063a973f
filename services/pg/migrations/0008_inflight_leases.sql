-- Forewarn schema, version 8: what is in flight is leased. Each
-- notice_inflight row belongs to one notifier process (owner) for as long as
-- it renews its lease (lease_until, by the database's clock). Another worker
-- that meets the same notices waits while the lease is live and takes them
-- over (checking with the provider first, where it can) once it has expired;
-- the owner confirms its lease before every send, so a worker that was
-- paused past it sends none of what was taken over. Rows written before this
-- version have no owner and an expired lease: they are taken over at once,
-- as before.
ALTER TABLE notice_inflight
  ADD COLUMN owner text NOT NULL DEFAULT '',
  ADD COLUMN lease_until timestamptz NOT NULL DEFAULT 'epoch';
