#!/usr/bin/env bash
# Configure and build Forewarn. BUILD_DIR (default: build) and BUILD_TYPE
# (default: RelWithDebInfo) may be overridden from the environment.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

BUILD_DIR="${BUILD_DIR:-build}"
launcher=()
# ccache (when installed) lets several checkouts and rebuilds share compiled objects: paths
# under the checkout are hashed relative to it, so two worktrees share their objects.
if command -v ccache >/dev/null; then
  launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
  export CCACHE_BASEDIR="${CCACHE_BASEDIR:-$PWD}" CCACHE_NOHASHDIR="${CCACHE_NOHASHDIR:-1}"
fi
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE="${BUILD_TYPE:-RelWithDebInfo}" "${launcher[@]}"
cmake --build "$BUILD_DIR" -j"$(nproc)"
