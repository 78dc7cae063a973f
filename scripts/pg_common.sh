# Shared by scripts/pg.sh and scripts/pgbouncer.sh (sourced, not run).

# Run as the postgres user when we are root; from / so it never lacks a working directory.
as_pg() {
  if [[ $EUID -eq 0 ]]; then
    (cd / && runuser -u postgres -- "$@")
  else
    "$@"
  fi
}

# A loopback TCP port free right now.
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# The absolute path of DIR, created when missing.
abs_dir() {
  mkdir -p "$1" && cd "$1" && pwd
}

# Creates DIR for the postgres user and prints the path it may use. When an ancestor of DIR is
# closed to that user (e.g. a clone under /root), the files live in a fresh /tmp/PREFIX.XXXXXX
# linked in place of DIR, and the link's target is printed: the postgres user may only reach it.
pg_owned_dir() {
  local dir="$1" prefix="$2"
  # Called in $(...), where errexit does not hold: each step fails the function itself.
  mkdir -p "$dir" || return 1
  if [[ $EUID -eq 0 ]]; then
    chown postgres: "$dir" || return 1
    if ! as_pg test -w "$dir"; then
      rmdir "$dir" && ln -s "$(mktemp -d "/tmp/$prefix.XXXXXX")" "$dir" || return 1
      chown postgres: "$(readlink -f "$dir")" || return 1
    fi
  fi
  readlink -f "$dir"
}
