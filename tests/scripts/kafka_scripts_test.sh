#!/usr/bin/env bash
# Checks scripts/kafka.sh on a cluster of its own (not the suite's broker):
#   - fetch is a no-op once the jars are cached;
#   - start --nodes 3 brings up three KRaft nodes that all list each other;
#   - topics creates a topic with replication factor 3 and leaves an existing one alone;
#   - kill-node leaves a cluster that still takes acks=all writes (min.insync.replicas 2);
#     start-node brings the node back on the same port, listed again;
#   - stop stops every node by pid and removes the bootstrap file; bad arguments are refused.
# Usage: kafka_scripts_test.sh REPO     (exits 77, skipped, under scripts/test.sh --kafka mock)
set -euo pipefail
REPO="$1"
if [[ "${FOREWARN_TEST_KAFKA_KIND:-real}" == mock ]]; then
  echo "skipped: the suite runs without Apache Kafka (--kafka mock)"
  exit 77
fi
KAFKA="$REPO/scripts/kafka.sh"

fail() {
  echo "FAIL: $*" >&2
  [[ -s "${dir:-}/kcat.log" ]] && tail -n 20 "$dir/kcat.log" >&2
  exit 1
}
check() { [[ "$2" == "$3" ]] || fail "$1: expected '$3', got '$2'"; }

dir="$(mktemp -d /tmp/forewarn-kafkatest.XXXXXX)"
cleanup() {
  bash "$KAFKA" stop "$dir" || true
  rm -rf "$dir"
}
trap cleanup EXIT

brokers() { kcat -L -b "$1" -m 5 2>/dev/null | sed -n 's/^ *broker \([0-9]*\) at .*/\1/p' | sort -n | paste -sd,; }
# BOOTSTRAP FROM TO: messages FROM..TO, acks=all. The timeout leaves room for a killed node's
# fencing: until the controller fences it (broker session 9 s, later on a loaded machine) it stays
# in the partitions' ISR and acks=all writes wait for it.
produce() {
  seq "$2" "$3" | kcat -P -b "$1" -t scripted -X acks=all -X message.timeout.ms=120000 \
    2>>"$dir/kcat.log"
}
consumed() { kcat -C -b "$1" -t scripted -o beginning -e -q 2>>"$dir/kcat.log" | sort -n | uniq | wc -l; }
# BOOTSTRAP EXPECTED: the distinct messages read, read again for up to 30 s until EXPECTED. Right
# after a leader moves, the new leader's high watermark can trail what acks=all confirmed until
# the followers fetch again, so one read may end (-e) a few messages short.
consumed_eventually() {
  local n deadline=$((SECONDS + 30))
  while n="$(consumed "$1")"; [[ "$n" != "$2" ]] && ((SECONDS < deadline)); do sleep 1; done
  echo "$n"
}

echo "== fetch is cached"
libs="$(bash "$KAFKA" fetch)"
[[ -f "$libs/kafka_2.13-3.9.1.jar" ]] || fail "no kafka jar in $libs"
check "second fetch" "$(bash "$KAFKA" fetch 2>&1)" "$libs"

echo "== three nodes"
bootstrap="$(bash "$KAFKA" start "$dir" --nodes 3)"
check "bootstrap file" "$(cat "$dir/kafka.bootstrap")" "$bootstrap"
[[ "$bootstrap" =~ ^127\.0\.0\.1:[0-9]+,127\.0\.0\.1:[0-9]+,127\.0\.0\.1:[0-9]+$ ]] || fail "bootstrap '$bootstrap'"
check "brokers listed" "$(brokers "$bootstrap")" "1,2,3"
for k in 1 2 3; do kill -0 "$(cat "$dir/kafka/node-$k/pid")" || fail "node $k is not running"; done

echo "== topics"
bash "$KAFKA" topics "$dir" scripted:6
bash "$KAFKA" topics "$dir" scripted:6 # exists: left alone, no error
meta="$(kcat -L -b "$bootstrap" -t scripted)"
check "partitions" "$(grep -c '^ *partition ' <<<"$meta")" "6"
check "partitions with three replicas" "$(grep -cE 'replicas: [0-9],[0-9],[0-9],' <<<"$meta")" "6"
if bash "$KAFKA" topics "$dir" "bad topic:1" 2>/dev/null; then fail "a bad topic spec was accepted"; fi

echo "== a killed node, then restarted"
produce "$bootstrap" 1 100
killed_pid="$(cat "$dir/kafka/node-2/pid")"
port="$(cat "$dir/kafka/node-2/port")"
bash "$KAFKA" kill-node "$dir" 2
if kill -0 "$killed_pid" 2>/dev/null; then fail "node 2 (pid $killed_pid) still runs"; fi
produce "$bootstrap" 101 200 # two of three replicas in sync: acks=all still succeeds
check "messages with node 2 down" "$(consumed_eventually "$bootstrap" 200)" "200"
bash "$KAFKA" start-node "$dir" 2
check "node 2 port" "$(cat "$dir/kafka/node-2/port")" "$port"
check "brokers listed after the restart" "$(brokers "127.0.0.1:$port")" "1,2,3"
check "messages after the restart" "$(consumed_eventually "$bootstrap" 200)" "200"

echo "== stop"
pids="$(cat "$dir"/kafka/node-*/pid)"
bash "$KAFKA" stop "$dir"
for pid in $pids; do
  if kill -0 "$pid" 2>/dev/null; then fail "pid $pid still runs after stop"; fi
done
[[ ! -e "$dir/kafka.bootstrap" ]] || fail "kafka.bootstrap left behind"
if bash "$KAFKA" start "$dir/other" --nodes 0 2>/dev/null; then fail "--nodes 0 was accepted"; fi
if bash "$KAFKA" start-node "$dir" 4 2>/dev/null; then fail "node 4 of 3 was accepted"; fi
echo "OK"
