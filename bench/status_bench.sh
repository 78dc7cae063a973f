#!/usr/bin/env bash
# forewarn-status under load: requests/s and p99 of the incident page and the overview from one
# core (forewarn-status pinned with taskset to CPU ${STATUS_CPU:-0}) while a fan-out runs
# (bench/run_bench.sh in the background, its own stack and the mock broker).
#
#   bench/status_bench.sh [--duration S] [--connections C] [--fanout-customers N] [--no-fanout] [--keep]
#
#   --duration S           seconds of load per page (default 20)
#   --connections C        wrk's open connections (default 32)
#   --fanout-customers N   customers of the fan-out that runs meanwhile (default
#                          ${FANOUT_CUSTOMERS:-200000}); a small N (e.g. 1000) is a smoke run
#   --no-fanout            measure on an otherwise idle stack
#   --keep                 keep the scratch directory (logs, PostgreSQL data)
#
# Load from Debian's wrk (installed here when missing), run on the other CPUs. Prints one line
# per page: requests/s, p50, p99. Run it on a quiet machine: it measures the machine too.
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"
# shellcheck source=scripts/lib.sh
source scripts/lib.sh

usage() { sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"; }
duration=20
connections=32
fanout_customers="${FANOUT_CUSTOMERS:-200000}"
fanout=1
keep=0
while (($#)); do
  case "$1" in
    --duration) duration="${2:?--duration needs seconds}"; shift 2 ;;
    --connections) connections="${2:?--connections needs a count}"; shift 2 ;;
    --fanout-customers) fanout_customers="${2:?--fanout-customers needs a count}"; shift 2 ;;
    --no-fanout) fanout=0; shift ;;
    --keep) keep=1; shift ;;
    -h | --help) usage; exit 0 ;;
    *) die "unknown argument $1 (see bench/status_bench.sh --help)" ;;
  esac
done
[[ "$duration" =~ ^[1-9][0-9]*$ && "$connections" =~ ^[1-9][0-9]*$ && "$fanout_customers" =~ ^[1-9][0-9]*$ ]] ||
  die "--duration, --connections and --fanout-customers take positive whole numbers"

if ! command -v wrk >/dev/null; then
  sudo=()
  [[ $EUID -eq 0 ]] || sudo=(sudo)
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -q --no-install-recommends wrk >&2
fi
BUILD_DIR="${BUILD_DIR:-build}"
[[ -x "$BUILD_DIR/services/cmd/status/forewarn-status" ]] || bash scripts/build.sh
BIN="$(cd "$BUILD_DIR" && pwd)"
SCRATCH="$(mktemp -d /tmp/forewarn-status-bench.XXXXXX)"
chmod 711 "$SCRATCH"
fanout_pid=""
cleanup() {
  [[ -z "$fanout_pid" ]] || { kill -TERM "$fanout_pid" 2>/dev/null; wait "$fanout_pid" 2>/dev/null || true; }
  stop_all
  ((keep)) || remove_scratch
}
trap cleanup EXIT

PG_URI="$(bash scripts/pg.sh start "$SCRATCH")"
sql() { psql "$PG_URI" -X -q -At -v ON_ERROR_STOP=1 "$@"; }
FOREWARN_KAFKA=mock DEVKAFKA_BIN="$BIN/services/cmd/devkafka/forewarn-devkafka" start_kafka \
  "forewarn.events:4" "forewarn.notices:4" "forewarn.notices.retry:1" "forewarn.notices.dlq:1"
start_bg intake "$SCRATCH/logs/intake.log" "$BIN/services/cmd/intake/forewarn-intake" --pg "$PG_URI" \
  --kafka "$KAFKA" --listen 127.0.0.1:0 --port-file "$SCRATCH/intake.port"
wait_for_file "$SCRATCH/intake.port" 60 '^[0-9]+$'
sql -c "INSERT INTO services VALUES ('electricity','Electricity','الكهرباء'),('water','Water','المياه');
        INSERT INTO regions VALUES ('riyadh','Riyadh','الرياض'),('jeddah','Jeddah','جدة');"
cli() { "$BIN/services/cmd/cli/forewarn" --target "127.0.0.1:$(<"$SCRATCH/intake.port")" "$@"; }
for i in $(seq 1 20); do # an overview of a busy day: 20 outages
  region=$([[ $((i % 2)) == 0 ]] && echo riyadh || echo jeddah)
  cli incident create --idempotency-key "bench-$i" --service electricity --region "$region" \
    --reason-en "Cable fault $i" --reason-ar "عطل في الكابل $i" --restore-in 3h >/dev/null
done
REF="$(sql -c "SELECT ref FROM incidents ORDER BY created_at LIMIT 1")"

start_bg status "$SCRATCH/logs/status.log" taskset -c "${STATUS_CPU:-0}" "$BIN/services/cmd/status/forewarn-status" \
  --pg "$PG_URI" --listen 127.0.0.1:0 --port-file "$SCRATCH/status.port"
wait_for_file "$SCRATCH/status.port" 30 '^[0-9]+$'
BASE="http://127.0.0.1:$(<"$SCRATCH/status.port")"

if ((fanout)); then
  log "starting a fan-out of $fanout_customers customers (bench/run_bench.sh, log: $SCRATCH/fanout.log)"
  bash bench/run_bench.sh --customers "$fanout_customers" --kafka mock >"$SCRATCH/fanout.log" 2>&1 &
  fanout_pid=$!
  # Measure once its notices flow: the customers are loaded and the measured incident is out.
  for _ in $(seq 1 600); do grep -qE 'waiting for [0-9]+ notices' "$SCRATCH/fanout.log" 2>/dev/null && break; sleep 0.5; done
fi

others="$(python3 -c "import os; print(','.join(str(c) for c in sorted(os.sched_getaffinity(0)) if c != ${STATUS_CPU:-0}) or '0')")"
measure() { # NAME PATH
  local out
  out="$(taskset -c "$others" wrk -t2 -c"$connections" -d"${duration}s" --latency "$BASE$2")"
  printf '%-10s %s req/s  p50 %s  p99 %s  (non-2xx: %s)\n' "$1" \
    "$(awk '/Requests\/sec/ {print $2}' <<<"$out")" "$(awk '$1 == "50%" {print $2}' <<<"$out")" \
    "$(awk '$1 == "99%" {print $2}' <<<"$out")" "$(awk '/Non-2xx/ {print $NF}' <<<"$out" | grep . || echo 0)"
}
log "forewarn-status on CPU ${STATUS_CPU:-0}; wrk on CPUs $others, $connections connections, ${duration}s per page"
measure incident "/i/$REF?lang=ar"
measure overview "/?lang=en"
if ((fanout)); then
  log "fan-out still running: $(kill -0 "$fanout_pid" 2>/dev/null && echo yes || echo "no (finished during the measurement)")"
fi
