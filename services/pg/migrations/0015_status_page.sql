-- Forewarn schema, version 15: what the status page and the notices' links need.
--
-- Short human references. Every incident gets `ref`, e.g. RIY-4K7Q: three
-- letters of its first region's code (else of its kind: OUT, MNT, IBN), a dash and
-- four Crockford base32 characters (no I, L, O, U: nothing to misread over
-- the phone). Notices show it instead of the UUID; the CLI and the API take
-- it wherever they take an id. A trigger fills it on insert, so every path
-- that creates an incident gets one; it retries a taken reference and widens
-- to six characters when four keep colliding. Two inserts drawing the same
-- free reference at the same instant (one chance in a million per pair) fail
-- one of them on the unique index; the caller's retry, keyed by its
-- idempotency key, then succeeds.
CREATE FUNCTION forewarn_incident_ref_prefix(kind text, regions text[]) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE WHEN length(letters) = 3 THEN letters
              WHEN kind = 'planned_maintenance' THEN 'MNT'
              WHEN kind = 'iban_change' THEN 'IBN'
              ELSE 'OUT' END
  FROM (SELECT upper(substr(regexp_replace(coalesce(regions[1], ''), '[^A-Za-z]', '', 'g'), 1, 3)) AS letters) l
$$;

CREATE FUNCTION forewarn_crockford_random(n integer) RETURNS text
LANGUAGE sql VOLATILE AS $$
  SELECT string_agg(substr('0123456789ABCDEFGHJKMNPQRSTVWXYZ', 1 + floor(random() * 32)::int, 1), '')
  FROM generate_series(1, n)
$$;

ALTER TABLE incidents ADD COLUMN ref text;

-- Incidents from before this version: the prefix and their rank in time, in
-- hexadecimal (digits Crockford shares), unique by construction.
UPDATE incidents i SET ref = forewarn_incident_ref_prefix(i.kind, i.regions) || '-' ||
                             upper(lpad(to_hex(r.n), 4, '0'))
FROM (SELECT id, row_number() OVER (ORDER BY created_at, id) AS n FROM incidents) r
WHERE r.id = i.id;

ALTER TABLE incidents ALTER COLUMN ref SET NOT NULL;
ALTER TABLE incidents ADD CONSTRAINT incidents_ref_key UNIQUE (ref);
ALTER TABLE incidents ADD CONSTRAINT incidents_ref_format CHECK (ref ~ '^[A-Z]{3}-[0-9A-HJKMNP-TV-Z]{4,6}$');

CREATE FUNCTION forewarn_assign_incident_ref() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  prefix text := forewarn_incident_ref_prefix(NEW.kind, NEW.regions);
  candidate text;
BEGIN
  IF NEW.ref IS NOT NULL THEN
    RETURN NEW;
  END IF;
  FOR attempt IN 1..20 LOOP
    candidate := prefix || '-' || forewarn_crockford_random(CASE WHEN attempt <= 10 THEN 4 ELSE 6 END);
    IF NOT EXISTS (SELECT 1 FROM incidents WHERE ref = candidate) THEN
      NEW.ref := candidate;
      RETURN NEW;
    END IF;
  END LOOP;
  RAISE EXCEPTION 'no free incident reference with prefix %', prefix;
END
$$;

CREATE TRIGGER incidents_assign_ref BEFORE INSERT ON incidents
  FOR EACH ROW EXECUTE FUNCTION forewarn_assign_incident_ref();

-- The links notices carry to the status page (BASE/n/TOKEN): one random token
-- per (incident, language, time zone), made the first time a notice needs it.
-- It opens the incident's page in that language and zone and names no
-- customer, so one customer's link shows nothing another's would not. Eight
-- Crockford base32 characters: 40 bits, and the status page throttles misses.
CREATE TABLE status_links (
  token       text PRIMARY KEY CHECK (token ~ '^[0-9A-HJKMNP-TV-Z]{8}$'),
  incident_id uuid NOT NULL REFERENCES incidents (id),
  language    text NOT NULL CHECK (language IN ('ar', 'en')),
  time_zone   text NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  UNIQUE (incident_id, language, time_zone)
);
