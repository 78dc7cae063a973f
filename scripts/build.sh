#!/usr/bin/env bash
# Configure and build Forewarn. BUILD_DIR (default: build) and BUILD_TYPE
# (default: RelWithDebInfo) may be overridden from the environment.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

BUILD_DIR="${BUILD_DIR:-build}"
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE="${BUILD_TYPE:-RelWithDebInfo}"
cmake --build "$BUILD_DIR" -j"$(nproc)"
