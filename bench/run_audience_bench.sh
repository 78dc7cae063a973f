#!/usr/bin/env bash
# Audience streaming benchmark: the resolver's audience of one incident per kind of target, at
# N customers, on a durable PostgreSQL with PostGIS.
#
#   bench/run_audience_bench.sh [--customers N] [--rounds R] [--keep]
#
#   --customers N   synthetic electricity customers in riyadh (default 1000000), each attached
#                   to one of 2,000 transformers of a tree GRID > 10 substations > 100 feeders >
#                   2,000 transformers, and placed at random in the box 46.5-46.9 E, 24.5-24.9 N
#   --rounds R      streams per target, the best reported (default 2)
#   --keep          keep the scratch directory
#
# The targets, each reaching every customer (so the rows are the same and the rates compare):
#   regions        services x regions: what every incident was before targeting (the baseline)
#   asset subtree  the asset GRID: the recursive walk over 2,111 assets, then the attachments
#   polygon        a 64-vertex polygon around the whole box (ST_Covers over the GiST index)
#   circle         a circle of 40 km around the box's centre
# Each line prints customers and recipients (customer x channel), seconds, customers/s, the ratio
# to the regions stream, and the bench process's RSS and peak RSS after the stream (flat: nothing
# of the audience is kept).
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"
# shellcheck source=scripts/lib.sh
source scripts/lib.sh

customers=1000000
rounds=2
keep=0
while (($#)); do
  case "$1" in
    --customers) customers="${2:?}"; shift 2 ;;
    --rounds) rounds="${2:?}"; shift 2 ;;
    --keep) keep=1; shift ;;
    -h | --help) sed -n '4,19p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
    *) die "unknown option $1" ;;
  esac
done
[[ "$customers" =~ ^[1-9][0-9]*$ ]] || die "--customers wants a positive integer"
[[ "$rounds" =~ ^[1-9][0-9]?$ ]] || die "--rounds wants 1..99"

BUILD_DIR="${BUILD_DIR:-build}"
bench_bin="$BUILD_DIR/bench/audience/forewarn-audience-bench"
[[ -x "$bench_bin" ]] || BUILD_DIR="$BUILD_DIR" bash scripts/build.sh >&2

SCRATCH="$(mktemp -d /tmp/forewarn-audience-bench.XXXXXX)"
chmod 711 "$SCRATCH"  # the postgres user must reach $SCRATCH/pg
cp "$bench_bin" "$SCRATCH/"
cleanup() {
  local rc=$?
  trap - EXIT
  bash scripts/pg.sh stop "$SCRATCH" >/dev/null 2>&1 || true
  if ((keep)); then log "scratch directory kept: $SCRATCH"; else remove_scratch; fi
  exit "$rc"
}
trap cleanup EXIT

PG_URI="$(FOREWARN_PG_FAST=0 bash scripts/pg.sh start "$SCRATCH")"
sql() { psql "$PG_URI" -X -q -At -v ON_ERROR_STOP=1 "$@"; }
"$SCRATCH/forewarn-audience-bench" --pg "$PG_URI" --migrate

log "loading $customers customers, 2,111 assets, locations"
t0=$(date +%s.%N)
sql <<SQL
INSERT INTO services VALUES ('electricity', 'Electricity', 'الكهرباء');
INSERT INTO regions VALUES ('riyadh', 'Riyadh', 'الرياض');
INSERT INTO assets (code, kind, parent_code, name_ar, name_en) VALUES ('GRID', 'grid', NULL, 'الشبكة', 'Grid');
INSERT INTO assets (code, kind, parent_code, name_ar, name_en)
  SELECT 'S' || s, 'substation', 'GRID', 'محطة ' || s, 'Substation ' || s FROM generate_series(1, 10) s;
INSERT INTO assets (code, kind, parent_code, name_ar, name_en)
  SELECT 'F' || f, 'feeder', 'S' || (f % 10 + 1), 'مغذي ' || f, 'Feeder ' || f FROM generate_series(1, 100) f;
INSERT INTO assets (code, kind, parent_code, name_ar, name_en)
  SELECT 'T' || t, 'transformer', 'F' || (t % 100 + 1), 'محول ' || t, 'Transformer ' || t
  FROM generate_series(1, 2000) t;
INSERT INTO customers (id, name, locale, time_zone, phone, email, channels_unplanned, location)
  SELECT i, 'Customer ' || i, CASE WHEN i % 5 < 3 THEN 'ar' ELSE 'en' END, 'Asia/Riyadh',
         CASE WHEN i % 3 <> 1 THEN '+9665' || lpad(i::text, 8, '0') END,
         CASE WHEN i % 3 <> 0 THEN 'c' || i || '@example.com' END, 3,
         ST_SetSRID(ST_MakePoint(46.5 + random() * 0.4, 24.5 + random() * 0.4), 4326)
  FROM generate_series(1, $customers) i;
INSERT INTO customer_services (service_code, region_code, customer_id)
  SELECT 'electricity', 'riyadh', i FROM generate_series(1, $customers) i;
INSERT INTO customer_assets (asset_code, service_code, customer_id)
  SELECT 'T' || (i % 2000 + 1), 'electricity', i FROM generate_series(1, $customers) i;
VACUUM ANALYZE;
SQL
log "loaded in $(python3 -c "import time; print(f'{time.time() - $t0:.1f}')") s"

# A 64-vertex polygon around the box (a circle of 0.35 degrees about its centre, as [lon, lat]).
python3 - >"$SCRATCH/polygon.json" <<'PY'
import json, math
ring = [[46.7 + 0.35 * math.cos(2 * math.pi * k / 64), 24.7 + 0.35 * math.sin(2 * math.pi * k / 64)]
        for k in range(64)]
ring.append(ring[0])
print(json.dumps({"type": "MultiPolygon", "coordinates": [[ring]]}))
PY

echo "== audience streaming: $customers customers, $(nproc) CPUs, PostgreSQL durable, best of $rounds"
"$SCRATCH/forewarn-audience-bench" --pg "$PG_URI" --polygon-file "$SCRATCH/polygon.json" --asset GRID \
  --circle-lat 24.7 --circle-lon 46.7 --circle-radius 40000 --rounds "$rounds"
