-- Forewarn schema, version 4: the ledger's claimed -> sent update must find
-- rows by primary key and stay a HOT update. The (incident, channel, state)
-- index made the planner pick it for the batch update (walking dead entries
-- as the fan-out grew: see bench/) and forced index writes on every state
-- change. The primary key starts with incident_id and serves the reports.
DROP INDEX notice_ledger_incident_state;
ALTER TABLE notice_ledger SET (fillfactor = 85);
