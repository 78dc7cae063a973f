#!/usr/bin/env bash
# Install a pinned helm v3 (built from source with `go install`) into a cache directory that
# survives between runs, and print the path of the binary on stdout. A no-op (apart from the
# print) when that binary is already there. scripts/test.sh calls it and exports the path as
# FOREWARN_HELM for the tests under tests/helm.
#
#   scripts/helm.sh            prints e.g. /root/.cache/forewarn/helm-v3.19.0/bin/helm
#
# Environment:
#   FOREWARN_HELM_VERSION   helm version to install (default v3.19.0; v3.18.6 also known good)
#   FOREWARN_GO             Go toolchain (default: go on PATH, else /usr/local/go/bin/go)
#   XDG_CACHE_HOME          cache root (default ~/.cache); the install goes to
#                           $XDG_CACHE_HOME/forewarn/helm-VERSION/bin/helm (GOPATH and GOCACHE
#                           live next to it during the build and are removed afterwards)
#
# The first install downloads helm's modules through the Go module proxy and compiles them:
# several minutes on two cores. Later runs only check that the binary exists and runs.
set -euo pipefail

# Everything is in main, which bash parses whole before running it: editing or updating this
# file during a minutes-long install cannot change what the running install executes.
log() { printf '[%s] helm.sh: %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

tmp_bin=""
trap '[[ -z "$tmp_bin" ]] || rm -rf "$tmp_bin"' EXIT

main() {
  local version cache_root bin go_bin start goenv module gomod client_go k8s_minor ldflags pkg
  version="${FOREWARN_HELM_VERSION:-v3.19.0}"
  cache_root="${XDG_CACHE_HOME:-$HOME/.cache}/forewarn/helm-$version"
  bin="$cache_root/bin/helm"

  # Installed and working (it reports the pinned version): nothing to do.
  if [[ -x "$bin" ]] && "$bin" version --short 2>/dev/null | grep -q "^$version"; then
    echo "$bin"
    exit 0
  fi

  go_bin="${FOREWARN_GO:-}"
  if [[ -z "$go_bin" ]]; then
    go_bin="$(command -v go || true)"
    [[ -n "$go_bin" ]] || go_bin=/usr/local/go/bin/go
  fi
  if [[ ! -x "$go_bin" ]]; then
    log "error: no Go toolchain (looked for go on PATH and /usr/local/go/bin/go; set FOREWARN_GO)"
    exit 1
  fi

  mkdir -p "$cache_root"
  # One installer at a time per version (ctest runs in parallel elsewhere; several checkouts may
  # share the cache): the lock holder installs, the others wait and then find the binary.
  exec 9>"$cache_root/.lock"
  flock 9
  if [[ -x "$bin" ]] && "$bin" version --short 2>/dev/null | grep -q "^$version"; then
    echo "$bin"
    exit 0
  fi

  log "installing helm $version with $("$go_bin" version) into $cache_root (first run: minutes)"
  start=$SECONDS
  goenv=(env GOPATH="$cache_root/gopath" GOMODCACHE="$cache_root/gopath/pkg/mod"
    GOCACHE="$cache_root/gocache" GOFLAGS="-modcacherw" CGO_ENABLED=0 GOTOOLCHAIN=local)
  module="helm.sh/helm/v3"
  # A plain `go install` leaves out what helm's Makefile sets with -ldflags -X: the version
  # (`helm version` would say "v3.19") and the default Kubernetes version that `helm template`
  # and `helm lint` assume (1.20 instead of the one helm was built against, which breaks charts
  # with kubeVersion >= 1.24). Set both the way the Makefile does, from helm's own go.mod.
  gomod="$("${goenv[@]}" "$go_bin" mod download -json "$module@$version" |
    sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",$/\1/p')"
  client_go="$(awk '$1 == "k8s.io/client-go" { print $2; exit }' "$gomod")"  # e.g. v0.34.0
  if [[ ! "$client_go" =~ ^v0\.([0-9]+)\. ]]; then
    log "error: cannot find the k8s.io/client-go version in $gomod (got '$client_go')"
    exit 1
  fi
  k8s_minor="${BASH_REMATCH[1]}"
  ldflags="-s -w -X $module/internal/version.version=$version"
  for pkg in pkg/chartutil pkg/lint/rules; do
    ldflags+=" -X $module/$pkg.k8sVersionMajor=1 -X $module/$pkg.k8sVersionMinor=$k8s_minor"
  done
  # Install into a temporary GOBIN, then rename: a half-written binary is never left at $bin.
  tmp_bin="$(mktemp -d "$cache_root/bin.tmp.XXXXXX")"
  # CGO off: a static binary, independent of the host's C toolchain. -modcacherw: the module
  # cache stays deletable with rm -rf.
  "${goenv[@]}" GOBIN="$tmp_bin" "$go_bin" install -trimpath -ldflags "$ldflags" "$module/cmd/helm@$version" >&2
  mkdir -p "$cache_root/bin"
  mv -f "$tmp_bin/helm" "$bin"
  # Only the binary is kept: the module and build caches (about 1 GB) serve no later run.
  rm -rf "$cache_root/gocache" "$cache_root/gopath"

  if ! "$bin" version --short | grep -q "^$version"; then
    log "error: $bin does not report version $version: $("$bin" version --short 2>&1)"
    exit 1
  fi
  log "installed $("$bin" version --short) in $((SECONDS - start)) s"
  echo "$bin"
}

main "$@"
