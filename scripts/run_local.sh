#!/usr/bin/env bash
# THE "run the main job" command: builds Forewarn, starts PostgreSQL, Apache Kafka (one KRaft
# node, scripts/kafka.sh; fetched with Maven on the first run), intake, resolver, two
# notifiers and the status pages (forewarn-status) on loopback (ports chosen at run time), loads
# sample customers, reports an electricity outage in Riyadh with the CLI, waits until every
# affected customer was notified on every channel they chose, shows what they received and
# prints the status pages' overview and incident URLs.
#
#   scripts/run_local.sh                  run the demo, then stop everything
#   scripts/run_local.sh --keep-running   run the demo and leave the services running
#   scripts/run_local.sh --stop           stop services left running by --keep-running
#   --kafka mock (or FOREWARN_KAFKA=mock) librdkafka's mock cluster (forewarn-devkafka)
#                                         instead of Apache Kafka: no Java needed
#   --sms kannel                          SMS through a real gateway instead of the file
#                                         outbox: Debian's Kannel (scripts/kannel.sh) over SMPP
#                                         to the SMSC simulator (tests/support/smsc_sim.py:
#                                         90 % delivered, 5 % undelivered, 5 % never answered),
#                                         delivery receipts back to the intake's public endpoint
#                                         (/receipts/kannel), SMS without a receipt after
#                                         RECEIPT_TIMEOUT (20 s) escalated to email; waits until
#                                         every SMS is delivered or escalated, then shows the
#                                         incident report, the SMS as the SMSC decoded them and
#                                         the escalated emails
#
# Everything lives in ${FOREWARN_RUN_DIR:-<repo>/.run}, recreated on each run and kept
# afterwards: logs/NAME.log, outbox/{sms,email}.jsonl, pids/, pg/, kafka/node-1/server.log,
# message-code.key (the notices' verification code secret, shared with forewarn-status);
# with --sms kannel also smsc.jsonl (every SMS the SMSC received, decoded, and its receipt),
# smsc-stats.json, kannel/ (configuration, bearerbox.log, smsbox.log) and receipt.key.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/lib.sh
source scripts/lib.sh

BUILD_DIR="${BUILD_DIR:-build}"
export BUILD_DIR
SCRATCH="${FOREWARN_RUN_DIR:-$PWD/.run}"
REPORT_TIMEOUT=120
RECEIPT_TIMEOUT=20s   # --sms kannel: an SMS without a receipt this long goes to email
SETTLE_TIMEOUT=120    # --sms kannel: seconds to wait for every SMS's receipt or escalation

usage() {
  echo "usage: scripts/run_local.sh [--kafka real|mock] [--sms outbox|kannel] [--keep-running | --stop]" >&2
  exit 2
}
keep=0 stop=0 sms=outbox
while (($#)); do
  case "$1" in
    --kafka)
      [[ "${2:-}" =~ ^(real|mock)$ ]] || usage
      export FOREWARN_KAFKA="$2"
      shift
      ;;
    --sms)
      [[ "${2:-}" =~ ^(outbox|kannel)$ ]] || usage
      sms="$2"
      shift
      ;;
    --keep-running) keep=1 ;;
    --stop) stop=1 ;;
    *) usage ;;
  esac
  shift
done
((keep + stop <= 1)) || usage

# Everything a run may have started, by pid: Kannel (--sms kannel) first, then the processes
# of start_bg (the SMSC simulator among them), Kafka and PostgreSQL.
stop_everything() {
  if [[ -d "$SCRATCH/kannel" ]]; then
    bash scripts/kannel.sh stop "$SCRATCH" || true
  fi
  stop_all
}
if ((stop)); then
  [[ -d "$SCRATCH/pids" ]] || die "nothing to stop in $SCRATCH"
  stop_everything
  exit 0
fi

bash scripts/deps.sh
bash scripts/build.sh

# A fresh run directory. Refuse to delete anything this script did not create.
if [[ -e "$SCRATCH" ]]; then
  [[ -f "$SCRATCH/.forewarn-run" ]] || die "$SCRATCH exists but is not a Forewarn run directory"
  stop_everything # whatever a previous --keep-running run left behind
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
  if ((!ok)); then
    tail_logs 30
    [[ ! -f "$SCRATCH/kannel/bearerbox.log" ]] || tail -n 30 "$SCRATCH"/kannel/{bearerbox,smsbox}.log >&2 || true
  fi
  stop_everything
  log "run directory (kept): $SCRATCH"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- Infrastructure -------------------------------------------------------------------------
PG_URI="$(bash scripts/pg.sh start "$SCRATCH")"
start_kafka forewarn.events:4 forewarn.notices:12 forewarn.notices.retry:12 forewarn.notices.dlq:4

