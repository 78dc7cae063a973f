#!/usr/bin/env bash
# Apache Kafka (KRaft: every node is broker and controller) for tests, local runs and
# benchmarks, on 127.0.0.1 with ports chosen at run time.
#
#   scripts/kafka.sh fetch
#       resolve the broker's jars (scripts/kafka/pom.xml, pinned versions) with Maven into
#       ${XDG_CACHE_HOME:-~/.cache}/forewarn/kafka-VERSION/libs and print that directory; a
#       no-op when present (parallel runs share it: lock, then temp dir and rename)
#   scripts/kafka.sh start DIR [--nodes N] [--scram USER:PASSWORD]
#       format and start N nodes (default 1; a controller quorum of N) under DIR/kafka/node-K
#       (data/, server.properties, server.log, pid, port); wait until the cluster lists N
#       brokers; write the bootstrap list to DIR/kafka.bootstrap and print it. --scram adds a
#       SASL_PLAINTEXT listener (SCRAM-SHA-512) with that user, created at format time, and
#       writes its bootstrap list to DIR/kafka.sasl.bootstrap (PLAINTEXT stays for the brokers
#       and these tools)
#   scripts/kafka.sh stop DIR            stop every node (SIGTERM, SIGKILL after
#                                        FOREWARN_KAFKA_STOP_TIMEOUT seconds, default 20)
#   scripts/kafka.sh stop-node DIR K     stop node K the same way (failure tests)
#   scripts/kafka.sh kill-node DIR K     SIGKILL node K and wait until it is gone
#   scripts/kafka.sh start-node DIR K    start node K again (same ports, same data) and wait
#                                        until the cluster lists it
#   scripts/kafka.sh topics DIR NAME:PARTITIONS...
#       create topics that do not exist yet (replication factor min(3, nodes)) with Kafka's
#       own TopicCommand (kafka-topics.sh); existing ones are left as they are
#   scripts/kafka.sh leader DIR TOPIC    print the node that leads most of TOPIC's partitions
#   scripts/kafka.sh controller DIR      print the node that is the active controller (the
#                                        leader of the KRaft quorum)
#
# Environment: FOREWARN_KAFKA_HEAP (default 384m: the JVM heap of each node).
# Settings are for one machine: replication of the internal topics min(3, nodes),
# min.insync.replicas 2 with three nodes or more (else 1), no initial rebalance delay, session
# timeouts from 1 s, topics never created on demand (auto.create.topics.enable=false: they are
# provisioned).
set -euo pipefail
# shellcheck source=scripts/proc_common.sh
source "$(dirname "${BASH_SOURCE[0]}")/proc_common.sh"

KAFKA_VERSION=3.9.1 # = kafka.version in scripts/kafka/pom.xml
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
POM="$REPO/scripts/kafka/pom.xml"
CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/forewarn/kafka-$KAFKA_VERSION"
LIBS="$CACHE/libs"
READY_TIMEOUT=90 # seconds; JVM start-up on a busy two-core machine
HEAP="${FOREWARN_KAFKA_HEAP:-384m}"
STOP_TIMEOUT="${FOREWARN_KAFKA_STOP_TIMEOUT:-20}"

