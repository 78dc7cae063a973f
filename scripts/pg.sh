#!/usr/bin/env bash
# A throwaway PostgreSQL 15 server for tests and local runs.
#
#   scripts/pg.sh start DIR   create DIR/pg, start a server on 127.0.0.1:<free port>, create
#                             role and database "forewarn"; prints the URI and writes it to
#                             DIR/pg/uri
#   scripts/pg.sh stop DIR    stop that server (pg_ctl stop -m fast)
#   scripts/pg.sh restart DIR stop it (fast: connections are cut mid-transaction), then start it
#                             again on the same port with the same settings (failure tests)
#
# The server binaries refuse to run as root, so they run as the "postgres" system user.
set -euo pipefail

PGBIN="${PGBIN:-/usr/lib/postgresql/15/bin}"

usage() { echo "usage: $0 start|stop DIR" >&2; exit 2; }
[[ $# -eq 2 ]] || usage
cmd="$1"
dir="$(mkdir -p "$2" && cd "$2" && pwd)"
pgdir="$dir/pg"

# Run as the postgres user when we are root; from / so it never lacks a working directory.
as_pg() {
  if [[ $EUID -eq 0 ]]; then
    (cd / && runuser -u postgres -- "$@")
  else
    "$@"
  fi
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# Start the server on a fresh port; returns 1 if it did not come up (e.g. port taken meanwhile).
start_server() {
  local port="$1"
  # fsync/synchronous_commit/full_page_writes off: for tests and development ONLY (a crash
  # can lose or corrupt data). Never use these settings for anything that matters.
  as_pg "$PGBIN/pg_ctl" start -w -t 60 -D "$pgdir/data" -l "$pgdir/log" -o "\
 -p $port -c listen_addresses=127.0.0.1 -c unix_socket_directories=$pgdir/sock\
 -c max_connections=200 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
    >/dev/null || return 1
  local i
  for ((i = 0; i < 100; i++)); do
    as_pg "$PGBIN/pg_isready" -q -h 127.0.0.1 -p "$port" && return 0
    sleep 0.1
  done
  return 1
}

start() {
  [[ ! -e "$pgdir/data/PG_VERSION" ]] || { echo "$pgdir already initialised" >&2; exit 1; }
  mkdir -p "$pgdir"
  if [[ $EUID -eq 0 ]]; then
    chown postgres: "$pgdir"
    if ! as_pg test -w "$pgdir"; then
      # An ancestor of DIR is closed to the postgres user (e.g. a clone under /root): keep
      # the data in /tmp and link it in place.
      rmdir "$pgdir"
      ln -s "$(mktemp -d /tmp/forewarn-pg.XXXXXX)" "$pgdir"
      chown postgres: "$(readlink -f "$pgdir")"
    fi
  fi
  pgdir="$(readlink -f "$pgdir")"  # the postgres user may only reach the link's target
  as_pg mkdir -p "$pgdir/sock"
  as_pg "$PGBIN/initdb" -D "$pgdir/data" -A trust -U postgres -E UTF8 --locale=C.UTF-8 \
    --no-sync >"$pgdir/initdb.log" 2>&1 || { cat "$pgdir/initdb.log" >&2; exit 1; }

  local port
  port="$(free_port)"
  if ! start_server "$port"; then
    echo "PostgreSQL did not start on port $port; retrying on another port" >&2
    as_pg "$PGBIN/pg_ctl" stop -D "$pgdir/data" -m immediate >/dev/null 2>&1 || true
    port="$(free_port)"
    start_server "$port" || { tail -n 20 "$pgdir/log" >&2; exit 1; }
  fi

  psql "postgresql://postgres@127.0.0.1:$port/postgres" -q -v ON_ERROR_STOP=1 \
    -c "CREATE ROLE forewarn LOGIN SUPERUSER" -c "CREATE DATABASE forewarn OWNER forewarn"
  local uri="postgresql://forewarn@127.0.0.1:$port/forewarn"
  echo "$uri" >"$pgdir/uri"
  echo "$uri"
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
  # Not -m immediate: this dev server runs with synchronous_commit=off and fsync=off, so a crash
  # would lose commits it had already acknowledged, which no production setting allows.
  as_pg "$PGBIN/pg_ctl" restart -w -t 60 -D "$pgdir/data" -m fast -l "$pgdir/log" >/dev/null
}

case "$cmd" in
  start) start ;;
  stop) stop ;;
  restart) restart ;;
  *) usage ;;
esac
