#!/usr/bin/env bash
# Prepare and package the Helm chart helm/forewarn.
#
# The notifier's notice templates live in the repository's templates/ folder; the chart builds
# its templates ConfigMap from helm/forewarn/files/templates/** (.Files.Glob). This script copies
# every templates/KIND/*.mustache there (replacing what was there), then, when a `helm` binary is
# available ($FOREWARN_HELM, else helm on PATH), lints and packages the chart into OUT_DIR
# (default: dist/). Without helm it stops after the copy: the chart directory is then complete
# and can be installed or packaged elsewhere (helm install forewarn helm/forewarn -f my-values.yaml).
#
#   scripts/helm-package.sh [--out DIR] [--copy-only] [--chart-dir DIR]
#
# --chart-dir DIR  work on a copy of the chart made at DIR (replacing DIR; relative paths are
#                  from the repository root), leaving helm/forewarn untouched (tests/helm).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

out_dir=dist
copy_only=false
chart=helm/forewarn
while (($#)); do
  case "$1" in
    --out) out_dir="$2"; shift 2 ;;
    --copy-only) copy_only=true; shift ;;
    --chart-dir) chart="$2"; shift 2 ;;
    -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
    *) echo "helm-package: unknown argument $1" >&2; exit 2 ;;
  esac
done

if [[ "$chart" != helm/forewarn ]]; then
  [[ -n "$chart" && "$chart" != / ]] || { echo "helm-package: bad --chart-dir '$chart'" >&2; exit 2; }
  rm -rf "$chart"
  mkdir -p "$chart"
  cp -R helm/forewarn/. "$chart/"
  rm -rf "$chart/files/templates" # a stale copy in the checkout is not the source
fi

src=templates
dest="$chart/files/templates"
rm -rf "$dest"
mkdir -p "$dest"
count=0
while IFS= read -r -d '' file; do
  rel="${file#"$src"/}"
  mkdir -p "$dest/$(dirname "$rel")"
  cp "$file" "$dest/$rel"
  count=$((count + 1))
done < <(find "$src" -mindepth 2 -type f -name '*.mustache' -print0 | sort -z)
if ((count == 0)); then
  echo "helm-package: no *.mustache files under $src/" >&2
  exit 1
fi
echo "helm-package: copied $count notice templates into $dest" >&2

if $copy_only; then
  exit 0
fi
helm="${FOREWARN_HELM:-$(command -v helm || true)}"
if [[ -z "$helm" ]]; then
  echo "helm-package: no helm binary (FOREWARN_HELM or PATH); the chart in $chart is ready to package" >&2
  exit 0
fi
# The chart refuses to render without a database and Kafka credentials: lint with placeholders.
"$helm" lint --strict "$chart" --set postgresql.uri=postgresql://lint@localhost/forewarn \
  --set kafka.sasl.username=lint --set kafka.sasl.password=lint
mkdir -p "$out_dir"
"$helm" package "$chart" --destination "$out_dir"
