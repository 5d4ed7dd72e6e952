#!/usr/bin/env bash
# Restores the application from prod's Velero backups into the dr cluster (docs/disaster-recovery.md).
#
# The dr stack declares a read-only BackupStorageLocation named "prod" on prod's backup account, which
# lives in West Europe, so prod's backups appear in the dr cluster's `velero backup get` even while East
# US is down. This script picks a backup (the newest *Completed* one of the hourly Schedule from that
# location, refusing one older than the RPO, unless --backup names one), empties the data namespaces'
# volumes so Velero restores their Kopia file-system backups, restores with prod's application
# namespace mapped onto dr's, waits for the restore, and verifies the result.
#
# Requires velero, kubectl and jq, and a kubeconfig for the dr cluster
# (`pulumi stack output getCredentialsCommand --stack dr`).
set -euo pipefail

usage() {
  cat <<'USAGE'
Usage: scripts/dr-restore.sh [options]

  --backup NAME            restore this backup (default: newest Completed backup of --schedule in --location)
  --location NAME          BackupStorageLocation holding prod's backups (default: prod)
  --schedule NAME          Schedule whose backups are candidates (default: hourly, the application backup)
  --max-age-minutes N      refuse a backup completed longer ago than N minutes, the RPO (default: 60)
  --accept-older           restore the newest backup even when it is older than --max-age-minutes
  --replace-volumes NS     namespace whose RabbitmqClusters and PVCs are deleted first, so Velero restores
                           their volume data (repeatable; default: rabbitmq)
  --from-namespace NAME    application namespace in the backup (default: ai-workflow-prod)
  --to-namespace NAME      application namespace in this cluster (default: ai-workflow-dr)
  --velero-namespace NAME  namespace Velero runs in (default: velero)
  --restore-name NAME      name of the Restore (default: dr-<backup>-<UTC timestamp>)
  --timeout SECONDS        how long to wait for the restore (default: 3600)
  --dry-run                query the cluster, but only print the commands that would change it
  -h, --help               this text
USAGE
}

backup=""
location="prod"
schedule="hourly"
max_age_minutes=60
accept_older=false
replace_volumes=()
from_ns="ai-workflow-prod"
to_ns="ai-workflow-dr"
velero_ns="velero"
restore_name=""
timeout=3600
dry_run=false
poll_seconds="${DR_POLL_SECONDS:-15}"

while [[ $# -gt 0 ]]; do
  case "$1" in
    --backup) backup="${2:?--backup needs a value}"; shift 2 ;;
    --location) location="${2:?--location needs a value}"; shift 2 ;;
    --schedule) schedule="${2:?--schedule needs a value}"; shift 2 ;;
    --max-age-minutes) max_age_minutes="${2:?--max-age-minutes needs a value}"; shift 2 ;;
    --accept-older) accept_older=true; shift ;;
    --replace-volumes) replace_volumes+=("${2:?--replace-volumes needs a value}"); shift 2 ;;
    --from-namespace) from_ns="${2:?--from-namespace needs a value}"; shift 2 ;;
    --to-namespace) to_ns="${2:?--to-namespace needs a value}"; shift 2 ;;
    --velero-namespace) velero_ns="${2:?--velero-namespace needs a value}"; shift 2 ;;
    --restore-name) restore_name="${2:?--restore-name needs a value}"; shift 2 ;;
    --timeout) timeout="${2:?--timeout needs a value}"; shift 2 ;;
    --dry-run) dry_run=true; shift ;;
    -h | --help) usage; exit 0 ;;
    *) echo "dr-restore: unknown argument: $1" >&2; usage >&2; exit 64 ;;
  esac
done

script_name=dr-restore
# shellcheck source=scripts/lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

for tool in velero kubectl jq; do
  command -v "$tool" >/dev/null || die "$tool is not on PATH"
