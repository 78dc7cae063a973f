#!/usr/bin/env bash
# Customer import benchmark: `forewarn customers import FILE` (CLI → gRPC UpsertCustomers →
# intake → PostgreSQL) against a plain-tools baseline moving the same file into the same
# PostgreSQL, for one or more sizes, each on a fresh database and a fresh intake.
#
#   bench/run_import_bench.sh [--customers N[,N...]] [--bad K] [--batch-size B] [--keep]
#                              [--durable|--fast] [--kafka real|mock]
#
#   --customers N,...   sizes to measure (default 100000,1000000)
#   --bad K             make K rows of each file invalid (default 10): the import must report
#                       exactly K rejected rows and store the rest
#   --batch-size B      the CLI's --batch-size (default: the CLI's own)
#   --durable|--fast    PostgreSQL as in production (the default) or with fsync,
#                       full_page_writes and synchronous_commit off
#   --kafka real|mock   the broker the intake checks its topics on (default mock: the import
#                       does not use Kafka)
#
# Per size it prints: the first import (rows/s, elapsed, inserted/rejected), the second import
# of the same file (must report every valid row unchanged), the baseline
#   psql \copy bench_import FROM FILE CSV HEADER   (a plain table of text columns)
# the ratio of the first import's rows/s to the baseline's, and the peak RSS of the CLI and
# the intake. The last lines compare the peak RSS of the largest size with the smallest.
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"
# shellcheck source=scripts/lib.sh
source scripts/lib.sh

sizes=100000,1000000
bad=10
batch=()
keep=0
pg_mode=durable
usage() {
  sed -n '5,17p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
  exit 2
}
while (($#)); do
  case "$1" in
    --customers) sizes="${2:?}"; shift 2 ;;
    --bad) bad="${2:?}"; shift 2 ;;
    --batch-size) batch=(--batch-size "${2:?}"); shift 2 ;;
    --keep) keep=1; shift ;;
    --durable) pg_mode=durable; shift ;;
    --fast) pg_mode=fast; shift ;;
    --kafka) FOREWARN_KAFKA="${2:?}"; shift 2 ;;
    -h | --help) usage ;;
    *) echo "unknown option $1" >&2; usage ;;
  esac
done
[[ "$sizes" =~ ^[1-9][0-9]*(,[1-9][0-9]*)*$ ]] || die "--customers wants N or N,N,..."
[[ "$bad" =~ ^[0-9]+$ ]] || die "--bad wants a number"
export FOREWARN_KAFKA="${FOREWARN_KAFKA:-mock}"

BUILD_DIR="${BUILD_DIR:-build}"
need=(services/cmd/intake/forewarn-intake services/cmd/devkafka/forewarn-devkafka services/cmd/cli/forewarn)
for b in "${need[@]}"; do
  [[ -x "$BUILD_DIR/$b" ]] || { BUILD_DIR="$BUILD_DIR" bash scripts/build.sh >&2; break; }
done
for tool in psql python3 /usr/bin/time; do
  command -v "$tool" >/dev/null || die "$tool is not installed (apt-get install postgresql-client python3 time)"
done

