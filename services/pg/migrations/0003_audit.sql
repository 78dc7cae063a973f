-- Forewarn schema, version 3: the audit trail. Every version records who
-- made the change and what it changed. Defaults keep writers that do not
-- know these columns (the scheduler's on-schedule completion) working.
ALTER TABLE incident_versions
  ADD COLUMN actor text NOT NULL DEFAULT 'system',
  ADD COLUMN change_summary text NOT NULL DEFAULT '';

-- The completeness check reads the latest outbox event of a version.
CREATE INDEX outbox_incident_version ON outbox (incident_id, version, id);
