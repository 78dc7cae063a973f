#!/usr/bin/env bash
# scripts/kannel.sh against the SMSC simulator (tests/support/smsc_sim.py): bad arguments refused
# with a clear error; start; an English SMS and a long Arabic one (UTF-8, coding=2: two UCS-2
# parts) through sendsms with dlr-mask 19 and a dlr-url pointing at a small HTTP listener of
# this test; the simulator logs each text exactly once (the Arabic one reassembled); the dlr-url
# is called with %d 1 and "stat:DELIVRD" in %A for the number the simulator delivers, %d 2 and
# "stat:UNDELIV" for the one it fails; stop by pid.
#   tests/scripts/kannel_scripts_test.sh REPO_ROOT
set -euo pipefail
REPO="$1"
[[ -x /usr/sbin/bearerbox && -x /usr/sbin/smsbox ]] || { echo "Kannel is not installed: skipped"; exit 77; }

T="$(mktemp -d /tmp/forewarn-kannel-test.XXXXXX)"
SIM_PID="" LISTENER_PID=""
cleanup() {
  bash "$REPO/scripts/kannel.sh" stop "$T" || true
  [[ -n "$LISTENER_PID" ]] && kill "$LISTENER_PID" 2>/dev/null || true
  [[ -n "$SIM_PID" ]] && kill "$SIM_PID" 2>/dev/null || true
  rm -rf "$T"
}
trap cleanup EXIT
fail() {
  echo "FAIL: $*" >&2
  tail -n 40 "$T/kannel/bearerbox.log" "$T/kannel/smsbox.log" "$T/sim.jsonl" "$T/dlr.jsonl" >&2 2>/dev/null || true
  exit 1
}
wait_file() {
  local i
  for ((i = 0; i < 100; i++)); do [[ -s "$1" ]] && return 0; sleep 0.1; done
  fail "no $1"
}

# Bad arguments: a clear error naming the option, nothing started.
expect_error() {
  local want="$1" out
  shift
  if out="$(bash "$REPO/scripts/kannel.sh" "$@" 2>&1)"; then fail "kannel.sh $* succeeded"; fi
  grep -q -- "$want" <<<"$out" || fail "kannel.sh $*: want '$want' in: $out"
}
expect_error "--smsc: want HOST:PORT" start "$T/bad" --smsc nowhere --system-id forewarn --password secret
expect_error "--password is required" start "$T/bad" --smsc 127.0.0.1:1 --system-id forewarn
expect_error "unknown option '--nope'" start "$T/bad" --nope 1
expect_error "unknown command 'restart'" restart "$T/bad"
[[ ! -e "$T/bad/kannel" ]] || fail "a refused start left $T/bad/kannel"

/usr/bin/python3 "$REPO/tests/support/smsc_sim.py" --port-file "$T/sim.port" --log "$T/sim.jsonl" --dc0 gsm \
  --delivered 0.5 --undelivered 0.5 --expired 0 --silent 0 --receipt-delay-ms 100 &
SIM_PID=$!
# The dlr-url listener: every GET's query, parsed, as one JSON line.
/usr/bin/python3 - "$T/dlr.port" "$T/dlr.jsonl" <<'EOF' &
import http.server, json, sys, urllib.parse
class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(self.path).query))
        with open(sys.argv[2], "a", encoding="utf-8") as f:
            f.write(json.dumps(query) + "\n")
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()
    def log_message(self, *args):
        pass
server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
with open(sys.argv[1] + ".tmp", "w") as f:
    f.write(str(server.server_port))
import os; os.rename(sys.argv[1] + ".tmp", sys.argv[1])
server.serve_forever()
EOF
LISTENER_PID=$!
wait_file "$T/sim.port"
wait_file "$T/dlr.port"

bash "$REPO/scripts/kannel.sh" start "$T" --smsc "127.0.0.1:$(cat "$T/sim.port")" --system-id forewarn \
  --password secret >"$T/start.out" || fail "kannel.sh start"
# shellcheck disable=SC1091
source "$T/kannel.env"
for var in SENDSMS_URL SENDSMS_USER SENDSMS_PASSWORD ADMIN_URL ADMIN_PASSWORD; do
  [[ -n "${!var:-}" ]] || fail "kannel.env has no $var"
  grep -q "^$var=" "$T/start.out" || fail "start did not print $var"
done
[[ "$(stat -c %a "$T/kannel.env")" == 600 ]] || fail "kannel.env is not mode 600"
for port in "${SENDSMS_URL#http://127.0.0.1:}" "${ADMIN_URL#http://127.0.0.1:}"; do
  ss -ltn "sport = :${port%%/*}" | grep -q "127.0.0.1:${port%%/*}" || fail "port ${port%%/*} is not bound to 127.0.0.1 only"
done