SCRATCH="$(mktemp -d /tmp/forewarn-import-bench.XXXXXX)"
chmod 711 "$SCRATCH"
mkdir -p "$SCRATCH/bin" "$SCRATCH/logs"
for b in "${need[@]}"; do cp "$BUILD_DIR/$b" "$SCRATCH/bin/"; done
cp bench/bench_util.py bench/make_customers.py "$SCRATCH/bin/"
BIN="$SCRATCH/bin"
util() { python3 "$BIN/bench_util.py" "$@"; }
cleanup() {
  local rc=$?
  trap - EXIT
  ((rc == 0)) || tail_logs 20
  stop_all
  if ((keep)); then log "scratch directory kept: $SCRATCH"; else remove_scratch; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

pg_start=(start "$SCRATCH")
[[ "$pg_mode" == fast ]] && pg_start+=(--fast)
PG_URI="$(FOREWARN_PG_FAST=0 bash scripts/pg.sh "${pg_start[@]}")"
log "postgres: $(cat "$(readlink -f "$SCRATCH/pg")/durability")"
DEVKAFKA_BIN="$BIN/forewarn-devkafka" start_kafka forewarn.events:4 forewarn.notices:12 \
  forewarn.notices.retry:4 forewarn.notices.dlq:1
sql() { psql "$1" -X -q -At -v ON_ERROR_STOP=1 "${@:2}"; }
summary_field() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$@"; }

# One size: fresh database and intake; import twice; the baseline; RSS.
measure() {
  local n=$1 db="bench_$1" file="$SCRATCH/customers-$1.csv"
  python3 "$BIN/make_customers.py" "$n" --bad "$bad" >"$file"
  sql "$PG_URI" -c "CREATE DATABASE $db"
  local uri="${PG_URI%/*}/$db"
  start_bg "intake-$n" "$SCRATCH/logs/intake-$n.log" "$BIN/forewarn-intake" --pg "$uri" --kafka "$KAFKA" \
    --listen 127.0.0.1:0 --port-file "$SCRATCH/intake-$n.port"
  wait_for_file "$SCRATCH/intake-$n.port" 60 '^[0-9]+$'
  local intake_pid target
  intake_pid="$(<"$SCRATCH/pids/intake-$n.pid")"
  target="127.0.0.1:$(<"$SCRATCH/intake-$n.port")"
  sql "$uri" -f scripts/sample_catalog.sql
  local pg_pid pg_cpu0 intake_cpu0
  pg_pid="$(head -n 1 "$(readlink -f "$SCRATCH/pg")/data/postmaster.pid")"
  pg_cpu0="$(util pgcpu "$pg_pid")"
  intake_cpu0="$(util proc "$intake_pid" | cut -d' ' -f1)"
  local run=(/usr/bin/time -f "%M %U %S" -o "$SCRATCH/cli-rss-$n" "$BIN/forewarn" --target "$target" customers import
    "$file" --json --report "$SCRATCH/rejected-$n.csv" "${batch[@]}")
  local t0 t1 t2 rc=0
  t0="$EPOCHREALTIME"
  "${run[@]}" >"$SCRATCH/first-$n.json" 2>"$SCRATCH/logs/cli-$n.log" || rc=$?
  t1="$EPOCHREALTIME"
  ((rc == 0 || (rc == 1 && bad > 0))) || die "first import of $n failed (exit $rc)"
  local cli_rss intake_rss cpu
  cpu="$(tail -n 1 "$SCRATCH/cli-rss-$n" | awk '{ printf "cli %.1f", $2 + $3 }'), intake $(util proc "$intake_pid" |
    awk -v a="$intake_cpu0" '{ printf "%.1f", $1 - a }'), postgres $(util pgcpu "$pg_pid" |
    awk -v a="$pg_cpu0" '{ printf "%.1f", $1 - a }')"
  cli_rss="$(tail -n 1 "$SCRATCH/cli-rss-$n" | cut -d' ' -f1)"
  rc=0
  "${run[@]}" >"$SCRATCH/second-$n.json" 2>>"$SCRATCH/logs/cli-$n.log" || rc=$?
  t2="$EPOCHREALTIME"
  ((rc == 0 || (rc == 1 && bad > 0))) || die "second import of $n failed (exit $rc)"
  cli_rss="$(printf '%s\n%s\n' "$cli_rss" "$(tail -n 1 "$SCRATCH/cli-rss-$n" | cut -d' ' -f1)" | sort -n | tail -1)"
  intake_rss="$(util proc "$intake_pid" | cut -d' ' -f2)"
  stop_pid "intake-$n" "$intake_pid"
  : >"$SCRATCH/pids/intake-$n.pid" # stopped: no longer one of the processes that must be alive
  # Baseline: the same file into a plain table of the same database server.
  sql "$uri" -c "CREATE TABLE bench_import (external_id text, name text, language text, time_zone text,
    phone text, email text, services text, accounts text, beneficiaries text, unplanned_outages text,
    planned_maintenance text, banking_changes text)"
  local b0 b1
  b0="$EPOCHREALTIME"
  sql "$uri" -c "\\copy bench_import FROM '$file' CSV HEADER"
  b1="$EPOCHREALTIME"
  sql "$PG_URI" -c "DROP DATABASE $db"
  local stored
  stored="$(summary_field "$SCRATCH/first-$n.json" inserted)"
  ((stored == n - bad)) || die "$n rows, $bad bad: expected $((n - bad)) inserted, got $stored"
  (($(summary_field "$SCRATCH/first-$n.json" rejected) == bad)) || die "expected $bad rejected rows"
  (($(summary_field "$SCRATCH/second-$n.json" unchanged) == n - bad)) || die "second import: not all unchanged"
  python3 - "$n" "$t0" "$t1" "$t2" "$b0" "$b1" "$cli_rss" "$intake_rss" "$SCRATCH/second-$n.json" "$cpu" <<'PY'
import json, sys
n = int(sys.argv[1]); t0, t1, t2, b0, b1 = map(float, sys.argv[2:7])
cli_rss, intake_rss = int(sys.argv[7]), int(sys.argv[8])
second = json.load(open(sys.argv[9]))
first_s, second_s, base_s = t1 - t0, t2 - t1, b1 - b0
print(f"{n:>9} customers: import {first_s:6.1f} s ({n / first_s:9,.0f} rows/s); "
      f"again {second_s:5.1f} s ({second['unchanged']:,} unchanged); "
      f"baseline \\copy {base_s:5.1f} s ({n / base_s:9,.0f} rows/s); ratio {base_s / first_s:.2f}; "
      f"peak RSS cli {cli_rss / 1024:.1f} MiB, intake {intake_rss / 1024:.1f} MiB; "
      f"first import CPU s: {sys.argv[10]}")
PY
}

results="$SCRATCH/results"
IFS=, read -r -a size_list <<<"$sizes"
for n in "${size_list[@]}"; do
  log "measuring $n customers"
  measure "$n" | tee -a "$results"
done
if ((${#size_list[@]} > 1)); then
  python3 - "$results" <<'PY'
import re, sys
rows = [l for l in open(sys.argv[1]) if "customers:" in l]
def rss(l, who): return float(re.search(who + r" ([0-9.]+) MiB", l).group(1))
small, large = rows[0], rows[-1]
for who in ("cli", "intake"):
    print(f"peak RSS {who}: {rss(small, who):.1f} -> {rss(large, who):.1f} MiB "
          f"({rss(large, who) / rss(small, who):.2f}x from the smallest to the largest size)")
PY
fi
