#!/usr/bin/env bash
# A throwaway PostgreSQL 15 server for tests and local runs.
#
#   scripts/pg.sh start DIR [--fast]
#                             create DIR/pg, start a server on 127.0.0.1:<free port>, create
#                             role and database "forewarn"; prints the URI and writes it to
#                             DIR/pg/uri. Durable by default, as in production: fsync,
#                             full_page_writes and synchronous_commit on. --fast (or
#                             FOREWARN_PG_FAST=1) turns all three off: quicker, but a crash can
#                             lose acknowledged commits or corrupt the data (demos and
#                             benchmarks that ask for it only). DIR/pg/durability says which.
#   scripts/pg.sh replica DIR PRIMARY_DIR [--fast]
#                             a streaming standby of the server `start PRIMARY_DIR` runs:
#                             pg_basebackup -R -X stream from it into DIR/pg, started on
#                             127.0.0.1:<free port> with hot_standby and hot_standby_feedback on
#                             (its long audience cursors are not cancelled by the primary's
#                             vacuum); prints the URI (same role and database) and writes it to
#                             DIR/pg/uri. stop, restart and crash work on DIR as on a primary.
#   scripts/pg.sh stop DIR    stop that server (pg_ctl stop -m fast)
#   scripts/pg.sh restart DIR stop it (fast: connections are cut mid-transaction), then start it
#                             again on the same port with the same settings (failure tests)
#   scripts/pg.sh crash DIR   SIGKILL the postmaster (pid from postmaster.pid), wait for its
#                             backends to go, start it again on the same port with the same
#                             settings: crash recovery replays the WAL (failure tests)
#
# The server binaries refuse to run as root, so they run as the "postgres" system user.
set -euo pipefail
# shellcheck source=scripts/pg_common.sh
source "$(dirname "${BASH_SOURCE[0]}")/pg_common.sh"

PGBIN="${PGBIN:-/usr/lib/postgresql/15/bin}"