done
[[ "$timeout" =~ ^[0-9]+$ ]] || die "--timeout must be a number of seconds"
[[ "$max_age_minutes" =~ ^[0-9]+$ ]] || die "--max-age-minutes must be a number of minutes"
((${#replace_volumes[@]} > 0)) || replace_volumes=(rabbitmq)
# The clock the RPO is measured against (tests pin it).
now="${DR_NOW:-$(date -u +%s)}"

# 1. prod's backups are reachable.
phase="$(kubectl -n "$velero_ns" get backupstoragelocations.velero.io "$location" -o jsonpath='{.status.phase}')"
[[ "$phase" == "Available" ]] || die "BackupStorageLocation $location is '${phase:-unknown}', not Available"

# 2. The backup: named, or the newest Completed one of the schedule from the location (Velero labels a
# scheduled backup velero.io/schedule-name=<schedule>); the daily full backup covers every namespace and
# is older, so it is never the default. `velero backup get -o json` prints a single object instead of a
# list when there is exactly one backup.
backups="$(velero backup get --namespace "$velero_ns" -o json)"
items='(if .items then .items else [.] end)'
if [[ -z "$backup" ]]; then
  backup="$(jq -r --arg loc "$location" --arg schedule "$schedule" "$items"'
    | map(select(.spec.storageLocation == $loc and .status.phase == "Completed"
        and (.metadata.labels["velero.io/schedule-name"] // "") == $schedule))
    | sort_by(.status.completionTimestamp // .status.startTimestamp)
    | last | .metadata.name // empty' <<<"$backups")"
  [[ -n "$backup" ]] || die "no Completed backup of Schedule $schedule in BackupStorageLocation $location"
  completed_at="$(jq -r --arg name "$backup" "$items"' | map(select(.metadata.name == $name)) | first
    | .status.completionTimestamp | fromdateiso8601' <<<"$backups")"
  age_minutes=$(((now - completed_at) / 60))
  if ((age_minutes > max_age_minutes)); then
    [[ "$accept_older" == true ]] ||
      die "newest $schedule backup $backup completed ${age_minutes} min ago, beyond the RPO of ${max_age_minutes} min; pass --accept-older to restore it anyway (the data loss exceeds the RPO: say so in the incident)"
    log "accepting $backup, ${age_minutes} min old (beyond the RPO of ${max_age_minutes} min)"
  fi
else
  found="$(jq -r --arg name "$backup" "$items"' | map(select(.metadata.name == $name)) | first | .status.phase // empty' <<<"$backups")"
  [[ -n "$found" ]] || die "backup $backup not found"
  [[ "$found" == "Completed" ]] || die "backup $backup is $found, not Completed"
fi
completed="$(jq -r --arg name "$backup" "$items"' | map(select(.metadata.name == $name)) | first | .status.completionTimestamp // "unknown"' <<<"$backups")"
log "restoring backup $backup (completed $completed)"

# 3. Empty the data namespaces' volumes: Velero restores a volume's file-system backup only into a PVC it
# creates itself, and skips objects that exist (the dr stack's empty RabbitMQ cluster). Pulumi takes the
# restored RabbitmqCluster back on the next `pulumi up --stack dr`.
for ns in "${replace_volumes[@]}"; do
  run kubectl -n "$ns" delete rabbitmqclusters.rabbitmq.com --all --wait=true --ignore-not-found
  run kubectl -n "$ns" delete pvc --all --wait=true --ignore-not-found
done

# 4. Restore. Nothing is excluded beyond what Velero never restores itself (nodes, events, Velero's
# own objects): volumes, secrets and config come back. Objects the dr stack already declares are left
# as they are (Velero's default existing-resource policy), so Pulumi stays their owner.
restore_name="${restore_name:-dr-${backup}-$(date -u +%Y%m%d%H%M%S)}"
restore_name="${restore_name:0:63}"
run velero restore create "$restore_name" \
  --namespace "$velero_ns" \
  --from-backup "$backup" \
  --namespace-mappings "${from_ns}:${to_ns}" \
  --restore-volumes=true

if [[ "$dry_run" == true ]]; then
  run velero restore describe "$restore_name" --namespace "$velero_ns" --details
  run kubectl -n "$to_ns" wait deployment --all --for=condition=Available --timeout=15m
  run kubectl get pvc --all-namespaces
  exit 0
fi

# 5. Wait for a terminal phase.
deadline=$((SECONDS + timeout))
while :; do
  phase="$(velero restore get "$restore_name" --namespace "$velero_ns" -o json | jq -r '.status.phase // "New"')"
  case "$phase" in
    Completed | PartiallyFailed | Failed | FailedValidation) break ;;
  esac
  ((SECONDS < deadline)) || die "restore $restore_name still $phase after ${timeout}s"
  log "restore $restore_name is $phase"
  sleep "$poll_seconds"
done

# 6. Verify.
velero restore describe "$restore_name" --namespace "$velero_ns" --details
case "$phase" in
  Completed) ;;
  PartiallyFailed)
    log "restore $restore_name PartiallyFailed: read the errors above (velero restore logs $restore_name)"
    exit 2
    ;;
  *) die "restore $restore_name $phase (velero restore logs $restore_name)" ;;
esac
kubectl -n "$to_ns" wait deployment --all --for=condition=Available --timeout=15m
unbound="$(kubectl get pvc --all-namespaces -o json | jq -r '.items[] | select(.status.phase != "Bound") | "\(.metadata.namespace)/\(.metadata.name)"')"
[[ -z "$unbound" ]] || die "PersistentVolumeClaims not Bound: $unbound"
log "restore $restore_name Completed; deployments in $to_ns are Available and every PVC is Bound"
