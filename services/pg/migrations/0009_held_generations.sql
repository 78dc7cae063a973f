-- Forewarn schema, version 9: a held notice counts its holds. The scheduler
-- puts a due held notice back on the notices topic and then marks it
-- released; a notifier whose clock is a little behind the scheduler's may
-- hold the same notice again in between (it still sees quiet hours). Marking
-- that newer hold released would leave the notice held forever, never sent.
-- The scheduler now marks a row released only if it still is the hold it
-- fetched (the same `holds` count); a newer hold stays due.
ALTER TABLE held_notices ADD COLUMN holds integer NOT NULL DEFAULT 1;
