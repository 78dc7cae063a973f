#!/usr/bin/env bash
# Fan-out benchmark: one incident affecting N customers, measured end to end against a
# plain-tools baseline of the same data movement on the same infrastructure.
#
#   bench/run_bench.sh [--customers N] [--notifiers K] [--notifier-batch B] [--timeout S] [--keep]
#                       [--durable|--fast] [--pg-defaults] [--kafka real|mock] [--outbox full|compact]
#                       [--pg-stats] [--perf] [--pg-read]
#
#   --kafka real|mock   Apache Kafka, one KRaft node (scripts/kafka.sh; the default, heap
#                       FOREWARN_KAFKA_HEAP, 1g here) or librdkafka's mock cluster
#                       (forewarn-devkafka: in memory, no replication; FOREWARN_KAFKA=mock too)
#   --durable|--fast    PostgreSQL as in production (fsync, full_page_writes, synchronous_commit
#                       on; the default) or with all three off (scripts/pg.sh start --fast: not
#                       crash-safe); the report says which
#   --pg-defaults       keep PostgreSQL's default sizing (128 MB shared_buffers, 1 GB max_wal_size,
#                       5 min checkpoints) instead of the production-like 2 GB, 16 GB, 30 min
#   --customers N       synthetic customers, all on electricity in riyadh (default 100000)
#   --notifiers K       notifier worker processes (default 2)
#   --notifier-batch B  pass --batch-size B to the notifiers (default: the notifier's own)
#   --notifier-prop K=V pass --kafka-prop K=V to the notifiers (repeatable), e.g.
#                       queued.max.messages.kbytes=8192 to bound the consumer's prefetch buffer
#   --resolver-prop K=V pass --kafka-prop K=V to the resolver (repeatable), e.g. linger.ms=20
#   --timeout S         give up waiting for the notices after S seconds (default 120 + N/2000)
#   --outbox full|compact
#                       what the notifiers' file outbox (the provider's stand-in) keeps per
#                       notice: its message id and a hash of its text (--outbox-compact, the
#                       default), or the whole notice (~1.8 KB: 2.4 GB at 1M, written and
#                       JSON-escaped by the notifiers, a quarter of their CPU). Either way the
#                       completeness check counts every line and every distinct message id
#   --keep              keep the scratch directory (logs, outbox, PostgreSQL data)
#   --pg-stats          load pg_stat_statements and print the top statements of the fan-out
#   --perf              perf-record (cpu-clock) the resolver, notifiers and PostgreSQL during the
#                       fan-out; prints the hottest symbols per process (perf.data in scratch)
#   --pg-read           start a streaming replica (scripts/pg.sh replica) and run the resolver and
#                       intake with --pg-read on it; the report adds the replica's CPU seconds
#                       (the primary's line compares with a run without it)
#
# Uses the binaries in ${BUILD_DIR:-build} (built with scripts/build.sh if missing), copied into
# the scratch directory first so a concurrent rebuild cannot swap them mid-run. Everything runs
# on loopback ports chosen at run time and is stopped by pid on exit.
#
# Customers: id % 3 = 0 SMS only, 1 email only, 2 both; 60% Arabic; four time zones. Before the
# measured incident a warm-up incident (water/riyadh, 20 customers) proves every consumer is in
# its group. The measured figures come from the notice ledger (updated_at of 'sent' rows) and
# the outbox files (sent_at); the baseline is
#   psql COPY (audience query) TO STDOUT | kcat -P     then     kcat -C | psql COPY bench_ledger
# and the last line of output is Forewarn's throughput as a ratio of the baseline's.
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"
# shellcheck source=scripts/lib.sh
source scripts/lib.sh

customers=100000
notifiers=2
notifier_batch=""
timeout_s=""
keep=0
pg_stats=0
perf_rec=0
pg_mode=durable
pg_tune=1
outbox_mode=""
notifier_props=()
resolver_props=()
pg_read=0
usage() {
  sed -n '4,36p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
  exit 2
}
while (($#)); do
  case "$1" in
    --customers) customers="${2:?}"; shift 2 ;;
    --notifiers) notifiers="${2:?}"; shift 2 ;;
    --notifier-batch) notifier_batch="${2:?}"; shift 2 ;;
    --timeout) timeout_s="${2:?}"; shift 2 ;;
    --keep) keep=1; shift ;;
    --durable) pg_mode=durable; shift ;;
    --fast) pg_mode=fast; shift ;;
    --pg-defaults) pg_tune=0; shift ;;
    --kafka) FOREWARN_KAFKA="${2:?}"; shift 2 ;;
    --outbox) outbox_mode="${2:?}"; shift 2 ;;
    --pg-stats) pg_stats=1; shift ;;
    --perf) perf_rec=1; shift ;;
    --pg-read) pg_read=1; shift ;;
    --notifier-prop) notifier_props+=(--kafka-prop "${2:?}"); shift 2 ;;
    --resolver-prop) resolver_props+=(--kafka-prop "${2:?}"); shift 2 ;;
    -h | --help) usage ;;
    *) echo "unknown option $1" >&2; usage ;;
  esac
