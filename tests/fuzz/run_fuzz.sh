#!/usr/bin/env bash
# Builds the libFuzzer target with clang and runs it for a bounded time.
#   tests/fuzz/run_fuzz.sh BUILD_DIR [SECONDS]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="$1"
seconds="${2:-60}"
cmake -S "$here" -B "$out" -G Ninja -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$out" -j2
mkdir -p "$out/corpus"
"$out/forewarn_fuzzer" -max_total_time="$seconds" -max_len=8192 -timeout=10 -rss_limit_mb=2048 \
  -print_final_stats=1 "$out/corpus"
