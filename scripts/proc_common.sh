# shellcheck shell=bash
# Shared by scripts/kafka.sh and scripts/kannel.sh (sourced, not run). The caller defines
# say() (its log line) and STOP_TIMEOUT (seconds a process gets after SIGTERM).

# Distinct free loopback ports, all bound at once so none repeats.
free_ports() {
  python3 - "$1" <<'PY'
import socket, sys
socks = []
for _ in range(int(sys.argv[1])):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    socks.append(s)
print(" ".join(str(s.getsockname()[1]) for s in socks))
PY
}

# True when pid $1 (may be empty) runs.
alive() { [[ -n "$1" ]] && kill -0 "$1" 2>/dev/null; }

# Stops pid $2, named $1 in the log: SIGTERM (or SIGKILL when $3 is KILL), waits
# STOP_TIMEOUT seconds, then SIGKILL. Never by name.
stop_pid() {
  local what="$1" pid="$2" sig="${3:-TERM}" i
  alive "$pid" || return 0
  kill "-$sig" "$pid" 2>/dev/null || true
  for ((i = 0; i < STOP_TIMEOUT * 10; i++)); do
    alive "$pid" || { say "$what (pid $pid) stopped"; return 0; }
    sleep 0.1
  done
  say "$what (pid $pid) ignored SIG$sig for ${STOP_TIMEOUT}s; sending SIGKILL"
  kill -KILL "$pid" 2>/dev/null || true
  for ((i = 0; i < 100; i++)); do
    alive "$pid" || return 0
    sleep 0.1
  done
}