usage() {
  echo "usage: $0 start DIR [--fast] | replica DIR PRIMARY_DIR [--fast] | stop DIR | restart DIR | crash DIR" >&2
  exit 2
}
[[ $# -ge 2 ]] || usage
cmd="$1"
dir="$(abs_dir "$2")"
pgdir="$dir/pg"
fast="${FOREWARN_PG_FAST:-0}"
[[ "$fast" == 0 || "$fast" == 1 ]] || { echo "FOREWARN_PG_FAST must be 0 or 1" >&2; exit 2; }
primary_dir=""
if [[ "$cmd" == replica ]]; then
  [[ $# -eq 3 || ($# -eq 4 && "$4" == --fast) ]] || usage
  primary_dir="$(abs_dir "$3")"
  [[ $# -eq 4 ]] && fast=1
elif [[ $# -eq 3 && "$cmd" == start && "$3" == --fast ]]; then
  fast=1
elif [[ $# -ne 2 ]]; then
  usage
fi

# Start the server on a fresh port; returns 1 if it did not come up (e.g. port taken meanwhile).
start_server() {
  local port="$1" durability=on
  # --fast: fsync/synchronous_commit/full_page_writes off, for demos and benchmarks ONLY (a
  # crash can lose acknowledged commits or corrupt data). Never for anything that matters.
  ((fast)) && durability=off
  as_pg "$PGBIN/pg_ctl" start -w -t 60 -D "$pgdir/data" -l "$pgdir/log" -o "\
 -p $port -c listen_addresses=127.0.0.1 -c unix_socket_directories=$pgdir/sock\
 -c max_connections=200 -c fsync=$durability -c synchronous_commit=$durability\
 -c full_page_writes=$durability" \
    >/dev/null || return 1
  local i
  for ((i = 0; i < 100; i++)); do
    as_pg "$PGBIN/pg_isready" -q -h 127.0.0.1 -p "$port" && return 0
    sleep 0.1
  done
  return 1
}

# Starts the server on a free port, once more on another if that one was taken meanwhile;
# prints the port. WHAT names the server in messages.
start_on_free_port() {
  local port
  port="$(free_port)"
  if ! start_server "$port"; then
    echo "$1 did not start on port $port; retrying on another port" >&2
    as_pg "$PGBIN/pg_ctl" stop -D "$pgdir/data" -m immediate >/dev/null 2>&1 || true
    port="$(free_port)"
    start_server "$port" || { tail -n 20 "$pgdir/log" >&2; exit 1; }
  fi
  echo "$port"
}

start() {
  [[ ! -e "$pgdir/data/PG_VERSION" ]] || { echo "$pgdir already initialised" >&2; exit 1; }
  pgdir="$(pg_owned_dir "$pgdir" forewarn-pg)"
  as_pg mkdir -p "$pgdir/sock"
  local nosync=()
  ((fast)) && nosync=(--no-sync)
  as_pg "$PGBIN/initdb" -D "$pgdir/data" -A trust -U postgres -E UTF8 --locale=C.UTF-8 \
    "${nosync[@]}" >"$pgdir/initdb.log" 2>&1 || { cat "$pgdir/initdb.log" >&2; exit 1; }
  if ((fast)); then echo fast; else echo durable; fi | as_pg tee "$pgdir/durability" >/dev/null

  local port
  port="$(start_on_free_port PostgreSQL)"

  # PostGIS in template1: every database created from now on (forewarn, the tests' scratch
  # databases) has it, so the schema migration's CREATE EXTENSION is a no-op, not 1 s each.
  psql "postgresql://postgres@127.0.0.1:$port/template1" -q -v ON_ERROR_STOP=1 \
    -c "CREATE EXTENSION IF NOT EXISTS postgis"
  psql "postgresql://postgres@127.0.0.1:$port/postgres" -q -v ON_ERROR_STOP=1 \
    -c "CREATE ROLE forewarn LOGIN SUPERUSER" -c "CREATE DATABASE forewarn OWNER forewarn"
  local uri="postgresql://forewarn@127.0.0.1:$port/forewarn"
  echo "$uri" >"$pgdir/uri"
  echo "$uri"
}

# A streaming standby of the server in $primary_dir, in $pgdir (see the usage at the top).
replica() {
  local primary_pgdir primary_uri primary_port
  primary_pgdir="$(readlink -f "$primary_dir/pg")"
  primary_uri="$(cat "$primary_pgdir/uri" 2>/dev/null)" || { echo "no server started in $primary_dir" >&2; exit 1; }
  primary_port="${primary_uri##*:}"
  primary_port="${primary_port%%/*}"
  [[ ! -e "$pgdir/data/PG_VERSION" ]] || { echo "$pgdir already initialised" >&2; exit 1; }
  allow_replication "$primary_pgdir" "$primary_port"
  pgdir="$(pg_owned_dir "$pgdir" forewarn-pg)"
  as_pg mkdir -p "$pgdir/sock"
  local nosync=()
  ((fast)) && nosync=(--no-sync)
  # -R: standby.signal and primary_conninfo; -X stream: the WAL written meanwhile comes along.
  as_pg "$PGBIN/pg_basebackup" -h 127.0.0.1 -p "$primary_port" -U postgres -D "$pgdir/data" -R -X stream \
    -c fast "${nosync[@]}" >"$pgdir/basebackup.log" 2>&1 || { cat "$pgdir/basebackup.log" >&2; exit 1; }
  printf '%s\n' "hot_standby = on" "hot_standby_feedback = on" | as_pg tee -a "$pgdir/data/postgresql.auto.conf" >/dev/null
  if ((fast)); then echo fast; else echo durable; fi | as_pg tee "$pgdir/durability" >/dev/null
  local port
  port="$(start_on_free_port "PostgreSQL standby")"
  local uri="postgresql://forewarn@127.0.0.1:$port/forewarn"
  echo "$uri" | as_pg tee "$pgdir/uri" >/dev/null
  echo "$uri"
}

# Lets the postgres user replicate over loopback (initdb -A trust allows it already; kept for a
# primary whose pg_hba.conf was tightened).
allow_replication() {
  local hba="$1/data/pg_hba.conf"
  as_pg grep -Eq '^host[[:space:]]+replication[[:space:]]+(all|postgres)[[:space:]]+127\.0\.0\.1/32' "$hba" && return 0
  echo "host replication postgres 127.0.0.1/32 trust" | as_pg tee -a "$hba" >/dev/null
  psql "postgresql://postgres@127.0.0.1:$2/postgres" -q -v ON_ERROR_STOP=1 -c "SELECT pg_reload_conf()" >/dev/null
}

stop() {
  pgdir="$(readlink -f "$pgdir")"
  [[ -f "$pgdir/data/postmaster.pid" ]] || return 0
  if ! as_pg "$PGBIN/pg_ctl" stop -w -t 30 -D "$pgdir/data" -m fast >/dev/null; then
    # pg_ctl failed: signal the postmaster directly (first line of postmaster.pid).
    local pid
    pid="$(head -n 1 "$pgdir/data/postmaster.pid")"
    kill -QUIT "$pid" 2>/dev/null || true
  fi
}

restart() {
  pgdir="$(readlink -f "$pgdir")"
  # pg_ctl restart reuses the previous command line (postmaster.opts): same port, same settings.
  as_pg "$PGBIN/pg_ctl" restart -w -t 60 -D "$pgdir/data" -m fast -l "$pgdir/log" >/dev/null
}

# Field N (from 3, the state) of /proc/PID/stat; the command name (field 2) may contain spaces.
proc_field() {
  local stat fields
  stat="$(cat "/proc/$1/stat" 2>/dev/null)" || return 1
  read -ra fields <<<"${stat##*) }"
  echo "${fields[$(($2 - 3))]}"
}

# True while pid $1 runs (a zombie waiting for its reaper does not count).
running() {
  local state
  state="$(proc_field "$1" 3)" || return 1
  [[ "$state" != Z && "$state" != X ]]
}

# The pids whose parent is $1 (a postmaster's backends and auxiliary processes).
children_of() {
  local dir pid
  for dir in /proc/[0-9]*; do
    pid="${dir#/proc/}"
    [[ "$(proc_field "$pid" 4 2>/dev/null)" == "$1" ]] && echo "$pid"
  done
  return 0
}

crash() {
  pgdir="$(readlink -f "$pgdir")"
  [[ -s "$pgdir/data/postmaster.pid" ]] || { echo "no postmaster.pid in $pgdir/data" >&2; exit 1; }
  if [[ "$(cat "$pgdir/durability" 2>/dev/null)" == fast ]]; then
    echo "warning: this server runs with --fast (fsync off): a crash may lose acknowledged commits" >&2
  fi
  local pid children i c
  pid="$(head -n 1 "$pgdir/data/postmaster.pid")"
  running "$pid" || { echo "postmaster $pid is not running" >&2; exit 1; }
  children="$(children_of "$pid")"
  kill -KILL "$pid"
  # Orphaned backends notice the postmaster's death and exit; the new postmaster refuses to
  # start while any of them still holds the shared memory. Those stuck in a long query are
  # killed too, by the pids recorded before the crash.
  for ((i = 0; i < 100; i++)); do
    local alive=0 c
    running "$pid" && alive=1
    for c in $children; do running "$c" && alive=1; done
    ((alive)) || break
    sleep 0.1
  done
  for c in $children; do kill -KILL "$c" 2>/dev/null || true; done
  # pg_ctl takes a postmaster it can still signal (not reaped yet) for a live one: wait for the
  # reaper; a zombie nobody reaps leaves a stale postmaster.pid, removed here.
  for ((i = 0; i < 100; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    as_pg rm -f "$pgdir/data/postmaster.pid"
  fi
  # pg_ctl restart on a dead postmaster: "old server process seems to be gone; starting server
  # anyway", with the command line of postmaster.opts (same port, same settings).
  as_pg "$PGBIN/pg_ctl" restart -w -t 120 -D "$pgdir/data" -l "$pgdir/log" >/dev/null
}

case "$cmd" in
  start) start ;;
  replica) replica ;;
  stop) stop ;;
  restart) restart ;;
  crash) crash ;;
  *) usage ;;
esac