usage() {
  sed -n '4,27p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
  exit 2
}
say() { printf '[%s] kafka: %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { say "error: $*"; exit 1; }

# --- fetch -----------------------------------------------------------------------------------
# The pom's checksum is stored with the jars, so a changed pom fetches again.
pom_sum() { sha256sum "$POM" | cut -d' ' -f1; }

fetch() {
  if [[ -f "$LIBS/.pom.sha256" && "$(<"$LIBS/.pom.sha256")" == "$(pom_sum)" ]]; then
    echo "$LIBS"
    return
  fi
  command -v mvn >/dev/null || die "mvn is not installed (scripts/deps.sh installs maven)"
  command -v java >/dev/null || die "java is not installed (scripts/deps.sh installs openjdk-17-jre-headless)"
  mkdir -p "$CACHE"
  # The lock lives in a subshell's descriptor only: no broker started later inherits it.
  (
    flock -w 600 9 || die "waited 10 minutes for $CACHE/fetch.lock"
    [[ -f "$LIBS/.pom.sha256" && "$(<"$LIBS/.pom.sha256")" == "$(pom_sum)" ]] && exit 0
    tmp="$(mktemp -d "$CACHE/libs.tmp.XXXXXX")"
    say "fetching Apache Kafka $KAFKA_VERSION with Maven into $LIBS"
    if ! mvn -q -B -f "$POM" dependency:copy-dependencies -DincludeScope=runtime \
      -DoutputDirectory="$tmp" >"$tmp.log" 2>&1; then
      cat "$tmp.log" >&2
      rm -rf "$tmp" "$tmp.log"
      die "mvn dependency:copy-dependencies failed"
    fi
    rm -f "$tmp.log"
    [[ -f "$tmp/kafka_2.13-$KAFKA_VERSION.jar" ]] || die "Maven did not bring kafka_2.13-$KAFKA_VERSION.jar"
    pom_sum >"$tmp/.pom.sha256"
    rm -rf "$LIBS.old"
    [[ -d "$LIBS" ]] && mv "$LIBS" "$LIBS.old"
    mv "$tmp" "$LIBS"
    rm -rf "$LIBS.old"
  ) 9>"$CACHE/fetch.lock"
  echo "$LIBS"
}

# --- helpers ---------------------------------------------------------------------------------

# A KRaft cluster id: 16 random bytes, URL-safe base64 without padding.
# A random cluster id as Kafka's own Uuid.randomUuid() makes it: URL-safe base64 of 16 random
# bytes, never starting with '-' (the format tool would take it for an option: 1 run in 64 failed).
cluster_id() {
  python3 -c 'import base64, uuid
while True:
    i = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
    if not i.startswith("-"):
        print(i)
        break'
}

# java's flags for a node or a tool (after the heap): the cached jars, this cluster's logging.
java_flags() {
  JAVA_FLAGS=(-XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:+ExitOnOutOfMemoryError -Djava.awt.headless=true
    "-Dlog4j.configuration=file:$KDIR/log4j.properties" -cp "$LIBS/*")
}
# A short-lived Kafka tool (StorageTool, TopicCommand): small heap, quick start.
tool() { java -Xmx256m -XX:TieredStopAtLevel=1 "${JAVA_FLAGS[@]}" "$@"; }

node_dir() { echo "$KDIR/node-$1"; }
node_pid() { [[ -s "$(node_dir "$1")/pid" ]] && cat "$(node_dir "$1")/pid"; }
nodes() { cat "$KDIR/nodes"; }
bootstrap() { cat "$KDIR/bootstrap"; }

# True once node K's own broker port answers and its metadata lists broker K: the broker enables
# request processing only after it caught up with the metadata log and was unfenced. (The
# cluster's metadata alone is not enough: a killed node stays listed until its session expires.)
node_listed() {
  kcat -L -b "127.0.0.1:$(cat "$(node_dir "$1")/port")" -m 3 2>/dev/null | grep -q "^ *broker $1 at "
}

# Waits until every node in "$@" is up and listed.
wait_listed() {
  local deadline=$((SECONDS + READY_TIMEOUT)) k missing
  while :; do
    missing=()
    for k in "$@"; do node_listed "$k" || missing+=("$k"); done
    ((${#missing[@]} == 0)) && return 0
    for k in "${missing[@]}"; do
      if ! alive "$(node_pid "$k")"; then
        tail -n 30 "$(node_dir "$k")/server.log" >&2 || true
        die "node $k exited during start-up; log: $(node_dir "$k")/server.log"
      fi
    done
    if ((SECONDS >= deadline)); then
      for k in "${missing[@]}"; do tail -n 30 "$(node_dir "$k")/server.log" >&2 || true; done
      die "nodes ${missing[*]} not ready after ${READY_TIMEOUT}s"
    fi
    sleep 0.2
  done
}

# Starts node K in the background (no wait); its pid goes to node-K/pid.
launch_node() {
  local k="$1" dir
  dir="$(node_dir "$k")"
  alive "$(node_pid "$k")" && die "node $k already runs (pid $(node_pid "$k"))"
  # setsid: the node outlives the calling script and its terminal (run_local.sh --keep-running).
  # All descriptors redirected: a caller reading our stdout does not wait for the broker.
  setsid bash -c 'echo $$ >"$1/pid"; shift; exec "$@"' _ "$dir" \
    java "-Xmx$HEAP" -Xms64m "${JAVA_FLAGS[@]}" kafka.Kafka "$dir/server.properties" \
    >>"$dir/server.log" 2>&1 </dev/null &
  local i
  for ((i = 0; i < 50; i++)); do
    [[ -s "$dir/pid" ]] && break
    sleep 0.02
  done
  say "node $k started (pid $(node_pid "$k")), log: $dir/server.log"
}

write_log4j() {
  cat >"$KDIR/log4j.properties" <<'EOF'
# One log per node (stdout, redirected to node-K/server.log). Partition and log creation at
# WARN: tests create many short-lived topics.
log4j.rootLogger=INFO, stdout
log4j.appender.stdout=org.apache.log4j.ConsoleAppender
log4j.appender.stdout.layout=org.apache.log4j.PatternLayout
log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.kafka.log=WARN
log4j.logger.kafka.cluster=WARN
log4j.logger.org.apache.kafka.storage=WARN
log4j.logger.state.change.logger=WARN
log4j.logger.kafka.server.ReplicaFetcherManager=WARN
log4j.logger.kafka.server.ReplicaAlterLogDirsManager=WARN
log4j.logger.org.apache.kafka.clients=WARN
log4j.logger.kafka.request.logger=WARN
log4j.logger.org.apache.kafka.image.loader=WARN
log4j.logger.org.apache.kafka.metadata.migration=WARN
EOF
}

# server.properties of node K (of N): VOTERS is controller.quorum.voters, then its two ports.
# With a SASL port ($6), a SASL_PLAINTEXT listener there (SCRAM-SHA-512).
write_config() {
  local k="$1" n="$2" voters="$3" bport="$4" cport="$5" sport="${6:-}" rf isr
  rf=$((n < 3 ? n : 3))
  isr=$((n >= 3 ? 2 : 1))
  local listeners="PLAINTEXT://127.0.0.1:$bport" map="PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT"
  if [[ -n "$sport" ]]; then
    listeners+=",SASL_PLAINTEXT://127.0.0.1:$sport"
    map+=",SASL_PLAINTEXT:SASL_PLAINTEXT"
  fi
  cat >"$(node_dir "$k")/server.properties" <<EOF
process.roles=broker,controller
node.id=$k
controller.quorum.voters=$voters
listeners=$listeners,CONTROLLER://127.0.0.1:$cport
advertised.listeners=$listeners
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=$map
log.dirs=$(node_dir "$k")/data
# Topics are provisioned (scripts/kafka.sh topics, forewarn-admin), never created on demand.
auto.create.topics.enable=false
num.partitions=1
default.replication.factor=$rf
min.insync.replicas=$isr
offsets.topic.replication.factor=$rf
offsets.topic.num.partitions=10
transaction.state.log.replication.factor=$rf
transaction.state.log.min.isr=$isr
transaction.state.log.num.partitions=10
group.initial.rebalance.delay.ms=0
# Tests and local runs use session timeouts of 3 s (the broker's default minimum is 6 s).
group.min.session.timeout.ms=1000
# A small machine: few threads, a small dedupe buffer (the default 128 MiB would take a third
# of the heap).
num.network.threads=2
num.io.threads=4
background.threads=4
num.recovery.threads.per.data.dir=1
log.cleaner.threads=1
log.cleaner.dedupe.buffer.size=8388608
EOF
  [[ -z "$sport" ]] && return 0
  cat >>"$(node_dir "$k")/server.properties" <<'EOF'
# Clients on SASL_PLAINTEXT authenticate with SCRAM-SHA-512 (users created at format time).
sasl.enabled.mechanisms=SCRAM-SHA-512
listener.name.sasl_plaintext.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
EOF
}

# --- commands --------------------------------------------------------------------------------
# start N [USER:PASSWORD]. Ports 3K-3, 3K-2 and 3K-1 are node K's broker, controller and SASL ports.
start() {
  local n="$1" scram="${2:-}" k ports voters="" i
  [[ ! -e "$KDIR" ]] || die "$KDIR exists (stop it and remove it first)"
  fetch >/dev/null
  command -v kcat >/dev/null || die "kcat is not installed (scripts/deps.sh installs it)"
  mkdir -p "$KDIR"
  echo "$n" >"$KDIR/nodes"
  read -ra ports <<<"$(free_ports $((3 * n)))"
  local bootstrap="" sasl_bootstrap=""
  for ((k = 1; k <= n; k++)); do
    voters+="${voters:+,}$k@127.0.0.1:${ports[3 * k - 2]}"
    bootstrap+="${bootstrap:+,}127.0.0.1:${ports[3 * k - 3]}"
    sasl_bootstrap+="${sasl_bootstrap:+,}127.0.0.1:${ports[3 * k - 1]}"
  done
  echo "$bootstrap" >"$KDIR/bootstrap"
  local scram_args=()
  if [[ -n "$scram" ]]; then
    # The password reaches only the format tool's arguments: no log, no file of this script.
    scram_args=(--add-scram "SCRAM-SHA-512=[name=${scram%%:*},password=${scram#*:}]")
    echo "$sasl_bootstrap" >"$KDIR/sasl.bootstrap"
  fi
  write_log4j
  local id
  id="$(cluster_id)"
  echo "$id" >"$KDIR/cluster.id"
  # Format every node's storage (in parallel: one JVM each), then start them all.
  local fmt_pids=()
  for ((k = 1; k <= n; k++)); do
    mkdir -p "$(node_dir "$k")"
    write_config "$k" "$n" "$voters" "${ports[3 * k - 3]}" "${ports[3 * k - 2]}" "${scram:+${ports[3 * k - 1]}}"
    echo "${ports[3 * k - 3]}" >"$(node_dir "$k")/port"
    tool kafka.tools.StorageTool format -t "$id" -c "$(node_dir "$k")/server.properties" "${scram_args[@]}" \
      >"$(node_dir "$k")/format.log" 2>&1 </dev/null &
    fmt_pids+=($!)
  done
  for i in "${!fmt_pids[@]}"; do
    wait "${fmt_pids[$i]}" || { cat "$(node_dir $((i + 1)))/format.log" >&2; die "formatting node $((i + 1)) failed"; }
  done
  for ((k = 1; k <= n; k++)); do launch_node "$k"; done
  # shellcheck disable=SC2046
  wait_listed $(seq 1 "$n")
  if [[ -n "$scram" ]]; then
    cp "$KDIR/sasl.bootstrap" "$DIR/kafka.sasl.bootstrap"
    say "SASL_PLAINTEXT (SCRAM-SHA-512, user ${scram%%:*}) at $sasl_bootstrap"
  fi
  cp "$KDIR/bootstrap" "$DIR/kafka.bootstrap.tmp"
  mv "$DIR/kafka.bootstrap.tmp" "$DIR/kafka.bootstrap"
  say "$n node(s) ready at $bootstrap"
  echo "$bootstrap"
}


stop() {
  [[ -f "$KDIR/nodes" ]] || return 0
  local k pid pids=()
  # SIGTERM to all nodes at once: the last ones would otherwise wait for a lost quorum.
  for ((k = 1; k <= $(nodes); k++)); do
    pid="$(node_pid "$k" || true)"
    alive "$pid" && { kill -TERM "$pid" 2>/dev/null || true; pids+=("$k:$pid"); }
  done
  local entry
  for entry in "${pids[@]}"; do stop_pid "node ${entry%%:*}" "${entry#*:}"; done
  for ((k = 1; k <= $(nodes); k++)); do rm -f "$(node_dir "$k")/pid"; done
  rm -f "$DIR/kafka.bootstrap" "$DIR/kafka.sasl.bootstrap"
}

check_node() {
  [[ -f "$KDIR/nodes" ]] || die "no Kafka cluster in $DIR"
  [[ "$1" =~ ^[0-9]+$ ]] && (($1 >= 1 && $1 <= $(nodes))) || die "node $1: want 1..$(nodes)"
}

stop_node() {
  check_node "$1"
  stop_pid "node $1" "$(node_pid "$1" || true)" "${2:-TERM}"
  rm -f "$(node_dir "$1")/pid"
}

start_node() {
  check_node "$1"
  launch_node "$1"
  wait_listed "$1"
}

topics() {
  [[ -f "$KDIR/nodes" ]] || die "no Kafka cluster in $DIR"
  (($# > 0)) || die "topics: want NAME:PARTITIONS..."
  local n rf spec name parts pids=() specs=()
  n="$(nodes)"
  rf=$((n < 3 ? n : 3))
  for spec in "$@"; do
    [[ "$spec" =~ ^([A-Za-z0-9._-]+):([1-9][0-9]*)$ ]] || die "topic '$spec': want NAME:PARTITIONS"
    name="${BASH_REMATCH[1]}"
    parts="${BASH_REMATCH[2]}"
    # One JVM per topic (TopicCommand creates one), run side by side.
    tool org.apache.kafka.tools.TopicCommand --bootstrap-server "$(bootstrap)" --create --if-not-exists \
      --topic "$name" --partitions "$parts" --replication-factor "$rf" \
      >"$KDIR/topic-$name.log" 2>&1 </dev/null &
    pids+=($!)
    specs+=("$spec")
  done
  local i failed=0
  for i in "${!pids[@]}"; do
    if wait "${pids[$i]}"; then
      say "topic ${specs[$i]} (replication factor $rf)"
    else
      cat "$KDIR/topic-${specs[$i]%:*}.log" >&2
      say "error: creating topic ${specs[$i]} failed"
      failed=1
    fi
  done
  ((failed == 0)) || exit 1
}

# The node leading most partitions of topic $1 (kcat's metadata: "partition P, leader K, ...").
leader() {
  [[ -f "$KDIR/nodes" ]] || die "no Kafka cluster in $DIR"
  local out
  out="$(kcat -L -b "$(bootstrap)" -t "$1" -m 10 2>&1)" || die "metadata of topic $1: $out"
  grep -oE 'partition [0-9]+, leader [0-9]+' <<<"$out" | awk '{print $4}' | sort | uniq -c | sort -k1,1nr -k2,2n |
    awk 'NR == 1 {print $2; found = 1} END {exit !found}' || die "topic $1 has no partition with a leader"
}

# The active controller: the leader of the KRaft metadata quorum (kafka-metadata-quorum.sh).
controller() {
  [[ -f "$KDIR/nodes" ]] || die "no Kafka cluster in $DIR"
  local out
  out="$(tool org.apache.kafka.tools.MetadataQuorumCommand --bootstrap-server "$(bootstrap)" describe --status \
    2>&1 </dev/null)" || die "kafka-metadata-quorum describe --status failed: $out"
  awk -F': *' '$1 == "LeaderId" {print $2; found = 1} END {exit !found}' <<<"$out" ||
    die "no LeaderId in kafka-metadata-quorum's answer: $out"
}

# --- main ------------------------------------------------------------------------------------
(($# >= 1)) || usage
cmd="$1"
shift
if [[ "$cmd" == fetch ]]; then
  (($# == 0)) || usage
  fetch
  exit 0
fi
(($# >= 1)) || usage
DIR="$(mkdir -p "$1" && cd "$1" && pwd)"
KDIR="$DIR/kafka"
java_flags
shift
case "$cmd" in
  start)
    nodes_wanted=1
    scram=""
    while (($# >= 2)); do
      case "$1" in
        --nodes) nodes_wanted="$2" ;;
        --scram) scram="$2" ;;
        *) usage ;;
      esac
      shift 2
    done
    (($# == 0)) || usage
    [[ "$nodes_wanted" =~ ^[1-9]$ ]] || die "--nodes wants 1..9"
    [[ -z "$scram" || "$scram" =~ ^[A-Za-z0-9._-]+:[^],=[]+$ ]] ||
      die "--scram wants USER:PASSWORD (no ',', '=', '[' or ']' in the password)"
    start "$nodes_wanted" "$scram"
    ;;
  stop) (($# == 0)) || usage; stop ;;
  stop-node) (($# == 1)) || usage; stop_node "$1" ;;
  kill-node) (($# == 1)) || usage; stop_node "$1" KILL ;;
  start-node) (($# == 1)) || usage; fetch >/dev/null; start_node "$1" ;;
  topics) topics "$@" ;;
  leader) (($# == 1)) || usage; leader "$1" ;;
  controller) (($# == 0)) || usage; controller ;;
  *) usage ;;
esac
