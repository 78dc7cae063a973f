#!/usr/bin/env bash
# THE "run the main job" command: builds Forewarn, starts PostgreSQL, Apache Kafka (one KRaft
# node, scripts/kafka.sh; fetched with Maven on the first run), intake, resolver and two
# notifiers on loopback (ports chosen at run time), loads sample customers, reports an
# electricity outage in Riyadh with the CLI, waits until every affected customer was notified
# on every channel they chose, and shows what they received.
#
#   scripts/run_local.sh                  run the demo, then stop everything
#   scripts/run_local.sh --keep-running   run the demo and leave the services running
#   scripts/run_local.sh --stop           stop services left running by --keep-running
#   --kafka mock (before the others; or FOREWARN_KAFKA=mock)
#                                         librdkafka's mock cluster (forewarn-devkafka)
#                                         instead of Apache Kafka: no Java needed
#
# Everything lives in ${FOREWARN_RUN_DIR:-<repo>/.run}, recreated on each run and kept
# afterwards: logs/NAME.log, outbox/{sms,email}.jsonl, pids/, pg/, kafka/node-1/server.log.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/lib.sh
source scripts/lib.sh

BUILD_DIR="${BUILD_DIR:-build}"
export BUILD_DIR
SCRATCH="${FOREWARN_RUN_DIR:-$PWD/.run}"
REPORT_TIMEOUT=120

usage() {
  echo "usage: scripts/run_local.sh [--kafka real|mock] [--keep-running | --stop]" >&2
  exit 2
}
if [[ "${1:-}" == --kafka ]]; then
  [[ "${2:-}" =~ ^(real|mock)$ ]] || usage
  export FOREWARN_KAFKA="$2"
  shift 2
fi
keep=0
case "${1:-}" in
  "") ;;
  --keep-running) keep=1 ;;
  --stop)
    [[ -d "$SCRATCH/pids" ]] || die "nothing to stop in $SCRATCH"
    stop_all
    exit 0
    ;;
  *) usage ;;
esac

bash scripts/deps.sh
bash scripts/build.sh

# A fresh run directory. Refuse to delete anything this script did not create.
if [[ -e "$SCRATCH" ]]; then
  [[ -f "$SCRATCH/.forewarn-run" ]] || die "$SCRATCH exists but is not a Forewarn run directory"
  stop_all # whatever a previous --keep-running run left behind
  remove_scratch
fi
mkdir -p "$SCRATCH/logs" "$SCRATCH/outbox"
SCRATCH="$(cd "$SCRATCH" && pwd)"
touch "$SCRATCH/.forewarn-run"
chmod 711 "$SCRATCH" # the postgres user must reach $SCRATCH/pg

