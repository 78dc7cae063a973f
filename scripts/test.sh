#!/usr/bin/env bash
# THE test command: install deps, build, start PostgreSQL and Apache Kafka on loopback ports
# chosen at run time, run ctest, stop everything. Extra arguments are passed to ctest, e.g.
#   scripts/test.sh -R Intake  or  scripts/test.sh -L unit
#   scripts/test.sh --kafka mock [CTEST ARGS]   (or FOREWARN_KAFKA=mock) librdkafka's mock
#       cluster (forewarn-devkafka) instead of Apache Kafka, for machines without Java
#
# Exported to the tests:
#   FOREWARN_TEST_PG_URI  postgresql://forewarn@127.0.0.1:PORT/forewarn (superuser; tests
#                         create their own databases from it)
#   FOREWARN_TEST_PGBOUNCER_URI
#                         the same server through pgbouncer in transaction pooling mode
#                         (scripts/pgbouncer.sh); the same user, any database
#   FOREWARN_TEST_KAFKA   bootstrap "127.0.0.1:PORT" of the broker (one KRaft node,
#                         scripts/kafka.sh; topics are never created on demand: tests create
#                         their own, tests/support/kafka_topics.h), with the four
#                         forewarn.* topics already there
#   FOREWARN_TEST_KAFKA_KIND
#                         real (Apache Kafka) or mock (forewarn-devkafka)
#   FOREWARN_BUILD_DIR    absolute path of the build directory
#   FOREWARN_HELM         a pinned helm v3 binary (scripts/helm.sh; the tests in tests/helm)
#   FOREWARN_PLAYWRIGHT_MODULES
#                         node_modules holding a pinned playwright-core (scripts/playwright.sh;
#                         the status pages' browser test drives /usr/bin/chromium with it)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/lib.sh
source scripts/lib.sh

BUILD_DIR="${BUILD_DIR:-build}"
export BUILD_DIR
if [[ "${1:-}" == --kafka ]]; then
  FOREWARN_KAFKA="${2:?--kafka wants real or mock}"
  shift 2
fi
FOREWARN_TEST_KAFKA_KIND="${FOREWARN_KAFKA:-real}"
[[ "$FOREWARN_TEST_KAFKA_KIND" =~ ^(real|mock)$ ]] || die "--kafka (FOREWARN_KAFKA) must be real or mock"
export FOREWARN_KAFKA="$FOREWARN_TEST_KAFKA_KIND" FOREWARN_TEST_KAFKA_KIND

bash scripts/deps.sh
# Cached under ~/.cache/forewarn after the first run, which builds it (minutes).
FOREWARN_HELM="$(bash scripts/helm.sh)"
export FOREWARN_HELM
FOREWARN_PLAYWRIGHT_MODULES="$(bash scripts/playwright.sh)"
export FOREWARN_PLAYWRIGHT_MODULES
bash scripts/build.sh

SCRATCH="$(mktemp -d /tmp/forewarn-test.XXXXXX)"
chmod 711 "$SCRATCH" # the postgres user must reach $SCRATCH/pg
# shellcheck disable=SC2317  # invoked by the EXIT trap
cleanup() {
  local status=$?
  ((status == 0)) || tail_logs 40
  stop_all
  if ((status == 0)); then
    remove_scratch
  else
    log "failed (exit $status); scratch kept at $SCRATCH"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

FOREWARN_TEST_PG_URI="$(bash scripts/pg.sh start "$SCRATCH")"
FOREWARN_TEST_PGBOUNCER_URI="$(bash scripts/pgbouncer.sh start "$SCRATCH" "$FOREWARN_TEST_PG_URI")"

# The services' default topics, for tests that run them with their defaults.
start_kafka forewarn.events:4 forewarn.notices:12 forewarn.notices.retry:12 forewarn.notices.dlq:4
FOREWARN_TEST_KAFKA="$KAFKA"

FOREWARN_BUILD_DIR="$(cd "$BUILD_DIR" && pwd)"
FOREWARN_TEST_PG_DIR="$SCRATCH"  # failure tests: scripts/pg.sh restart|crash "$FOREWARN_TEST_PG_DIR"
export FOREWARN_TEST_PG_URI FOREWARN_TEST_PGBOUNCER_URI FOREWARN_TEST_KAFKA FOREWARN_BUILD_DIR FOREWARN_TEST_PG_DIR
log "PostgreSQL: $FOREWARN_TEST_PG_URI  pgbouncer: $FOREWARN_TEST_PGBOUNCER_URI  Kafka: $FOREWARN_TEST_KAFKA"

rc=0
ctest --test-dir "$BUILD_DIR" --output-on-failure -j2 --timeout 600 "$@" || rc=$?
exit "$rc"