# --sms kannel: the SMSC simulator (an operator's SMSC: it decides each SMS's fate and sends
# delivery receipts) and Kannel in front of it; sets SENDSMS_URL and SENDSMS_USER and writes
# the sendsms password to $SCRATCH/kannel.password and the receipt secret to receipt.key.
start_sms_gateway() {
  local smpp_password
  smpp_password="$(openssl rand -hex 4)" # SMPP 3.4 passwords have at most 8 characters
  start_bg smsc "$SCRATCH/logs/smsc.log" python3 tests/support/smsc_sim.py \
    --port-file "$SCRATCH/smsc.port" --log "$SCRATCH/smsc.jsonl" --stats "$SCRATCH/smsc-stats.json" \
    --system-id forewarn --password "$smpp_password" --dc0 gsm \
    --delivered 0.90 --undelivered 0.05 --expired 0 --silent 0.05
  wait_for_file "$SCRATCH/smsc.port" 30 '^[0-9]+$' || die "the SMSC simulator did not start"
  bash scripts/kannel.sh start "$SCRATCH" --smsc "127.0.0.1:$(<"$SCRATCH/smsc.port")" \
    --system-id forewarn --password "$smpp_password" >/dev/null || die "Kannel did not start"
  SENDSMS_URL="$(sed -n 's/^SENDSMS_URL=//p' "$SCRATCH/kannel.env")"
  SENDSMS_USER="$(sed -n 's/^SENDSMS_USER=//p' "$SCRATCH/kannel.env")"
  (umask 077 && sed -n 's/^SENDSMS_PASSWORD=//p' "$SCRATCH/kannel.env" >"$SCRATCH/kannel.password" &&
    openssl rand -hex 32 >"$SCRATCH/receipt.key")
}
[[ "$sms" != kannel ]] || start_sms_gateway

# --- Service command lines: every invocation of our binaries is here -----------------------
# The unsubscribe links' key and the SMS gateway's webhook secret (the intake's public endpoint
# serves /u/TOKEN and /sms/inbound on a port chosen at run time).
(umask 077 && openssl rand -hex 32 >"$SCRATCH/unsubscribe.key" && openssl rand -hex 24 >"$SCRATCH/inbound-sms.secret")
# Every notice carries a verification code (its secret, made per run, is the status page's too)
# and, but for IBAN notices, a link to the status page, BASE/n/TOKEN: this run's forewarn-status
# (its port is known once it runs, before the notifiers start), or STATUS_BASE_URL when set
# (the intake's previews show links only then).
(umask 077 && openssl rand -hex 32 >"$SCRATCH/message-code.key")
link_args=(--message-code-secret-file "$SCRATCH/message-code.key")
[[ -z "${STATUS_BASE_URL:-}" ]] || link_args+=(--status-base-url "$STATUS_BASE_URL")
intake_cmd=("$BUILD_DIR/services/cmd/intake/forewarn-intake" --pg "$PG_URI" --kafka "$KAFKA"
  --listen 127.0.0.1:0 --port-file "$SCRATCH/intake.port" --templates "$PWD/templates"
  --public-listen 127.0.0.1:0 --public-port-file "$SCRATCH/public.port"
  --unsubscribe-secret-file "$SCRATCH/unsubscribe.key" --inbound-sms-secret-file "$SCRATCH/inbound-sms.secret"
  "${link_args[@]}")
scheduler_cmd=("$BUILD_DIR/services/cmd/scheduler/forewarn-scheduler" --pg "$PG_URI" --kafka "$KAFKA")
# The mock broker's group coordinator waits (session timeout - 1 s) before each rebalance; a
# short session timeout keeps local start-up quick (and a stopped worker's partitions move on
# quickly on either broker).
resolver_cmd=("$BUILD_DIR/services/cmd/resolver/forewarn-resolver" --pg "$PG_URI" --kafka "$KAFKA"
  --session-timeout-ms 3000)
notifier_cmd=("$BUILD_DIR/notifier/cmd/forewarn-notifier" --pg "$PG_URI" --kafka "$KAFKA"
  --templates "$PWD/templates" --outbox-dir "$SCRATCH/outbox" --session-timeout-ms 3000
  --unsubscribe-secret-file "$SCRATCH/unsubscribe.key" "${link_args[@]}") # --unsubscribe-url once the port is known
if [[ "$sms" == kannel ]]; then
  # Kannel's delivery reports come back to the intake's public endpoint (/receipts/kannel),
  # signed with the receipt secret both share.
  intake_cmd+=(--receipt-secret-file "$SCRATCH/receipt.key")
  notifier_cmd+=(--sms-provider kannel --kannel-url "$SENDSMS_URL" --kannel-user "$SENDSMS_USER"
    --kannel-password-file "$SCRATCH/kannel.password" --receipt-secret-file "$SCRATCH/receipt.key"
    --receipt-timeout "sms=$RECEIPT_TIMEOUT") # --receipt-url once the port is known
