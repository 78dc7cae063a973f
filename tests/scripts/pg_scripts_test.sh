#!/usr/bin/env bash
# Checks scripts/pg.sh and scripts/pgbouncer.sh on servers of their own (not the suite's):
#   - start is durable by default (fsync, full_page_writes, synchronous_commit on);
#   - crash SIGKILLs the postmaster mid-write and brings it back on the same port with the same
#     settings, and every commit acknowledged before the crash is still there;
#   - pgbouncer.sh start answers in transaction pooling mode on its own port; stop stops it;
#   - start --fast turns the three settings off and says so.
# Usage: pg_scripts_test.sh REPO
set -euo pipefail
REPO="$1"
PG="$REPO/scripts/pg.sh"
BOUNCER="$REPO/scripts/pgbouncer.sh"

fail() { echo "FAIL: $*" >&2; exit 1; }
check() { [[ "$2" == "$3" ]] || fail "$1: expected '$3', got '$2'"; }

durable_dir="$(mktemp -d /tmp/forewarn-pgtest.XXXXXX)"
fast_dir="$(mktemp -d /tmp/forewarn-pgtest.XXXXXX)"
chmod 711 "$durable_dir" "$fast_dir"
writer=""
cleanup() {
  [[ -z "$writer" ]] || kill "$writer" 2>/dev/null || true
  bash "$BOUNCER" stop "$durable_dir" || true
  bash "$PG" stop "$durable_dir" || true
  bash "$PG" stop "$fast_dir" || true
  for d in "$durable_dir" "$fast_dir"; do
    [[ -L "$d/pg" ]] && rm -rf "$(readlink -f "$d/pg")"
    [[ -L "$d/pgbouncer" ]] && rm -rf "$(readlink -f "$d/pgbouncer")"
    rm -rf "$d"
  done
}
trap cleanup EXIT

settings() { psql "$1" -X -At -c "SELECT string_agg(setting, ',' ORDER BY name) FROM pg_settings
  WHERE name IN ('fsync', 'full_page_writes', 'synchronous_commit')"; }

echo "== durable by default"
uri="$(FOREWARN_PG_FAST=0 bash "$PG" start "$durable_dir")"
check "settings" "$(settings "$uri")" "on,on,on"
check "durability file" "$(cat "$durable_dir/pg/durability")" "durable"

echo "== crash mid-write keeps every acknowledged commit"
psql "$uri" -X -q -c "CREATE TABLE acked (id int PRIMARY KEY)"
# One autocommit INSERT per line; a RETURNING line is printed only after its commit.
seq 1 200000 | sed 's/.*/INSERT INTO acked VALUES (&) RETURNING id;/' \
  | psql "$uri" -X -At -q >"$durable_dir/acked.txt" 2>"$durable_dir/writer.err" &
writer=$!
for ((i = 0; i < 100; i++)); do
  [[ "$(wc -l <"$durable_dir/acked.txt")" -ge 200 ]] && break
  sleep 0.1
done
pid_before="$(head -n 1 "$(readlink -f "$durable_dir/pg")/data/postmaster.pid")"
bash "$PG" crash "$durable_dir"
wait "$writer" || true  # its connection was cut
writer=""
acked="$(wc -l <"$durable_dir/acked.txt")"
((acked >= 200)) || fail "only $acked rows were acknowledged before the crash"
pid_after="$(head -n 1 "$(readlink -f "$durable_dir/pg")/data/postmaster.pid")"
[[ "$pid_before" != "$pid_after" ]] || fail "the postmaster was not replaced"
check "settings after the crash (same URI, same port)" "$(settings "$uri")" "on,on,on"
missing="$(sort -n "$durable_dir/acked.txt" | psql "$uri" -X -At -q \
  -c "CREATE TEMP TABLE seen (id int)" -c "COPY seen FROM STDIN" \
  -c "SELECT count(*) FROM seen WHERE id NOT IN (SELECT id FROM acked)")"
check "acknowledged rows lost (of $acked)" "$missing" "0"
echo "   $acked commits acknowledged before the crash, all kept; $(psql "$uri" -X -At -c "SELECT count(*) FROM acked") rows"
grep -q "database system was interrupted\|not properly shut down" "$(readlink -f "$durable_dir/pg")/log" \
  || fail "the server log shows no crash recovery"

echo "== pgbouncer in transaction pooling mode"
pooled="$(bash "$BOUNCER" start "$durable_dir" "$uri")"
[[ "$pooled" =~ ^postgresql://forewarn@127\.0\.0\.1:[0-9]+/forewarn$ ]] || fail "pooled URI '$pooled'"
[[ "$pooled" != "$uri" ]] || fail "pgbouncer shares the server's port"
check "a query through pgbouncer" "$(psql "$pooled" -X -At -c "SELECT count(*) > 0 FROM acked")" "t"
admin="${pooled%/*}/pgbouncer"
check "pool_mode" "$(psql "$admin" -X -At -c "SHOW CONFIG" | awk -F'|' '$1 == "pool_mode" { print $2 }')" "transaction"
bouncer_pid="$(cat "$(readlink -f "$durable_dir/pgbouncer")/pgbouncer.pid")"
bash "$BOUNCER" stop "$durable_dir"
! kill -0 "$bouncer_pid" 2>/dev/null || fail "pgbouncer $bouncer_pid still runs after stop"

echo "== --fast is explicit and says so"
fast_uri="$(bash "$PG" start "$fast_dir" --fast)"
check "fast settings" "$(settings "$fast_uri")" "off,off,off"
check "durability file" "$(cat "$fast_dir/pg/durability")" "fast"
echo "OK"
