#!/usr/bin/env bash
# Install the Debian (bookworm) packages Forewarn needs to build and test. A no-op when
# everything is already installed.
set -euo pipefail

packages=(
  cmake ninja-build g++ pkg-config
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  librdkafka-dev libpqxx-dev postgresql
  libgtest-dev libgmock-dev libbenchmark-dev
  libabsl-dev libspdlog-dev libfmt-dev libcli11-dev nlohmann-json3-dev libkainjow-mustache-dev
  libicu-dev libcurl4-openssl-dev libphonenumber-dev
  prometheus-cpp-dev  # metrics: prometheus-cpp core (registry, text serializer)
  postgresql-15-postgis-3  # map areas: customers' locations and incident areas (PostGIS)
  libcpp-httplib-dev  # the intake's public HTTP endpoint (one-click unsubscribe, inbound SMS)
  python3-aiosmtpd python3-grpcio python3-yaml python3-prometheus-client kcat tzdata yamllint openssl clang libclang-rt-14-dev
  ccache pgbouncer time  # time: peak RSS in bench/run_import_bench.sh
  openjdk-17-jre-headless maven  # Apache Kafka for tests and local runs (scripts/kafka.sh)
  kannel libsmpp34-dev  # the SMS gateway of the receipt tests (scripts/kannel.sh); SMPP PDUs of the direct channel
  chromium nodejs  # the status pages' browser test (tests/browser; playwright-core from scripts/playwright.sh)
)
# npm comes with NodeSource's nodejs; Debian's nodejs has it as a package of its own.
command -v npm >/dev/null || packages+=(npm)

missing=()
for pkg in "${packages[@]}"; do
  status="$(dpkg-query -W -f='${db:Status-Abbrev}' "$pkg" 2>/dev/null || true)"
  [[ "$status" == ii* ]] || missing+=("$pkg")
done
if ((${#missing[@]} == 0)); then
  exit 0
fi
echo "deps: installing ${missing[*]}" >&2

sudo=()
[[ $EUID -eq 0 ]] || sudo=(sudo)

# Keep package installs from starting daemons (the Debian postgresql package would otherwise
# start its own cluster on port 5432; we run private servers on random ports instead).
policy=/usr/sbin/policy-rc.d
if [[ ! -e "$policy" ]]; then
  printf '#!/bin/sh\nexit 101\n' | "${sudo[@]}" tee "$policy" >/dev/null
  "${sudo[@]}" chmod 755 "$policy"
  trap '"${sudo[@]}" rm -f "$policy"' EXIT
fi

export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -q
"${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