fi
# The status pages read PostgreSQL only; they check the notices' verification codes with the
# secret the notifiers sign them with (made per run, as the other secrets).
status_cmd=("$BUILD_DIR/services/cmd/status/forewarn-status" --pg "$PG_URI" --pg-pool-size 2
  --listen 127.0.0.1:0 --port-file "$SCRATCH/status.port" --message-code-secret-file "$SCRATCH/message-code.key")
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

# --sms kannel: SMS notices of the incident still waiting for their end: a receipt (or the
# escalation timer) outstanding, or an escalation whose notice on the other channel is not
# written yet.
unsettled_count() {
  sql -c "
    SELECT (SELECT count(*) FROM notice_ledger WHERE incident_id = '$incident_id' AND receipt_due_at IS NOT NULL)
         + (SELECT count(*) FROM notice_ledger l
            WHERE l.incident_id = '$incident_id' AND l.escalated_to IS NOT NULL
              AND NOT EXISTS (SELECT 1 FROM notice_ledger o
                              WHERE o.incident_id = l.incident_id AND o.incident_version = l.incident_version
                                AND o.notice_kind = l.notice_kind AND o.occasion = l.occasion
                                AND o.customer_id = l.customer_id AND o.channel = l.escalated_to
                                AND o.state IN ('sent', 'delivered')))"
}

# Waits (SETTLE_TIMEOUT) until every SMS was delivered, or escalated and its email written, or
# found undeliverable (no other channel).
settle_receipts() {
  local deadline=$((SECONDS + SETTLE_TIMEOUT)) open
  log "waiting for the receipts (an SMS without one after $RECEIPT_TIMEOUT goes to email; timeout ${SETTLE_TIMEOUT}s)"
  while :; do
    open="$(unsettled_count)"
    ((open == 0)) && break
    all_alive || die "a service died while waiting for receipts"
    ((SECONDS < deadline)) || die "$open SMS notices still without a receipt or escalation after ${SETTLE_TIMEOUT}s"
    sleep 1
  done
  log "every SMS is delivered, escalated or undeliverable"
}

# --sms kannel: the incident report, the simulator's own counts beside it, the SMS as the SMSC
# decoded them and the escalated emails.
show_receipts() {
  echo
  echo "== forewarn incident report $incident_id"
  cli incident report "$incident_id"
  local escalations
  escalations="$(sql -F ' ' -c "
    SELECT count(*) FILTER (WHERE escalated_to = 'email'),
           count(*) FILTER (WHERE state <> 'delivered' AND escalated_at IS NULL),
           count(*) FILTER (WHERE escalated_at IS NOT NULL AND escalated_to IS NULL)
    FROM notice_ledger WHERE incident_id = '$incident_id' AND channel = 'sms'")"
  sql -c "SELECT DISTINCT c.email FROM notice_ledger l JOIN customers c ON c.id = l.customer_id
          WHERE l.incident_id = '$incident_id' AND l.channel = 'sms' AND l.escalated_to = 'email'" \
    >"$SCRATCH/escalated-emails.txt"
  python3 - "$SCRATCH" "$escalations" "$report" <<'EOF'
import json, pathlib, sys
scratch, (escalated, had_email, undeliverable) = pathlib.Path(sys.argv[1]), sys.argv[2].split()
sim = json.loads((scratch / "smsc-stats.json").read_text())
sms = {}
for c in json.loads(sys.argv[3])["counts"]:
    if c["channel"] == "sms":
        sms[c["state"]] = sms.get(c["state"], 0) + c["count"]
print()
print("== receipts: the SMSC's own outcomes and the report's SMS counts")
print("  %-34s %6s %6s" % ("", "SMSC", "report"))
for label, sim_key, state in (("delivered", "delivered", "delivered"),
                              ("undelivered", "undelivered", "undelivered"),
                              ("expired", "expired", "expired"),
                              ("no receipt (still 'sent')", "silent", "sent")):
    print("  %-34s %6d %6d" % (label, sim[sim_key], sms.get(state, 0)))
print("  %-34s %6d" % ("SMS received by the SMSC", sim["messages"]))
print("  SMS not delivered: %s escalated to email, %s already had the email (chose both channels),"
      " %s undeliverable (no other channel)" % (escalated, had_email, undeliverable))

log = [json.loads(l) for l in (scratch / "smsc.jsonl").read_text(encoding="utf-8").splitlines()]
submits = [e for e in log if e["event"] == "submit"]
print()
print(f"== SMS as the SMSC decoded them (first 3 of {len(submits)}; all in {scratch}/smsc.jsonl)")
for e in submits[:3]:
    print(json.dumps({k: e[k] for k in ("to", "text", "parts", "data_coding", "outcome")},
                     ensure_ascii=False, indent=2))

wanted = set((scratch / "escalated-emails.txt").read_text().split())
path = scratch / "outbox" / "email.jsonl"
emails = [m for m in map(json.loads, path.read_text(encoding="utf-8").splitlines()) if m["to"] in wanted] \
    if path.exists() else []
print()
print(f"== escalated emails (first 3 of {len(emails)}; in {path})")
for m in emails[:3]:
    print(json.dumps({k: m[k] for k in ("to", "subject", "text") if k in m}, ensure_ascii=False, indent=2))
EOF
}

