#!/usr/bin/env bash
# Every service's --help shows the defaults of its flags (shared flags are
# defined once in services/runtime and added to each app).
# Usage: service_help_test.sh INTAKE RESOLVER NOTIFIER SCHEDULER ADMIN DEVKAFKA STATUS
set -uo pipefail
intake=$1 resolver=$2 notifier=$3 scheduler=$4 admin=$5 devkafka=$6 status=$7
failures=0

# expect NAME HELP_TEXT FLAG DEFAULT: the help line of FLAG ends its type with =DEFAULT.
expect() {
  local name=$1 help=$2 flag=$3 default=$4
  if grep -qE -- "^ +${flag} .*=${default}( |$)" <<<"$help"; then
    echo "ok   $name $flag=$default"
  else
    echo "FAIL $name: $flag does not show default '$default' in --help:"
    grep -E -- "^ +${flag} " <<<"$help" || echo "  (flag missing)"
    failures=$((failures + 1))
  fi
}

help_of() {
  local out
  if ! out=$("$@" --help 2>&1); then
    echo "FAIL $* --help exited non-zero" >&2
    failures=$((failures + 1))
  fi
  printf '%s\n' "$out"
}

h=$(help_of "$notifier")
expect notifier "$h" --smtp-tls starttls
expect notifier "$h" --record-interval-ms 200
expect notifier "$h" --lease-ms 60000
expect notifier "$h" --max-attempts 5
expect notifier "$h" --batch-size auto
expect notifier "$h" --group forewarn-notifier
expect notifier "$h" --session-timeout-ms 10000
expect notifier "$h" --pg-pooling auto
expect notifier "$h" --quiet-hours 09:00-22:00
expect notifier "$h" --time-offset-seconds 0

h=$(help_of "$intake")
expect intake "$h" --listen 127.0.0.1:0
expect intake "$h" --max-backdate 168h
expect intake "$h" --fd-headroom 64
expect intake "$h" --pg-pool-size 8
expect intake "$h" --dlq-topic forewarn.notices.dlq
expect intake "$h" --pg-pooling auto
expect intake "$h" --pg-read-max-lag 5s

h=$(help_of "$resolver")
expect resolver "$h" --pg-read-max-lag 5s
expect resolver "$h" --group forewarn-resolver
expect resolver "$h" --fetch-size 5000
expect resolver "$h" --events-topic forewarn.events
expect resolver "$h" --session-timeout-ms 10000

h=$(help_of "$scheduler")
expect scheduler "$h" --poll-ms 500
expect scheduler "$h" --batch-size 1000
expect scheduler "$h" --notices-topic forewarn.notices

h=$(help_of "$admin" topics)
expect admin "$h" --partitions-notices 12
expect admin "$h" --replication-factor 3

h=$(help_of "$devkafka")
expect devkafka "$h" --brokers 1

# The values the Helm chart passes to forewarn-status (status.*) default to these.
h=$(help_of "$status")
expect status "$h" --listen 0.0.0.0:8080
expect status "$h" --threads 16
expect status "$h" --default-language ar
expect status "$h" --default-time-zone Asia/Riyadh
expect status "$h" --cache-ms 1000
expect status "$h" --miss-burst 10
expect status "$h" --miss-refill-seconds 10
expect status "$h" --restored-hours 24
expect status "$h" --pg-read-max-lag 5s

if ((failures > 0)); then
  echo "$failures failure(s)"
  exit 1
fi
echo "every default shown"
