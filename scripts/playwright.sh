#!/usr/bin/env bash
# Install a pinned playwright-core (npm; the browser tests drive Debian's chromium with it, so no
# browser is downloaded) into a cache directory that survives between runs, and print the path
# of its node_modules on stdout. A no-op (apart from the print) when that version is there.
# scripts/test.sh calls it and exports the path as FOREWARN_PLAYWRIGHT_MODULES for
# tests/browser.
#
#   scripts/playwright.sh      prints e.g. /root/.cache/forewarn/playwright-core-1.65.1/node_modules
#
# Environment:
#   FOREWARN_PLAYWRIGHT_VERSION  default 1.65.1
#   XDG_CACHE_HOME               cache root (default ~/.cache)
set -euo pipefail

log() { printf '[%s] playwright.sh: %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

main() {
  local version root modules
  version="${FOREWARN_PLAYWRIGHT_VERSION:-1.65.1}"
  root="${XDG_CACHE_HOME:-$HOME/.cache}/forewarn/playwright-core-$version"
  modules="$root/node_modules"
  installed() { [[ "$(node -p "require('$modules/playwright-core/package.json').version" 2>/dev/null)" == "$version" ]]; }
  if installed; then
    echo "$modules"
    return 0
  fi
  command -v npm >/dev/null || { log "error: npm not found (scripts/deps.sh installs nodejs and npm)"; exit 1; }
  mkdir -p "$root"
  # One installer at a time (several checkouts may share the cache).
  exec 9>"$root/.lock"
  flock 9
  if ! installed; then
    log "installing playwright-core@$version into $root"
    # --ignore-scripts: playwright-core has no browser download of its own; nothing else runs.
    npm install --prefix "$root" --no-audit --no-fund --ignore-scripts --save-exact "playwright-core@$version" >&2
  fi
  installed || { log "error: playwright-core $version did not install"; exit 1; }
  echo "$modules"
}

main "$@"