# The intake applies the migrations before it serves, so the schema exists once the port file
# does.
start_bg intake "$SCRATCH/logs/intake.log" "${intake_cmd[@]}"
wait_for_file "$SCRATCH/intake.port" 60 '^[0-9]+$'
INTAKE_PORT="$(<"$SCRATCH/intake.port")"
wait_for_file "$SCRATCH/public.port" 30 '^[0-9]+$'
PUBLIC_PORT="$(<"$SCRATCH/public.port")"
notifier_cmd+=(--unsubscribe-url "http://127.0.0.1:$PUBLIC_PORT/u/")
[[ "$sms" != kannel ]] || notifier_cmd+=(--receipt-url "http://127.0.0.1:$PUBLIC_PORT")
start_bg status "$SCRATCH/logs/status.log" "${status_cmd[@]}"
wait_for_file "$SCRATCH/status.port" 30 '^[0-9]+$'
STATUS_URL="http://127.0.0.1:$(<"$SCRATCH/status.port")"
[[ -n "${STATUS_BASE_URL:-}" ]] || notifier_cmd+=(--status-base-url "$STATUS_URL")
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

# Sum of "count" over report.counts entries whose state is "sent" (or, with receipts,
# "delivered", "undelivered" or "expired"; -1 if unreadable).
sent_count() {
  python3 -c '
import json, sys
try:
    counts = json.load(sys.stdin)["counts"]
    print(sum(c["count"] for c in counts if c["state"] in ("sent", "delivered", "undelivered", "expired")))
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
if [[ "$sms" == kannel ]]; then
  settle_receipts
  report="$(incident_report_json "$incident_id")"
fi

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

[[ "$sms" != kannel ]] || show_receipts

# The incident's status page, as the notices link to it: its short reference (e.g. RUH-4K7Q).
ref="$(sql -c "SELECT ref FROM incidents WHERE id = '$incident_id'")"
[[ -n "$ref" ]] || die "incident $incident_id has no reference"
python3 - "$STATUS_URL/i/$ref?lang=en" "$ref" <<'EOF' || die "the status page of $ref did not answer as expected"
import sys, urllib.request
with urllib.request.urlopen(sys.argv[1], timeout=10) as r:
    page = r.read().decode("utf-8")
assert r.status == 200 and sys.argv[2] in page, (r.status, page[:200])
EOF

echo
echo "Status pages: $STATUS_URL/ (overview), $STATUS_URL/i/$ref (incident $ref)"
echo "Logs:   $SCRATCH/logs/"
echo "Outbox: $SCRATCH/outbox/"
if [[ "$sms" == kannel ]]; then
  echo "SMSC:   $SCRATCH/smsc.jsonl (every SMS decoded, its outcome and receipt)"
  echo "Kannel: $SCRATCH/kannel/ (bearerbox.log, smsbox.log, access.log)"
fi
ok=1
if ((keep)); then
  cat <<EOF

Services are still running:
  PostgreSQL  $PG_URI
  Kafka       $KAFKA
  intake      127.0.0.1:$INTAKE_PORT (gRPC); http://127.0.0.1:$PUBLIC_PORT (unsubscribe links, /sms/inbound
              with ?key=$(<"$SCRATCH/inbound-sms.secret"))
  CLI         $BUILD_DIR/services/cmd/cli/forewarn --target 127.0.0.1:$INTAKE_PORT incident report $incident_id
  status      $STATUS_URL/ (overview), $STATUS_URL/i/$ref (incident $ref; ?lang=en for English)
EOF
  if [[ "$sms" == kannel ]]; then
    cat <<EOF
  Kannel      sendsms $SENDSMS_URL (user $SENDSMS_USER, password in $SCRATCH/kannel.password)
  SMSC        simulator on 127.0.0.1:$(<"$SCRATCH/smsc.port") (SMPP), log $SCRATCH/smsc.jsonl
EOF
  fi
  echo "Stop them with: scripts/run_local.sh --stop"
fi