# Numbers by the simulator's rule (sha256 of the destination as submitted: Kannel drops the '+').
read -r DELIVERED UNDELIVERED < <(/usr/bin/python3 - <<'EOF'
import hashlib
def x(n): return int(hashlib.sha256(n.encode()).hexdigest()[:8], 16) / 2 ** 32
nums = ["96650%07d" % i for i in range(1000)]
print("+" + next(n for n in nums if x(n) < 0.5), "+" + next(n for n in nums if x(n) >= 0.5))
EOF
)
ENGLISH="Planned outage in Al Nakheel on 12 Dec 10:00-12:00. Details: forewarn.example/o/42"
ARABIC="انقطاع مخطط للكهرباء في حي النخيل يوم 12 ديسمبر من الساعة 10:00 حتى 12:00. التفاصيل على موقعنا، نعتذر عن الإزعاج"
DLR_BASE="http://127.0.0.1:$(cat "$T/dlr.port")/dlr"
send() {
  local to="$1" text="$2" ref="$3" code
  shift 3
  code="$(curl -s -o "$T/send.out" -w '%{http_code}' -G "$SENDSMS_URL" --data-urlencode "username=$SENDSMS_USER" \
    --data-urlencode "password=$SENDSMS_PASSWORD" --data-urlencode from=Forewarn --data-urlencode "to=$to" \
    --data-urlencode "text=$text" --data-urlencode charset=UTF-8 --data-urlencode dlr-mask=19 \
    --data-urlencode "dlr-url=$DLR_BASE?ref=$ref&type=%d&at=%T&reply=%A" "$@")"
  [[ "$code" == 202 ]] || fail "sendsms answered $code: $(cat "$T/send.out")"
}
send "$DELIVERED" "$ENGLISH" en
send "$UNDELIVERED" "$ARABIC" ar --data-urlencode coding=2

for ((i = 0; i < 150; i++)); do
  [[ -s "$T/dlr.jsonl" && "$(wc -l <"$T/dlr.jsonl")" -ge 2 ]] && break
  sleep 0.2
done
sleep 1 # a duplicate call would show now
/usr/bin/python3 - "$T" "$DELIVERED" "$UNDELIVERED" "$ENGLISH" "$ARABIC" <<'EOF' || fail "checks"
import json, sys
t, delivered, undelivered, english, arabic = sys.argv[1:]
events = [json.loads(l) for l in open(t + "/sim.jsonl", encoding="utf-8")]
submits = [e for e in events if e["event"] == "submit"]
dlrs = [json.loads(l) for l in open(t + "/dlr.jsonl", encoding="utf-8")]
errors = []
def check(cond, what):
    if not cond:
        errors.append(what)
en = [s for s in submits if s["text"] == english]
ar = [s for s in submits if s["text"] == arabic]
check(len(submits) == 2, "two messages at the SMSC, got %r" % submits)
check(len(en) == 1 and en[0]["to"] == delivered[1:] and en[0]["data_coding"] == 0 and en[0]["outcome"] == "delivered",
      "English once, GSM, delivered: %r" % en)
check(len(ar) == 1 and ar[0]["to"] == undelivered[1:] and ar[0]["data_coding"] == 8 and ar[0]["parts"] == 2
      and ar[0]["outcome"] == "undelivered", "Arabic once, UCS-2 in two parts, reassembled: %r" % ar)
by_ref = {}
for d in dlrs:
    by_ref.setdefault(d.get("ref"), []).append(d)
check(sorted(by_ref) == ["ar", "en"] and all(len(v) == 1 for v in by_ref.values()),
      "one dlr-url call per message: %r" % dlrs)
if "en" in by_ref and en:
    d = by_ref["en"][0]
    check(d["type"] == "1" and "stat:DELIVRD" in d["reply"] and ("id:%s " % en[0]["message_ids"][0]) in d["reply"]
          and d["at"].isdigit(), "English DLR: %r" % d)
if "ar" in by_ref and ar:
    d = by_ref["ar"][0]
    check(d["type"] == "2" and "stat:UNDELIV" in d["reply"], "Arabic DLR: %r" % d)
for e in errors:
    print("FAIL:", e)
sys.exit(1 if errors else 0)
EOF

BB_PID="$(cat "$T/kannel/bearerbox.pid")"
SB_PID="$(cat "$T/kannel/smsbox.pid")"
bash "$REPO/scripts/kannel.sh" stop "$T" || fail "kannel.sh stop"
! kill -0 "$BB_PID" 2>/dev/null || fail "bearerbox still runs"
! kill -0 "$SB_PID" 2>/dev/null || fail "smsbox still runs"
[[ ! -e "$T/kannel.env" && ! -e "$T/kannel/bearerbox.pid" ]] || fail "stop left kannel.env or a pid file"
echo OK
