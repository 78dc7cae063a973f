-- Forewarn schema, version 11: precise targeting. An incident reaches the union
-- of its selectors — services x regions (as before), network assets with
-- everything below them, an uploaded list of customers, a map area — always
-- restricted to customers of its services (services/pg/audience_sql.h).

-- PostGIS does the map areas' containment. Creating the extension needs a
-- superuser: where the migrating role is not one, a DBA runs
-- CREATE EXTENSION postgis once beforehand and this is a no-op.
CREATE EXTENSION IF NOT EXISTS postgis;

-- The network asset tree (utility: substation > feeder > transformer; telco:
-- site > cell; bank: branch). Byte-wise collation, as external ids: incidents
-- and imports look up many codes at once.
CREATE TABLE assets (
  code        text COLLATE "C" PRIMARY KEY CHECK (code ~ '^[A-Za-z0-9_.:-]{1,64}$'),
  kind        text NOT NULL CHECK (kind ~ '^[a-z0-9_]{1,32}$'),
  parent_code text COLLATE "C" REFERENCES assets (code),
  name_ar     text NOT NULL,
  name_en     text NOT NULL,
  updated_at  timestamptz NOT NULL DEFAULT now(),
  CHECK (parent_code IS DISTINCT FROM code)
);
-- A subtree is walked from its root down.
CREATE INDEX assets_parent ON assets (parent_code);

-- Which asset supplies which customer, per service. An incident on an asset
-- reaches the customers attached to it or to any asset below it, for the
-- incident's services.
CREATE TABLE customer_assets (
  asset_code   text COLLATE "C" NOT NULL REFERENCES assets (code),
  service_code text NOT NULL REFERENCES services (code),
  customer_id  bigint NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
  PRIMARY KEY (asset_code, service_code, customer_id)
);
CREATE INDEX customer_assets_customer ON customer_assets (customer_id);

-- Where the customer is (WGS 84), for map areas; NULL: not on the map.
ALTER TABLE customers ADD COLUMN location geometry(Point, 4326);
CREATE INDEX customers_location ON customers USING gist (location);

-- Uploaded lists of affected customers (UploadAudience), resolved to ids
-- when uploaded. An incident names one by id.
CREATE TABLE audiences (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  label       text NOT NULL DEFAULT '',
  created_by  text NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  entries     bigint NOT NULL,
  customers   bigint NOT NULL,
  unknown     bigint NOT NULL
);
CREATE TABLE audience_members (
  audience_id uuid NOT NULL REFERENCES audiences (id) ON DELETE CASCADE,
  customer_id bigint NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
  PRIMARY KEY (audience_id, customer_id)
);
CREATE INDEX audience_members_customer ON audience_members (customer_id);

-- An incident's selectors beside services x regions, on the incident and on
-- every version (a version's audience is computed from its own snapshot,
-- and an update's notices from the difference between two versions).
-- area_geojson: a MultiPolygon as GeoJSON, or area_circle: {lat, lon,
-- radius in metres}; forewarn_area() makes either the geometry.
ALTER TABLE incidents
  ADD COLUMN asset_codes text[] COLLATE "C" NOT NULL DEFAULT '{}',
  ADD COLUMN audience_id uuid REFERENCES audiences (id),
  ADD COLUMN area_geojson text,
  ADD COLUMN area_circle double precision[],
  ADD COLUMN area_name_ar text,
  ADD COLUMN area_name_en text;
ALTER TABLE incident_versions
  ADD COLUMN asset_codes text[] COLLATE "C" NOT NULL DEFAULT '{}',
  ADD COLUMN audience_id uuid REFERENCES audiences (id),
  ADD COLUMN area_geojson text,
  ADD COLUMN area_circle double precision[],
  ADD COLUMN area_name_ar text,
  ADD COLUMN area_name_en text;

-- The geometry of an incident's area: a circle becomes a polygon of 256
-- vertices on the WGS 84 spheroid (its edge within 0.008 % of the radius:
-- 0.4 m at 5 km), a GeoJSON MultiPolygon is read as WGS 84. IMMUTABLE and
-- SQL: called with constants (the audience statement's parameters), the
-- planner computes it once, before choosing the spatial index.
CREATE FUNCTION forewarn_area(geojson text, circle double precision[]) RETURNS geometry
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE
    WHEN circle IS NOT NULL THEN
      ST_Buffer(ST_SetSRID(ST_MakePoint(circle[2], circle[1]), 4326)::geography, circle[3], 'quad_segs=64')::geometry
    WHEN geojson IS NOT NULL AND geojson <> '' THEN ST_SetSRID(ST_GeomFromGeoJSON(geojson), 4326)
  END
$$;