done
[[ "$customers" =~ ^[1-9][0-9]*$ ]] || die "--customers wants a positive integer"
[[ "$notifiers" =~ ^[1-9][0-9]?$ ]] || die "--notifiers wants 1..99"
[[ -z "$notifier_batch" || "$notifier_batch" =~ ^[1-9][0-9]*$ ]] || die "--notifier-batch wants a positive integer"
[[ -z "$outbox_mode" ]] && outbox_mode=compact
[[ "$outbox_mode" =~ ^(full|compact)$ ]] || die "--outbox wants full or compact"
export FOREWARN_KAFKA="${FOREWARN_KAFKA:-real}"
[[ "$FOREWARN_KAFKA" =~ ^(real|mock)$ ]] || die "--kafka wants real or mock"
export FOREWARN_KAFKA_HEAP="${FOREWARN_KAFKA_HEAP:-1g}"
: "${timeout_s:=$((120 + customers / 2000))}"

PARTITIONS=64
BUILD_DIR="${BUILD_DIR:-build}"
need=(services/cmd/intake/forewarn-intake services/cmd/resolver/forewarn-resolver
  notifier/cmd/forewarn-notifier services/cmd/devkafka/forewarn-devkafka services/cmd/cli/forewarn)
for b in "${need[@]}"; do
  if [[ ! -x "$BUILD_DIR/$b" ]]; then
    log "missing $BUILD_DIR/$b: building"
    BUILD_DIR="$BUILD_DIR" bash scripts/build.sh >&2
    break
  fi
done
for tool in psql kcat python3; do
  command -v "$tool" >/dev/null || die "$tool is not installed (apt-get install postgresql-client kcat python3)"
done

SCRATCH="$(mktemp -d /tmp/forewarn-bench.XXXXXX)"
chmod 711 "$SCRATCH" # the postgres user must reach $SCRATCH/pg
mkdir -p "$SCRATCH/bin" "$SCRATCH/logs" "$SCRATCH/outbox"
for b in "${need[@]}"; do cp "$BUILD_DIR/$b" "$SCRATCH/bin/"; done
cp -r templates "$SCRATCH/templates"
cp bench/bench_util.py "$SCRATCH/bin/"
BIN="$SCRATCH/bin"
util() { python3 "$BIN/bench_util.py" "$@"; }

