# shellcheck shell=bash
# Helpers for the Forewarn scripts. Source this file; it expects $SCRATCH to be set by the
# caller (the scratch directory holding pids/, logs/ and pg/).
#
#   start_bg NAME LOGFILE CMD...   start CMD in the background, pid in $SCRATCH/pids/NAME.pid
#   stop_all                       stop those processes (newest first), then Kafka,
#                                  pgbouncer and PostgreSQL
#   start_kafka NAME:PARTITIONS... Kafka in $SCRATCH with these topics: Apache Kafka
#                                  (scripts/kafka.sh) unless FOREWARN_KAFKA=mock, which starts
#                                  forewarn-devkafka (librdkafka's mock cluster, no Java
#                                  needed); sets KAFKA (bootstrap) and KAFKA_PID_FILE
#   wait_for_file PATH TIMEOUT [REGEX]
#                                  wait until PATH exists and its content matches REGEX
#                                  (default: non-empty); fails early if a process started
#                                  with start_bg has died
#   all_alive                      true if every process started with start_bg still runs
#   remove_scratch                 delete $SCRATCH (and PostgreSQL's data if it lives elsewhere)
#
# Callers install a trap so that stop_all always runs, e.g.  trap stop_all EXIT

FOREWARN_REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

start_bg() {
  local name="$1" logfile="$2"
  shift 2
  mkdir -p "$SCRATCH/pids" "$(dirname "$logfile")"
  # Non-interactive bash: background jobs ignore SIGINT; stop_all handles shutdown.
  "$@" >"$logfile" 2>&1 </dev/null &
  echo "$!" >"$SCRATCH/pids/$name.pid"
  echo "$name" >>"$SCRATCH/pids/order"
  log "started $name (pid $!), log: $logfile"
}

# True if the process recorded for NAME is still running.
bg_alive() {
  local pidfile="$SCRATCH/pids/$1.pid"
  [[ -s "$pidfile" ]] && kill -0 "$(<"$pidfile")" 2>/dev/null
}

# True if every process started with start_bg (and not yet stopped) is still running.
all_alive() {
  local name
  [[ -f "$SCRATCH/pids/order" ]] || return 0
  while read -r name; do
    if [[ -s "$SCRATCH/pids/$name.pid" ]] && ! bg_alive "$name"; then
      log "$name has exited; see its log"
      return 1
    fi
  done <"$SCRATCH/pids/order"
}

stop_pid() {
  local name="$1" pid="$2" i
  kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || return 0
  for ((i = 0; i < 100; i++)); do
    kill -0 "$pid" 2>/dev/null || { log "stopped $name (pid $pid)"; return 0; }
    sleep 0.1
  done
  log "$name (pid $pid) ignored SIGTERM for 10 s; sending SIGKILL"
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true # reap it quietly if it is our child
}

# Kafka for a script run (see the header). Prints nothing; sets KAFKA and KAFKA_PID_FILE.
# DEVKAFKA_BIN overrides the mock broker's binary (default $BUILD_DIR/services/cmd/devkafka/...).
start_kafka() {
  case "${FOREWARN_KAFKA:-real}" in
    real)
      KAFKA="$(bash "$FOREWARN_REPO/scripts/kafka.sh" start "$SCRATCH")"
      KAFKA_PID_FILE="$SCRATCH/kafka/node-1/pid"
      create_topics "$@"
      ;;
    mock)
      local topic args=()
      for topic in "$@"; do args+=(--topic "$topic"); done
      start_bg devkafka "$SCRATCH/logs/devkafka.log" \
        "${DEVKAFKA_BIN:-${BUILD_DIR:-build}/services/cmd/devkafka/forewarn-devkafka}" "${args[@]}" \
        --bootstrap-file "$SCRATCH/kafka.bootstrap"
      wait_for_file "$SCRATCH/kafka.bootstrap" 30 '^[^[:space:]]+:[0-9]+$'
      KAFKA="$(head -n 1 "$SCRATCH/kafka.bootstrap")"
      KAFKA_PID_FILE="$SCRATCH/pids/devkafka.pid"
      ;;
    *) die "FOREWARN_KAFKA (or --kafka) must be real or mock, not '${FOREWARN_KAFKA}'" ;;
  esac
  log "Kafka (${FOREWARN_KAFKA:-real}): $KAFKA"
}

# The topic step, kept to this one function: NAME:PARTITIONS... on the running real broker.
create_topics() {
  bash "$FOREWARN_REPO/scripts/kafka.sh" topics "$SCRATCH" "$@"
}

stop_all() {
  local name
  if [[ -f "$SCRATCH/pids/order" ]]; then
    # Reverse start order: consumers and producers first, the broker last.
    while read -r name; do
      [[ -s "$SCRATCH/pids/$name.pid" ]] || continue
      stop_pid "$name" "$(<"$SCRATCH/pids/$name.pid")"
      rm -f "$SCRATCH/pids/$name.pid"
    done < <(tac "$SCRATCH/pids/order")
    rm -f "$SCRATCH/pids/order"
  fi
  if [[ -f "$SCRATCH/kafka/nodes" ]]; then
    bash "$FOREWARN_REPO/scripts/kafka.sh" stop "$SCRATCH" || true
  fi
  if [[ -s "$SCRATCH/pgbouncer/pgbouncer.pid" ]]; then
    bash "$FOREWARN_REPO/scripts/pgbouncer.sh" stop "$SCRATCH" || true
  fi
  if [[ -f "$SCRATCH/pg/data/postmaster.pid" ]]; then
    bash "$FOREWARN_REPO/scripts/pg.sh" stop "$SCRATCH" || true
  fi
}

wait_for_file() {
  local path="$1" timeout="$2" regex="${3:-.}" deadline
  deadline=$((SECONDS + timeout))
  while ! { [[ -s "$path" ]] && [[ "$(<"$path")" =~ $regex ]]; }; do
    all_alive || { log "gave up waiting for $path"; return 1; }
    if ((SECONDS >= deadline)); then
      log "timed out after ${timeout}s waiting for $path"
      return 1
    fi
    sleep 0.1
  done
}

remove_scratch() {
  [[ -n "${SCRATCH:-}" && -d "$SCRATCH" ]] || return 0
  # pg.sh puts the data elsewhere (symlinked) when the postgres user cannot reach $SCRATCH.
  local link
  for link in "$SCRATCH/pg" "$SCRATCH/pgbouncer"; do
    if [[ -L "$link" ]]; then
      rm -rf "$(readlink -f "$link")"
    fi
  done
  rm -rf "$SCRATCH"
}

# Print the last lines of every log in $SCRATCH/logs (for failures in CI).
tail_logs() {
  local f
  for f in "$SCRATCH"/logs/*.log "$SCRATCH"/kafka/node-*/server.log "$SCRATCH"/pg/log \
    "$SCRATCH"/pgbouncer/pgbouncer.log; do
    [[ -f "$f" ]] || continue
    echo "----- last lines of $f -----" >&2
    tail -n "${1:-30}" "$f" >&2
  done
}
