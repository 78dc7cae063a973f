#!/usr/bin/env bash
# scripts/run_local.sh's options without running the demo: bad --sms / --kafka values and
# --keep-running with --stop are refused with the usage (exit 2); --stop on a run directory
# that a `--sms kannel --keep-running` run left behind stops Kannel (bearerbox, smsbox) and the
# SMSC simulator by their pid files. Skipped (77) without Kannel.
#   tests/scripts/run_local_args_test.sh REPO_ROOT
set -euo pipefail
REPO="$1"
fail() { echo "FAIL: $*" >&2; exit 1; }

refused() {
  local rc=0 err
  err="$(bash "$REPO/scripts/run_local.sh" "$@" 2>&1 >/dev/null)" || rc=$?
  ((rc == 2)) || fail "run_local.sh $* exited $rc, want 2"
  [[ "$err" == *"--sms outbox|kannel"* ]] || fail "run_local.sh $*: no usage in: $err"
}
refused --sms
refused --sms smpp
refused --kafka kraft
refused --keep-running --stop
refused --sms kannel --bogus

[[ -x /usr/sbin/bearerbox && -x /usr/sbin/smsbox ]] || { echo "Kannel is not installed: skipped"; exit 77; }
T="$(mktemp -d /tmp/forewarn-runlocal-test.XXXXXX)"
cleanup() {
  bash "$REPO/scripts/kannel.sh" stop "$T" >/dev/null 2>&1 || true
  [[ ! -s "$T/pids/smsc.pid" ]] || kill "$(<"$T/pids/smsc.pid")" 2>/dev/null || true
  rm -rf "$T"
}
trap cleanup EXIT

# What a kept run leaves: the simulator started as run_local.sh starts it, Kannel in front.
touch "$T/.forewarn-run"
mkdir -p "$T/pids"
python3 "$REPO/tests/support/smsc_sim.py" --port-file "$T/smsc.port" --log "$T/smsc.jsonl" \
  --system-id forewarn --password pw --dc0 gsm >"$T/smsc.log" 2>&1 </dev/null &
echo "$!" >"$T/pids/smsc.pid"
echo smsc >"$T/pids/order"
for ((i = 0; i < 100; i++)); do [[ -s "$T/smsc.port" ]] && break; sleep 0.1; done
[[ -s "$T/smsc.port" ]] || fail "the simulator did not start"
bash "$REPO/scripts/kannel.sh" start "$T" --smsc "127.0.0.1:$(<"$T/smsc.port")" --system-id forewarn \
  --password pw >/dev/null 2>"$T/kannel.sh.log" || fail "Kannel did not start: $(<"$T/kannel.sh.log")"
pids=("$(<"$T/pids/smsc.pid")" "$(<"$T/kannel/bearerbox.pid")" "$(<"$T/kannel/smsbox.pid")")
for pid in "${pids[@]}"; do kill -0 "$pid" || fail "pid $pid is not running before --stop"; done

FOREWARN_RUN_DIR="$T" bash "$REPO/scripts/run_local.sh" --stop 2>"$T/stop.log" ||
  fail "--stop failed: $(<"$T/stop.log")"
for pid in "${pids[@]}"; do
  ! kill -0 "$pid" 2>/dev/null || fail "pid $pid still runs after --stop: $(<"$T/stop.log")"
done
[[ ! -e "$T/kannel.env" && ! -e "$T/pids/smsc.pid" ]] || fail "--stop left kannel.env or smsc.pid behind"
echo "PASS"
