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