ok=0
cleanup() {
  if ((keep && ok)); then
    return
  fi
  ((ok)) || tail_logs 30
  stop_all
  log "run directory (kept): $SCRATCH"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- Infrastructure -------------------------------------------------------------------------
PG_URI="$(bash scripts/pg.sh start "$SCRATCH")"
start_kafka forewarn.events:4 forewarn.notices:12 forewarn.notices.retry:12 forewarn.notices.dlq:4

# --- Service command lines: every invocation of our binaries is here -----------------------
# The unsubscribe links' key and the SMS gateway's webhook secret (the intake's public endpoint
# serves /u/TOKEN and /sms/inbound on a port chosen at run time).
(umask 077 && openssl rand -hex 32 >"$SCRATCH/unsubscribe.key" && openssl rand -hex 24 >"$SCRATCH/inbound-sms.secret")
intake_cmd=("$BUILD_DIR/services/cmd/intake/forewarn-intake" --pg "$PG_URI" --kafka "$KAFKA"
  --listen 127.0.0.1:0 --port-file "$SCRATCH/intake.port" --templates "$PWD/templates"
  --public-listen 127.0.0.1:0 --public-port-file "$SCRATCH/public.port"
  --unsubscribe-secret-file "$SCRATCH/unsubscribe.key" --inbound-sms-secret-file "$SCRATCH/inbound-sms.secret")
scheduler_cmd=("$BUILD_DIR/services/cmd/scheduler/forewarn-scheduler" --pg "$PG_URI" --kafka "$KAFKA")
# The mock broker's group coordinator waits (session timeout - 1 s) before each rebalance; a
# short session timeout keeps local start-up quick (and a stopped worker's partitions move on
# quickly on either broker).
resolver_cmd=("$BUILD_DIR/services/cmd/resolver/forewarn-resolver" --pg "$PG_URI" --kafka "$KAFKA"
  --session-timeout-ms 3000)
notifier_cmd=("$BUILD_DIR/notifier/cmd/forewarn-notifier" --pg "$PG_URI" --kafka "$KAFKA"
  --templates "$PWD/templates" --outbox-dir "$SCRATCH/outbox" --session-timeout-ms 3000
  --unsubscribe-secret-file "$SCRATCH/unsubscribe.key") # --unsubscribe-url once the port is known
cli() { "$BUILD_DIR/services/cmd/cli/forewarn" --target "127.0.0.1:$INTAKE_PORT" "$@"; }
# A cable fault on the Olaya feeder: the customers supplied through it (its transformers) are
# told, not all of Riyadh. With --dry-run, the audience per selector and nothing created.
create_incident() {
  cli incident create --idempotency-key demo-1 --service electricity --asset RUH-F1 \
    --reason-en "Emergency repair of a damaged underground cable" \
    --reason-ar "إصلاح طارئ لكابل أرضي متضرر" \
    --restore-in 3h "$@"
}
incident_report_json() { cli incident report "$1" --json; }
# --------------------------------------------------------------------------------------------

sql() { psql "$PG_URI" -X -q -At -v ON_ERROR_STOP=1 "$@"; }

# The intake applies the migrations before it serves, so the schema exists once the port file
# does.
start_bg intake "$SCRATCH/logs/intake.log" "${intake_cmd[@]}"
wait_for_file "$SCRATCH/intake.port" 60 '^[0-9]+$'
INTAKE_PORT="$(<"$SCRATCH/intake.port")"
wait_for_file "$SCRATCH/public.port" 30 '^[0-9]+$'
PUBLIC_PORT="$(<"$SCRATCH/public.port")"
notifier_cmd+=(--unsubscribe-url "http://127.0.0.1:$PUBLIC_PORT/u/")
sql -f scripts/sample_catalog.sql # services and regions (reference data)
echo "== forewarn assets import scripts/sample_assets.csv"
cli assets import scripts/sample_assets.csv || die "the sample asset tree did not import"
echo "== forewarn customers import scripts/sample_customers.csv"
cli customers import scripts/sample_customers.csv --report "$SCRATCH/rejected.csv" ||
  die "the sample customers did not import cleanly (see $SCRATCH/rejected.csv)"

start_bg resolver "$SCRATCH/logs/resolver.log" "${resolver_cmd[@]}"
start_bg scheduler "$SCRATCH/logs/scheduler.log" "${scheduler_cmd[@]}"
start_bg notifier-1 "$SCRATCH/logs/notifier-1.log" "${notifier_cmd[@]}"
start_bg notifier-2 "$SCRATCH/logs/notifier-2.log" "${notifier_cmd[@]}"
sleep 2 # give the consumers a moment to join their groups (and crash visibly if they will)
all_alive || die "a service failed to start"

# One (customer, channel) pair per notice we expect to be sent.
expected="$(sql -c "
  SELECT count(*) FILTER (WHERE c.channels_unplanned & 1 <> 0 AND c.phone IS NOT NULL)
       + count(*) FILTER (WHERE c.email IS NOT NULL
                          AND (c.channels_unplanned & 2 <> 0
                               OR (c.channels_unplanned & 1 <> 0 AND c.phone IS NULL)))
  FROM customers c
  WHERE EXISTS (SELECT 1 FROM customer_assets ca
                WHERE ca.customer_id = c.id AND ca.service_code = 'electricity'
                  AND ca.asset_code IN (WITH RECURSIVE sub(code) AS (
                    SELECT code FROM assets WHERE code = 'RUH-F1' UNION SELECT a.code FROM assets a JOIN sub ON a.parent_code = sub.code)
                    SELECT code FROM sub))")"

echo "== forewarn incident create --asset RUH-F1 --dry-run"
create_incident --dry-run
echo "== forewarn incident create --asset RUH-F1"
create_incident
incident_id="$(sql -c "SELECT id FROM incidents WHERE idempotency_key = 'demo-1'")"
[[ -n "$incident_id" ]] || die "incident demo-1 is not in the database"
log "incident $incident_id; waiting for $expected notices (timeout ${REPORT_TIMEOUT}s)"

# Sum of "count" over report.counts entries whose state is "sent" (-1 if unreadable).
sent_count() {
  python3 -c '
import json, sys
try:
    counts = json.load(sys.stdin)["counts"]
    print(sum(c["count"] for c in counts if c["state"] == "sent"))
except Exception:
    print(-1)'
}

deadline=$((SECONDS + REPORT_TIMEOUT))
while :; do
  report="$(incident_report_json "$incident_id" 2>>"$SCRATCH/logs/cli.log" || true)"
  sent="$(sent_count <<<"$report")"
  ((sent >= expected)) && break
  all_alive || die "a service died while delivering"
  ((SECONDS < deadline)) || die "only $sent of $expected notices sent after ${REPORT_TIMEOUT}s; last report: $report"
  sleep 1
done

echo
echo "== delivery report ($sent of $expected sent)"
python3 -c '
import json, sys
for c in json.load(sys.stdin)["counts"]:
    print("  %-6s %-8s %s" % (c["channel"], c["state"], c["count"]))' <<<"$report"

echo
echo "== what customers received (first 3 of each channel)"
python3 - "$SCRATCH/outbox" <<'EOF'
import json, pathlib, sys
for path in sorted(pathlib.Path(sys.argv[1]).glob("*.jsonl")):
    lines = path.read_text(encoding="utf-8").splitlines()
    print(f"-- {path} ({len(lines)} messages)")
    for line in lines[:3]:
        msg = json.loads(line)
        shown = {k: msg[k] for k in ("to", "subject", "text") if k in msg} or msg
        print(json.dumps(shown, ensure_ascii=False, indent=2))
EOF

echo
echo "Logs:   $SCRATCH/logs/"
echo "Outbox: $SCRATCH/outbox/"
ok=1
if ((keep)); then
  cat <<EOF

Services are still running:
  PostgreSQL  $PG_URI
  Kafka       $KAFKA
  intake      127.0.0.1:$INTAKE_PORT (gRPC); http://127.0.0.1:$PUBLIC_PORT (unsubscribe links, /sms/inbound
              with ?key=$(<"$SCRATCH/inbound-sms.secret"))
  CLI         $BUILD_DIR/services/cmd/cli/forewarn --target 127.0.0.1:$INTAKE_PORT incident report $incident_id
Stop them with: scripts/run_local.sh --stop
EOF
fi
