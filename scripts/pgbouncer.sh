#!/usr/bin/env bash
# pgbouncer in transaction pooling mode in front of a PostgreSQL server, for tests and local
# runs (Debian's pgbouncer 1.18).
#
#   scripts/pgbouncer.sh start SCRATCH PG_URI
#                             write SCRATCH/pgbouncer/{pgbouncer.ini,userlist.txt}, start
#                             pgbouncer on 127.0.0.1:<free port> proxying every database of
#                             PG_URI's server, wait until it answers, print the pooled URI (same
#                             user and database as PG_URI) and write it to SCRATCH/pgbouncer/uri
#   scripts/pgbouncer.sh stop SCRATCH
#                             stop it (SIGTERM to the pid in SCRATCH/pgbouncer/pgbouncer.pid)
#
# pool_mode = transaction: a server connection belongs to a client for one transaction only,
# so nothing outlives a transaction (prepared statements, LISTEN, session advisory locks).
# Authentication is trust, as for the scratch server behind it (loopback only). pgbouncer
# refuses to run as root, so it runs as the "postgres" system user, like scripts/pg.sh.
set -euo pipefail
# shellcheck source=scripts/pg_common.sh
source "$(dirname "${BASH_SOURCE[0]}")/pg_common.sh"

PGBOUNCER="${PGBOUNCER:-$(command -v pgbouncer || echo /usr/sbin/pgbouncer)}"

usage() { echo "usage: $0 start SCRATCH PG_URI | stop SCRATCH" >&2; exit 2; }
[[ $# -ge 2 ]] || usage
cmd="$1"
dir="$(abs_dir "$2")"
bdir="$dir/pgbouncer"

# "user host port database" from postgresql://user[:password]@host:port/database[?...]
parse_uri() {
  python3 - "$1" <<'EOF'
import sys, urllib.parse
u = urllib.parse.urlparse(sys.argv[1])
if u.scheme not in ("postgresql", "postgres") or not u.username or not u.hostname or not u.port \
        or len(u.path) < 2:
    sys.exit("PG_URI must look like postgresql://user@host:port/database, not " + sys.argv[1])
print(u.username, u.hostname, u.port, u.path[1:])
EOF
}

# Pool sizes: pools are per (database, user); transaction pooling needs a server connection
# only per transaction in progress. A whole test stack (intake, resolver, scheduler, two
# notifiers, the test itself) opens about 30 client connections; 60 servers per pool never
# queue them, and the scratch server allows 200 connections in all.
write_config() {
  local port="$1" host="$2" pgport="$3" user="$4"
  cat >"$bdir/pgbouncer.ini" <<EOF
[databases]
* = host=$host port=$pgport

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $port
unix_socket_dir =
auth_type = trust
auth_file = $bdir/userlist.txt
admin_users = $user
pool_mode = transaction
default_pool_size = 60
min_pool_size = 0
reserve_pool_size = 0
max_client_conn = 1000
max_db_connections = 150
server_idle_timeout = 30
ignore_startup_parameters = extra_float_digits
logfile = $bdir/pgbouncer.log
pidfile = $bdir/pgbouncer.pid
log_connections = 0
log_disconnections = 0
EOF
  printf '"%s" ""\n"postgres" ""\n' "$user" >"$bdir/userlist.txt"
}

# Starts pgbouncer on `port`; returns 1 if it did not come up (e.g. the port was taken).
start_bouncer() {
  local port="$1" uri="$2" i
  as_pg "$PGBOUNCER" -d -q "$bdir/pgbouncer.ini" || return 1
  for ((i = 0; i < 100; i++)); do
    psql "$uri" -Atqc 'SELECT 1' >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  stop
  return 1
}

start() {
  local pg_uri="$1" user host pgport db
  read -r user host pgport db < <(parse_uri "$pg_uri") || exit 2
  [[ -n "$db" ]] || exit 2
  [[ ! -s "$bdir/pgbouncer.pid" ]] || ! kill -0 "$(<"$bdir/pgbouncer.pid")" 2>/dev/null \
    || { echo "pgbouncer already runs for $dir" >&2; exit 1; }
  bdir="$(pg_owned_dir "$bdir" forewarn-pgbouncer)"
  local attempt port uri
  for attempt in 1 2 3; do
    port="$(free_port)"
    uri="postgresql://$user@127.0.0.1:$port/$db"
    as_pg bash -c "$(declare -f write_config); bdir='$bdir'; write_config $port $host $pgport $user"
    start_bouncer "$port" "$uri" && break
    echo "pgbouncer did not start on port $port (attempt $attempt)" >&2
    tail -n 5 "$bdir/pgbouncer.log" >&2 2>/dev/null || true
    ((attempt < 3)) || exit 1
  done
  echo "$uri" | as_pg tee "$bdir/uri" >/dev/null
  echo "$uri"
}

stop() {
  local pidfile pid i
  pidfile="$(readlink -f "$bdir")/pgbouncer.pid"
  [[ -s "$pidfile" ]] || return 0
  pid="$(<"$pidfile")"
  if kill -TERM "$pid" 2>/dev/null; then
    for ((i = 0; i < 100; i++)); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
  fi
  rm -f "$pidfile" 2>/dev/null || as_pg rm -f "$pidfile"
  return 0
}

case "$cmd" in
  start) [[ $# -eq 3 ]] || usage; start "$3" ;;
  stop) [[ $# -eq 2 ]] || usage; stop ;;
  *) usage ;;
esac