cleanup() {
  local rc=$?
  trap - EXIT
  ((rc == 0)) || tail_logs 20
  stop_all
  [[ ! -f "$SCRATCH/replica/pg/data/postmaster.pid" ]] || bash scripts/pg.sh stop "$SCRATCH/replica" || true
  if ((keep)); then
    log "scratch directory kept: $SCRATCH"
  else
    remove_scratch
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- Infrastructure --------------------------------------------------------------------------
pg_start=(start "$SCRATCH")
[[ "$pg_mode" == fast ]] && pg_start+=(--fast)
PG_URI="$(FOREWARN_PG_FAST=0 bash scripts/pg.sh "${pg_start[@]}")"
pg_durability="$(cat "$(readlink -f "$SCRATCH/pg")/durability")"
log "postgres: $pg_durability"
PG_DATA="$(readlink -f "$SCRATCH/pg")/data"
sql() { psql "$PG_URI" -X -q -At -v ON_ERROR_STOP=1 "$@"; }
# Sized like a production server (PostgreSQL's defaults suit a small machine): 2 GB of buffers
# (a twelfth of this machine's memory) and checkpoints far enough apart that a 10M fan-out's
# ledger pages are not written again as full-page images after every checkpoint. Durability
# (fsync, full_page_writes, synchronous_commit) is untouched.
pg_settings=()
((pg_tune)) && pg_settings=("shared_buffers = '2GB'" "max_wal_size = '16GB'" "checkpoint_timeout = '30min'")
((pg_stats)) && pg_settings+=("shared_preload_libraries = 'pg_stat_statements'")
if ((${#pg_settings[@]})); then
  for setting in "${pg_settings[@]}"; do sql -c "ALTER SYSTEM SET $setting"; done
  # pg_ctl restart reuses the command line (port, durability settings) from postmaster.opts.
  (cd / && runuser -u postgres -- /usr/lib/postgresql/15/bin/pg_ctl restart -w -D "$PG_DATA" -m fast \
    -l "$PG_DATA/../log") >/dev/null
fi
((pg_stats)) && sql -c "CREATE EXTENSION pg_stat_statements"
pg_sizing="$(sql -c "SELECT current_setting('shared_buffers') || ' shared_buffers, max_wal_size ' ||
  current_setting('max_wal_size') || ', checkpoint_timeout ' || current_setting('checkpoint_timeout')")"
PG_PID="$(head -n 1 "$PG_DATA/postmaster.pid")"
read_args=()
if ((pg_read)); then # a streaming replica for the resolver's and intake's reads (--pg-read)
  pg_replica=(replica "$SCRATCH/replica" "$SCRATCH")
  [[ "$pg_mode" == fast ]] && pg_replica+=(--fast)
  read_args=(--pg-read "$(FOREWARN_PG_FAST=0 bash scripts/pg.sh "${pg_replica[@]}")")
  REPLICA_PID="$(head -n 1 "$(readlink -f "$SCRATCH/replica/pg")/data/postmaster.pid")"
  log "read replica: ${read_args[1]}"
fi
DEVKAFKA_BIN="$BIN/forewarn-devkafka" start_kafka "forewarn.events:4" "forewarn.notices:$PARTITIONS" \
  "bench.baseline:$PARTITIONS" "forewarn.notices.retry:4" "forewarn.notices.dlq:1"
kafka_label=kafka
[[ "$FOREWARN_KAFKA" == mock ]] && kafka_label=devkafka
kafka_pid="$(<"$KAFKA_PID_FILE")"

# --- Services (same flags as scripts/run_local.sh and tests/e2e/stack.cc) --------------------
start_bg intake "$SCRATCH/logs/intake.log" "$BIN/forewarn-intake" --pg "$PG_URI" "${read_args[@]}" --kafka "$KAFKA" \
  --listen 127.0.0.1:0 --port-file "$SCRATCH/intake.port"
wait_for_file "$SCRATCH/intake.port" 60 '^[0-9]+$' # migrations are applied once this exists
INTAKE_PORT="$(<"$SCRATCH/intake.port")"
cli() { "$BIN/forewarn" --target "127.0.0.1:$INTAKE_PORT" "$@"; }

# --- Synthetic customers ---------------------------------------------------------------------
log "loading $customers customers"
t_load0="$EPOCHREALTIME"
sql -v n="$customers" <<'EOF'
-- Bench data only: skip the per-row foreign-key triggers while bulk loading.
SET session_replication_role = replica;
INSERT INTO services (code, name_en, name_ar) VALUES
  ('electricity', 'Electricity', 'الكهرباء'), ('water', 'Water', 'المياه') ON CONFLICT DO NOTHING;
INSERT INTO regions (code, name_en, name_ar) VALUES ('riyadh', 'Riyadh', 'الرياض') ON CONFLICT DO NOTHING;
INSERT INTO customers (id, name, locale, time_zone, phone, email, channels_unplanned, channels_maintenance,
  channels_banking)
SELECT i,
  CASE WHEN i % 5 < 3 THEN 'عميل ' || i ELSE 'Customer ' || i END,
  CASE WHEN i % 5 < 3 THEN 'ar' ELSE 'en' END,
  CASE i % 20 WHEN 7 THEN 'Asia/Dubai' WHEN 11 THEN 'Europe/London'
              WHEN 13 THEN 'America/New_York' ELSE 'Asia/Riyadh' END,
  '+9665' || lpad(i::text, 8, '0'),
  'customer' || i || '@example.com',
  ch, ch, ch  -- bit 1 SMS, bit 2 email
FROM generate_series(1, :n) AS i,
  -- id % 3 = 1: email only; id % 3 = 0: SMS only; id % 3 = 2: both
  LATERAL (SELECT (i % 3 <> 1)::int + 2 * (i % 3 <> 0)::int) AS b(ch);
SELECT setval('customers_id_seq', greatest(:n, 1)) \g /dev/null
INSERT INTO customer_services (service_code, region_code, customer_id)
SELECT 'electricity', 'riyadh', i FROM generate_series(1, :n) AS i;
INSERT INTO customer_services (service_code, region_code, customer_id)
SELECT 'water', 'riyadh', i FROM generate_series(1, least(:n, 20)) AS i;
RESET session_replication_role;
ANALYZE;
EOF
t_load1="$EPOCHREALTIME"
expected_sql="SELECT count(*) FILTER (WHERE c.channels_unplanned & 1 <> 0 AND c.phone IS NOT NULL)
                   + count(*) FILTER (WHERE c.channels_unplanned & 2 <> 0 AND c.email IS NOT NULL)
              FROM customers c WHERE EXISTS (SELECT 1 FROM customer_services cs
                WHERE cs.customer_id = c.id AND cs.service_code = '%s' AND cs.region_code = 'riyadh')"
# shellcheck disable=SC2059
expected="$(sql -c "$(printf "$expected_sql" electricity)")"
# shellcheck disable=SC2059
warm_expected="$(sql -c "$(printf "$expected_sql" water)")"
# id%3=2 (both channels) adds one notice per such customer.
formula=$((customers + (customers + 1) / 3))
((expected == formula)) || die "expected $expected notices but the data formula says $formula"
log "loaded in $(awk -v a="$t_load0" -v b="$t_load1" 'BEGIN { printf "%.1f", b - a }') s; expected notices: $expected"

notifier_extra=()
[[ -n "$notifier_batch" ]] && notifier_extra=(--batch-size "$notifier_batch")
[[ "$outbox_mode" == compact ]] && notifier_extra+=(--outbox-compact)
notifier_extra+=("${notifier_props[@]}")
# Notices carry what production ones do: a verification code and the status link (one token per
# incident, language and zone: a handful of status_links rows for the whole fan-out).
(umask 077 && openssl rand -hex 32 >"$SCRATCH/message-code.key")
notifier_extra+=(--message-code-secret-file "$SCRATCH/message-code.key" --status-base-url https://status.forewarn.example)
start_bg resolver "$SCRATCH/logs/resolver.log" "$BIN/forewarn-resolver" --pg "$PG_URI" "${read_args[@]}" --kafka "$KAFKA" \
  --session-timeout-ms 3000 "${resolver_props[@]}"
for ((k = 1; k <= notifiers; k++)); do
  start_bg "notifier-$k" "$SCRATCH/logs/notifier-$k.log" "$BIN/forewarn-notifier" --pg "$PG_URI" \
    --kafka "$KAFKA" --templates "$SCRATCH/templates" --outbox-dir "$SCRATCH/outbox" \
    --session-timeout-ms 3000 "${notifier_extra[@]}"
done

sent_for() { sql -c "SELECT count(*) FROM notice_ledger WHERE incident_id = '$1' AND state = 'sent'"; }
incident_id_for() { sql -c "SELECT id FROM incidents WHERE idempotency_key = '$1'"; }
create_incident() { # KEY SERVICE
  cli incident create --idempotency-key "$1" --service "$2" --region riyadh \
    --reason-en "Emergency repair of a damaged underground cable" \
    --reason-ar "إصلاح طارئ لكابل أرضي متضرر" --restore-in 3h >>"$SCRATCH/logs/cli.log" 2>&1
}

# --- Warm-up: every consumer joined, connections open, templates loaded ----------------------
# Wait until every notifier has an assignment and no rebalance happened for 4 s.
deadline=$((SECONDS + 60))
while :; do
  all_alive || die "a service died during start-up"
  ready=1
  for ((k = 1; k <= notifiers; k++)); do
    grep -q "assigned forewarn.notices" "$SCRATCH/logs/notifier-$k.log" || ready=0
  done
  grep -q "assigned forewarn.events" "$SCRATCH/logs/resolver.log" || ready=0
  if ((ready)); then
    last_change="$(grep -h -E "assigned|revoked" "$SCRATCH"/logs/notifier-*.log | wc -l)"
    sleep 4
    [[ "$(grep -h -E "assigned|revoked" "$SCRATCH"/logs/notifier-*.log | wc -l)" == "$last_change" ]] && break
    continue
  fi
  ((SECONDS < deadline)) || die "consumers did not join their groups within 60 s"
  sleep 0.5
done
create_incident bench-warmup water
warm_id="$(incident_id_for bench-warmup)"
deadline=$((SECONDS + 60))
until (($(sent_for "$warm_id") >= warm_expected)); do
  all_alive || die "a service died during the warm-up"
  ((SECONDS < deadline)) || die "warm-up notices not sent within 60 s"
  sleep 0.2
done
log "warm-up done ($warm_expected notices); pipeline ready"

# --- The measured incident -------------------------------------------------------------------
declare -A outbox_offset
for ch in sms email; do
  f="$SCRATCH/outbox/$ch.jsonl"
  outbox_offset[$ch]="$([[ -f "$f" ]] && stat -c %s "$f" || echo 0)"
done
# The ledger's size (every partition) and the WAL position, before and after: disk per notice.
pg_disk_sql="SELECT coalesce((SELECT sum(pg_total_relation_size(relid)) FROM pg_partition_tree('notice_ledger')),
                             pg_total_relation_size('notice_ledger')), pg_current_wal_lsn() - '0/0'"
IFS='|' read -r ledger_bytes0 wal_bytes0 <<<"$(sql -c "$pg_disk_sql")"
pg_cpu0="$(util pgcpu "$PG_PID")"
replica_cpu0="$( ((pg_read)) && util pgcpu "$REPLICA_PID" || true)"
# The primary's walsender (streaming WAL to the replica) is part of its CPU: printed apart.
walsender_pid="$( ((pg_read)) && sql -c "SELECT pid FROM pg_stat_replication LIMIT 1" || true)"
walsender_cpu0="$([[ -n "$walsender_pid" ]] && util proc "$walsender_pid" | cut -d' ' -f1 || true)"
kafka_cpu0="$(util proc "$kafka_pid" | cut -d' ' -f1)"
load_avg0="$(cut -d' ' -f1-3 /proc/loadavg)"

((pg_stats)) && sql -c "SELECT pg_stat_statements_reset()" >/dev/null
if ((perf_rec)); then
  perf_pids="$(<"$SCRATCH/pids/resolver.pid")"
  for ((k = 1; k <= notifiers; k++)); do perf_pids+=",$(<"$SCRATCH/pids/notifier-$k.pid")"; done
  perf_pids+=",$(pgrep -d, -P "$PG_PID")"
  perf record -e cpu-clock -F 999 ${FOREWARN_PERF_CALLGRAPH:+--call-graph dwarf,16384} -p "$perf_pids" -o "$SCRATCH/perf.data" >"$SCRATCH/logs/perf.log" 2>&1 &
  PERF_PID=$!
  echo "$PERF_PID" >"$SCRATCH/pids/perf.pid"
  echo perf >>"$SCRATCH/pids/order"
  sleep 1
fi
t_call="$EPOCHREALTIME"
create_incident bench-1 electricity
t_ret="$EPOCHREALTIME"
incident_id="$(incident_id_for bench-1)"
log "incident $incident_id created; waiting for $expected notices (timeout ${timeout_s}s)"

deadline=$((SECONDS + timeout_s))
progress="$SCRATCH/progress.tsv"
# Progress from the outbox files (new bytes only: cheap), completion from the ledger.
declare -A seen_bytes
seen_lines=0
for ch in sms email; do seen_bytes[$ch]="${outbox_offset[$ch]}"; done
outbox_count() {
  local ch f size
  for ch in sms email; do
    f="$SCRATCH/outbox/$ch.jsonl"
    [[ -f "$f" ]] || continue
    size="$(stat -c %s "$f")"
    ((size > seen_bytes[$ch])) || continue
    seen_lines=$((seen_lines + $(dd if="$f" bs=1M iflag=skip_bytes,count_bytes skip="${seen_bytes[$ch]}" \
      count="$((size - seen_bytes[$ch]))" status=none | wc -l)))
    seen_bytes[$ch]="$size"
  done
}
next_log=$((SECONDS + 10))
while :; do
  outbox_count
  printf '%s\t%s\n' "$EPOCHREALTIME" "$seen_lines" >>"$progress"
  if ((seen_lines >= expected)) && (($(sent_for "$incident_id") >= expected)); then break; fi
  all_alive || die "a service died while delivering ($seen_lines of $expected written)"
  ((SECONDS < deadline)) || die "only $seen_lines of $expected notices written after ${timeout_s}s"
  if ((SECONDS >= next_log)); then
    log "  $seen_lines of $expected written"
    next_log=$((SECONDS + 10))
  fi
  sleep 0.5
done
load_avg1="$(cut -d' ' -f1-3 /proc/loadavg)"
if ((perf_rec)); then
  kill -INT "$PERF_PID" 2>/dev/null || true
  wait "$PERF_PID" 2>/dev/null || true
  rm -f "$SCRATCH/pids/perf.pid"
fi
sleep 1 # let a duplicate show up, if any

# Figures from the ledger and the outbox files.
IFS='|' read -r ledger_rows ledger_sent first_rec last_rec <<<"$(sql -c "
  SELECT count(*), count(*) FILTER (WHERE state = 'sent'),
         extract(epoch FROM min(updated_at)), extract(epoch FROM max(updated_at))
  FROM notice_ledger WHERE incident_id = '$incident_id'")"
first_out=""
for ch in sms email; do
  f="$SCRATCH/outbox/$ch.jsonl"
  [[ -f "$f" ]] || continue
  t="$(util first-sent "$f" "${outbox_offset[$ch]}")"
  if [[ -n "$t" ]] && { [[ -z "$first_out" ]] || awk -v a="$t" -v b="$first_out" 'BEGIN { exit !(a < b) }'; }; then
    first_out="$t"
  fi
done
outbox_lines=0
outbox_ids=0
for ch in sms email; do
  read -r l d <<<"$(util outbox-ids "${outbox_offset[$ch]}" "$SCRATCH/outbox/$ch.jsonl")"
  outbox_lines=$((outbox_lines + l))
  outbox_ids=$((outbox_ids + d))
done
read -r fan_jobs fan_ms <<<"$(util fanned-out "$SCRATCH/logs/resolver.log" "$incident_id")"
IFS='|' read -r ledger_bytes1 wal_bytes1 <<<"$(sql -c "$pg_disk_sql")"
pg_cpu1="$(util pgcpu "$PG_PID")"
replica_cpu1="$( ((pg_read)) && util pgcpu "$REPLICA_PID" || true)"
walsender_cpu1="$([[ -n "$walsender_pid" ]] && util proc "$walsender_pid" | cut -d' ' -f1 || true)"
kafka_cpu1="$(util proc "$kafka_pid" | cut -d' ' -f1)"

# Per-service CPU and peak RSS, read just before stopping them.
services=(intake resolver)
for ((k = 1; k <= notifiers; k++)); do services+=("notifier-$k"); done
declare -A svc_stat
for s in "${services[@]}"; do svc_stat[$s]="$(util proc "$(<"$SCRATCH/pids/$s.pid")")"; done
svc_stat[$kafka_label]="$(util proc "$kafka_pid")"
for s in "${services[@]}"; do
  stop_pid "$s" "$(<"$SCRATCH/pids/$s.pid")"
  rm -f "$SCRATCH/pids/$s.pid"
done

# --- Baseline: the same data movement with plain tools -----------------------------------------
# The resolver's audience rule (services/pg/audience_sql.h) for an outage, written out with
# plain tools: one row per customer and chosen channel, keyed by customer id.
audience_sql="SELECT c.id, c.name, c.locale, c.time_zone, coalesce(c.phone, '') AS phone,
    coalesce(c.email, '') AS email, c.channels_unplanned & 1 <> 0 AS by_sms,
    c.channels_unplanned & 2 <> 0 AS by_email, 'affected' AS role FROM customers c
  WHERE EXISTS (SELECT 1 FROM customer_services cs WHERE cs.customer_id = c.id
    AND cs.service_code = ANY('{electricity}'::text[]) AND cs.region_code = ANY('{riyadh}'::text[]))"
produce_sql="COPY (SELECT a.id, '$incident_id', 1, 'outage_started', '', a.id, ch.channel, ch.address,
    a.locale, a.time_zone, a.name, a.role
  FROM ($audience_sql) a
  CROSS JOIN LATERAL (VALUES ('sms', a.phone, a.by_sms), ('email', a.email, a.by_email))
    AS ch(channel, address, wanted)
  WHERE ch.wanted AND ch.address <> '') TO STDOUT"
sql -c "CREATE TABLE bench_ledger (
  incident_id uuid NOT NULL, incident_version bigint NOT NULL, notice_kind text NOT NULL,
  occasion text NOT NULL, customer_id bigint NOT NULL, channel text NOT NULL,
  state text NOT NULL DEFAULT 'sent', claimed_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (incident_id, incident_version, notice_kind, occasion, customer_id, channel))"
printf '%s' "$produce_sql" >"$SCRATCH/produce.sql"
log "baseline: psql COPY | kcat -P"
b_pg0="$(util pgcpu "$PG_PID")"
b_k0="$(util proc "$kafka_pid" | cut -d' ' -f1)"
read -r base_prod_s base_prod_cpu <<<"$(timeout "$timeout_s" python3 "$BIN/bench_util.py" run \
  "psql '$PG_URI' -X -q -v ON_ERROR_STOP=1 -f '$SCRATCH/produce.sql' \
   | kcat -P -b '$KAFKA' -t bench.baseline -K \$'\\t' -z lz4 -X linger.ms=5 2>>'$SCRATCH/logs/kcat.log'")"
log "baseline: kcat -C | psql COPY bench_ledger"
read -r base_cons_s base_cons_cpu <<<"$(timeout "$timeout_s" python3 "$BIN/bench_util.py" run \
  "kcat -C -b '$KAFKA' -t bench.baseline -o beginning -e -q -f '%s\\n' 2>>'$SCRATCH/logs/kcat.log' \
   | cut -f1-6 \
   | psql '$PG_URI' -X -q -v ON_ERROR_STOP=1 \
       -c 'COPY bench_ledger (incident_id, incident_version, notice_kind, occasion, customer_id, channel) FROM STDIN'")"
b_pg1="$(util pgcpu "$PG_PID")"
b_k1="$(util proc "$kafka_pid" | cut -d' ' -f1)"
base_rows="$(sql -c "SELECT count(*) FROM bench_ledger")"
kafka_hwm="$(util proc "$kafka_pid" | cut -d' ' -f2)"

# --- Profiles (optional) ----------------------------------------------------------------------
if ((pg_stats)); then
  echo
  echo "== pg_stat_statements during the fan-out (top 8 by total time)"
  sql -F $'\t' -c "SELECT calls, round(total_exec_time)::bigint, round(mean_exec_time::numeric, 2), rows,
      regexp_replace(left(query, 110), '\s+', ' ', 'g')
    FROM pg_stat_statements WHERE query NOT LIKE '%pg_stat_statements%'
    ORDER BY total_exec_time DESC LIMIT 8" |
    awk -F'\t' 'BEGIN { printf "  %8s %9s %8s %9s  %s\n", "calls", "total ms", "mean ms", "rows", "query" }
      { printf "  %8s %9s %8s %9s  %s\n", $1, $2, $3, $4, $5 }'
fi
if ((perf_rec)) && [[ -s "$SCRATCH/perf.data" ]]; then
  echo
  echo "== perf (cpu-clock samples during the fan-out): share by thread name, then hottest symbols"
  perf_top() { # N ARGS...: the first N sample lines of a perf report
    local n="$1"
    shift
    perf report -i "$SCRATCH/perf.data" --no-children --stdio "$@" 2>/dev/null |
      awk -v n="$n" '/^#/ || /^$/ { next } { print; if (++i >= n) exit }' | cut -c1-140 || true
  }
  perf_top 8 --sort comm | tee "$SCRATCH/perf.txt"
  for comm in postgres forewarn-notifi forewarn-resolv; do
    echo "  -- $comm"
    perf_top 12 --comm "$comm" --sort dso,sym | tee -a "$SCRATCH/perf.txt"
  done
fi

# --- Report ----------------------------------------------------------------------------------
export customers notifiers expected ledger_rows ledger_sent first_rec last_rec first_out outbox_lines outbox_ids \
  ledger_bytes0 ledger_bytes1 wal_bytes0 wal_bytes1 outbox_mode \
  fan_jobs fan_ms t_call t_ret pg_cpu0 pg_cpu1 kafka_cpu0 kafka_cpu1 load_avg0 load_avg1 \
  base_prod_s base_prod_cpu base_cons_s base_cons_cpu b_pg0 b_pg1 b_k0 b_k1 base_rows kafka_hwm \
  PARTITIONS notifier_batch progress pg_durability kafka_label pg_sizing replica_cpu0 replica_cpu1 walsender_cpu0 walsender_cpu1
notifier_props_text="${notifier_props[*]}"
resolver_props_text="${resolver_props[*]}"
export notifier_props_text resolver_props_text
svc_lines=""
for s in "${services[@]}" "$kafka_label"; do svc_lines+="$s ${svc_stat[$s]}"$'\n'; done
export svc_lines
python3 - <<'EOF'
import os
e = os.environ
f = lambda k: float(e[k]) if e.get(k) else float("nan")
n, expected = int(e["customers"]), int(e["expected"])
t_ret, t_call = f("t_ret"), f("t_call")
first_rec, last_rec, first_out = f("first_rec"), f("last_rec"), f("first_out")
e2e = last_rec - t_ret
fw_rate = expected / e2e
fan_jobs, fan_ms = (int(e["fan_jobs"]), int(e["fan_ms"])) if e.get("fan_jobs") else (0, 0)
base_s = f("base_prod_s") + f("base_cons_s")
base_rate = int(e["base_rows"]) / base_s if base_s > 0 else float("nan")
# Peak one-second delivery rate from the progress samples.
samples = [tuple(map(float, l.split())) for l in open(e["progress"]) if l.strip()]
peak, j = 0.0, 0
for i, (t0, c0) in enumerate(samples):
    j = max(j, i + 1)
    while j < len(samples) and samples[j][0] - t0 < 1.0:
        j += 1
    if j < len(samples):
        peak = max(peak, (samples[j][1] - c0) / (samples[j][0] - t0))
ok = (int(e["ledger_rows"]) == expected and int(e["ledger_sent"]) == expected
      and int(e["outbox_lines"]) == expected and int(e["outbox_ids"]) == expected)
print()
print(f"== Forewarn fan-out benchmark: {n:,} customers, {expected:,} notices, "
      f"{e['notifiers']} notifiers{' (batch ' + e['notifier_batch'] + ')' if e['notifier_batch'] else ''}, "
      f"{e['PARTITIONS']} partitions, {os.cpu_count()} CPUs"
      f"{'  [notifier ' + e['notifier_props_text'] + ']' if e.get('notifier_props_text') else ''}"
      f"{'  [resolver ' + e['resolver_props_text'] + ']' if e.get('resolver_props_text') else ''}")
print("  postgres                 " + ("durable (fsync, full_page_writes, synchronous_commit on)"
                                   if e["pg_durability"] == "durable" else
                                   "fast (fsync, full_page_writes, synchronous_commit off: not durable)")
      + f"; {e['pg_sizing']}")
print("  kafka                    " + ("Apache Kafka (scripts/kafka.sh), one KRaft node"
                                   if e["FOREWARN_KAFKA"] == "real" else
                                   "forewarn-devkafka (librdkafka's mock cluster: in memory, no replication)"))
print(f"  load average             {e['load_avg0']} (start)  {e['load_avg1']} (end)")
print(f"  CreateIncident (CLI)     {t_ret - t_call:8.3f} s")
print(f"  first notice written     {first_out - t_ret:8.3f} s after CreateIncident returned (outbox sent_at)")
print(f"  first notice recorded    {first_rec - t_ret:8.3f} s (ledger updated_at)")
print(f"  last notice recorded     {last_rec - t_ret:8.3f} s")
print(f"  notices per second       {fw_rate:10,.0f} end to end   (peak over 1 s: {peak:,.0f} written)")
if fan_ms:
    print(f"  resolver fan-out         {fan_jobs:,} jobs in {fan_ms / 1000:.2f} s: "
          f"{n / (fan_ms / 1000):,.0f} audience rows/s, {fan_jobs / (fan_ms / 1000):,.0f} jobs/s")
print(f"  completeness             ledger {int(e['ledger_rows']):,} rows, {int(e['ledger_sent']):,} sent; "
      f"outbox ({e['outbox_mode']}) {int(e['outbox_lines']):,} lines, {int(e['outbox_ids']):,} message ids; "
      f"expected {expected:,}: {'OK' if ok else 'MISMATCH'}")
ledger_b, wal_b = f("ledger_bytes1") - f("ledger_bytes0"), f("wal_bytes1") - f("wal_bytes0")
print(f"  postgres disk            ledger +{ledger_b / 2**20:,.0f} MiB ({ledger_b / expected:,.0f} B/notice), "
      f"WAL {wal_b / 2**20:,.0f} MiB ({wal_b / expected:,.0f} B/notice)")
print("  process                  CPU s   peak RSS MiB")
for line in e["svc_lines"].strip().splitlines():
    name, cpu, hwm, _rss = line.split()
    print(f"    {name:22s} {float(cpu):7.2f} {int(hwm) / 1024:9.1f}")
print(f"    {'postgres (during run)':22s} {f('pg_cpu1') - f('pg_cpu0'):7.2f}"
      f"{'   primary; reads on the replica (--pg-read)' if e.get('replica_cpu1') else ''}")
if e.get("replica_cpu1"):
    print(f"    {'pg replica (during run)':22s} {f('replica_cpu1') - f('replica_cpu0'):7.2f}")
    print(f"    {'primary walsender':22s} {f('walsender_cpu1') - f('walsender_cpu0'):7.2f}   (included in postgres)")
print(f"    {e['kafka_label'] + ' (during run)':22s} {f('kafka_cpu1') - f('kafka_cpu0'):7.2f}")
print(f"== baseline (psql COPY | kcat -P; kcat -C | psql COPY), {int(e['base_rows']):,} rows"
      f"{'' if int(e['base_rows']) == expected else ' MISMATCH'}")
print(f"  produce                  {f('base_prod_s'):8.2f} s  (psql+kcat CPU {f('base_prod_cpu'):.2f} s)")
print(f"  consume                  {f('base_cons_s'):8.2f} s  (kcat+cut+psql CPU {f('base_cons_cpu'):.2f} s)")
print(f"  postgres / {e['kafka_label']:8s} CPU  {f('b_pg1') - f('b_pg0'):.2f} s / {f('b_k1') - f('b_k0'):.2f} s")
print(f"  notices per second       {base_rate:10,.0f}")
print(f"  {e['kafka_label'] + ' peak RSS':24s} {int(e['kafka_hwm']) / 1024:.1f} MiB (whole run)")
print(f"ratio: {fw_rate / base_rate:.2f} (forewarn {fw_rate:,.0f} notices/s vs baseline {base_rate:,.0f}/s)")
EOF
