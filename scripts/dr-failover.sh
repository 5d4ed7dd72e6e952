#!/usr/bin/env bash
# Fails the platform over from prod (East US) to dr (West Europe), one step at a time
# (docs/disaster-recovery.md). Nothing it calls lives in East US except the best-effort fence.
#
# Steps, in order (--step runs one, --from resumes; the cluster check always runs first):
#   check     the kubeconfig points at the dr cluster, and prod's backup location is Available there
#   fence     stop prod's writers if prod's cluster still answers (scale its application to 0, pause Velero)
#   promote   promote dr's PostgreSQL read replica to a standalone read-write server
#   restore   restore the newest hourly backup (within the RPO) from prod's backups (scripts/dr-restore.sh)
#   scale     cluster.drActive=true in Pulumi.dr.yaml (committed), then pulumi up: pools at prod's minimums
#   frontdoor send Front Door's traffic to the dr origin (scripts/dr-failover-frontdoor.sh)
#   verify    every dr Deployment Available, and the health endpoint answers through Front Door
# Each step prints its expected duration; --plan prints the plan and the total against the RTO.
#
# Requires az (logged in), kubectl (dr kubeconfig: pulumi stack output getCredentialsCommand --stack dr),
# velero, jq, pulumi and git, run from the repository's root with the program built.
set -euo pipefail

# name|minutes|what: the expected durations the RTO budget is made of (the 15 min before the script:
# declaring the incident and getting credentials).
STEPS=(
  "declare|15|declare the incident, hold prod releases, log in, dr kubeconfig (before this script)"
  "check|2|the kubeconfig points at the dr cluster; prod's backup location is Available"
  "fence|5|stop prod's writers if prod's cluster answers (application to 0 replicas, Velero paused)"
  "promote|15|promote dr's PostgreSQL replica to a standalone server"
  "restore|40|restore the newest hourly backup within the RPO into dr (volumes included)"
  "scale|20|cluster.drActive=true, committed; pulumi up --stack dr (pools at prod's minimums)"
  "frontdoor|10|Front Door: enable the dr origin, disable the primary"
  "verify|10|dr Deployments Available; https://<domain>/health/ready answers through Front Door"
)
RTO_MINUTES=120

usage() {
  cat <<'USAGE'
Usage: scripts/dr-failover.sh [options]

  --dr-resource-group RG     dr's platform resource group (pulumi stack output resourceGroup --stack dr)
  --dr-cluster NAME          dr's AKS cluster (default: aks-aiwp-dr)
  --dr-data-resource-group RG  resource group of dr's PostgreSQL replica (default: rg-aiwp-dr-data)
  --pg-server NAME           dr's PostgreSQL replica (default: psql-aiwp-dr)
  --prod-context NAME        kubectl context of prod's cluster, for the fence (default: skip the cluster fence)
  --frontdoor-resource-group RG  resource group of prod's Front Door profile, in West Europe (default: rg-aiwp-prod-edge)
  --frontdoor-profile NAME   Front Door profile (default: afd-aiwp-prod)
  --hostname HOST            public domain to verify through Front Door (default: none)
  --rpo-minutes N            the RPO: refuse a backup older than this (default: 60)
  --accept-older             restore the newest hourly backup even when older than the RPO
  --stack NAME               Pulumi stack of dr (default: dr)
  --step NAME                run only this step (after the cluster check)
  --from NAME                run from this step to the end (after the cluster check)
  --plan                     print the steps and their expected durations, and exit
  --dry-run                  query, but only print the commands that would change anything
  -h, --help                 this text
USAGE
}

dr_rg=""
dr_cluster="aks-aiwp-dr"
dr_data_rg="rg-aiwp-dr-data"
pg_server="psql-aiwp-dr"
prod_context=""
fd_rg="rg-aiwp-prod-edge"
fd_profile="afd-aiwp-prod"
hostname=""
rpo_minutes=60
accept_older=false
stack="dr"
only=""
from=""
plan=false
dry_run=false

while [[ $# -gt 0 ]]; do
  case "$1" in
    --dr-resource-group) dr_rg="${2:?--dr-resource-group needs a value}"; shift 2 ;;
    --dr-cluster) dr_cluster="${2:?--dr-cluster needs a value}"; shift 2 ;;
    --dr-data-resource-group) dr_data_rg="${2:?--dr-data-resource-group needs a value}"; shift 2 ;;
    --pg-server) pg_server="${2:?--pg-server needs a value}"; shift 2 ;;
    --prod-context) prod_context="${2:?--prod-context needs a value}"; shift 2 ;;
    --frontdoor-resource-group) fd_rg="${2:?--frontdoor-resource-group needs a value}"; shift 2 ;;
    --frontdoor-profile) fd_profile="${2:?--frontdoor-profile needs a value}"; shift 2 ;;
    --hostname) hostname="${2:?--hostname needs a value}"; shift 2 ;;
    --rpo-minutes) rpo_minutes="${2:?--rpo-minutes needs a value}"; shift 2 ;;
    --accept-older) accept_older=true; shift ;;
    --stack) stack="${2:?--stack needs a value}"; shift 2 ;;
    --step) only="${2:?--step needs a value}"; shift 2 ;;
    --from) from="${2:?--from needs a value}"; shift 2 ;;
    --plan) plan=true; shift ;;
    --dry-run) dry_run=true; shift ;;
    -h | --help) usage; exit 0 ;;
    *) echo "dr-failover: unknown argument: $1" >&2; usage >&2; exit 64 ;;
  esac
done

script_name=dr-failover
here="$(dirname "${BASH_SOURCE[0]}")"
# shellcheck source=scripts/lib/common.sh
source "$here/lib/common.sh"

names=()
for entry in "${STEPS[@]}"; do names+=("${entry%%|*}"); done
known() { [[ " ${names[*]} " == *" $1 "* && "$1" != declare ]]; }

if [[ "$plan" == true ]]; then
  total=0
  for entry in "${STEPS[@]}"; do
    IFS='|' read -r name minutes what <<<"$entry"
    printf '%-10s %3d min  %s\n' "$name" "$minutes" "$what"
    total=$((total + minutes))
  done
  printf 'total      %3d min  (RTO %d min)\n' "$total" "$RTO_MINUTES"
  ((total <= RTO_MINUTES)) || die "the steps take ${total} min, beyond the RTO of ${RTO_MINUTES} min"
  exit 0
fi

[[ -z "$only" ]] || known "$only" || die "unknown step $only (steps: ${names[*]:1})"
[[ -z "$from" ]] || known "$from" || die "unknown step $from (steps: ${names[*]:1})"
[[ -n "$dr_rg" ]] || { usage >&2; die "--dr-resource-group is required"; }
[[ "$rpo_minutes" =~ ^[0-9]+$ ]] || die "--rpo-minutes must be a number of minutes"
for tool in az kubectl velero jq; do
  command -v "$tool" >/dev/null || die "$tool is not on PATH"
done

# Whether a step runs: all of them, only --step, or --from onwards.
started=false
wanted() {
  if [[ -n "$only" ]]; then [[ "$1" == "$only" ]]; return; fi
  if [[ -n "$from" && "$started" == false ]]; then
    [[ "$1" == "$from" ]] || return 1
    started=true
  fi
  return 0
}

begin() {
  local entry name minutes what
  for entry in "${STEPS[@]}"; do
    IFS='|' read -r name minutes what <<<"$entry"
    if [[ "$name" == "$1" ]]; then
      echo "== ${name} (expected ${minutes} min): ${what}"
      return
    fi
  done
}

# check: refuse to act on anything but the dr cluster. The kubeconfig's server must be the dr cluster's
# API server (az aks show ... fqdn, or privateFqdn for a private cluster).
check() {
  begin check
  local server host expected
  server="$(kubectl config view --minify -o jsonpath='{.clusters[0].cluster.server}')"
  host="${server#https://}"
  host="${host%%:*}"
  expected="$(az aks show --resource-group "$dr_rg" --name "$dr_cluster" --query '[fqdn, privateFqdn]' -o tsv | tr '\t' '\n')"
  if [[ -z "$host" ]] || ! grep -qxF "$host" <<<"$expected"; then
    die "the kubeconfig points at ${host:-nothing}, not the dr cluster $dr_cluster (${expected//$'\n'/ }): run pulumi stack output getCredentialsCommand --stack dr"
  fi
  local phase
  phase="$(kubectl -n velero get backupstoragelocations.velero.io prod -o jsonpath='{.status.phase}')"
  [[ "$phase" == Available ]] ||
    die "BackupStorageLocation prod is '${phase:-unknown}', not Available: check dr's private endpoint to prod's backup account (kubectl -n velero describe backupstoragelocations.velero.io prod)"
  log "kubeconfig points at $dr_cluster ($host); prod's backups are readable"
}

# fence: prod must not write while dr takes over. When prod's cluster answers, scale its application to
# zero and pause its Schedules; when it does not, the promotion below already cut the replica loose and
# Front Door stops sending it traffic. Hold prod releases until fail-back (docs/disaster-recovery.md).
fence() {
  begin fence
  if [[ -z "$prod_context" ]]; then
    log "no --prod-context: prod's cluster is not fenced here; scale ai-workflow-prod to 0 when it returns"
    return
  fi
  if kubectl --context "$prod_context" --request-timeout=20s get namespace ai-workflow-prod >/dev/null 2>&1; then
    run kubectl --context "$prod_context" --request-timeout=60s -n ai-workflow-prod scale deployment --all --replicas=0
    run velero --kubecontext "$prod_context" schedule pause --all
  else
    log "prod's cluster does not answer ($prod_context): nothing to fence there; fence it when it returns"
  fi
}

# promote: standalone promotion with the forced option does not wait for the primary (which may be gone).
# The server keeps its name, so POSTGRES_HOST in dr's data-endpoints ConfigMap already points at it.
promote() {
  begin promote
  local role
  role="$(az postgres flexible-server show --resource-group "$dr_data_rg" --name "$pg_server" --query replicationRole -o tsv)"
  case "$role" in
    AsyncReplica | GeoAsyncReplica)
      run az postgres flexible-server replica promote --resource-group "$dr_data_rg" --name "$pg_server" \
        --promote-mode standalone --promote-option forced --yes
      ;;
    None | Primary | "") log "$pg_server is already read-write (replication role '${role:-none}')" ;;
    *) die "$pg_server has replication role '$role'; promote it by hand (docs/disaster-recovery.md)" ;;
  esac
}

restore() {
  begin restore
  local args=(--location prod --schedule hourly --max-age-minutes "$rpo_minutes")
  [[ "$accept_older" == true ]] && args+=(--accept-older)
  [[ "$dry_run" == true ]] && args+=(--dry-run)
  "$here/dr-restore.sh" "${args[@]}"
}

# scale: the committed setting is what keeps dr at prod's capacity through the next release.
scale() {
  begin scale
  command -v pulumi >/dev/null || die "pulumi is not on PATH"
  # The commit must hold this one change, nothing else left in the file.
  git diff --quiet -- "Pulumi.${stack}.yaml" ||
    die "Pulumi.${stack}.yaml has uncommitted changes: commit or drop them first, so the dr-active commit is only that"
  run pulumi config set --stack "$stack" --path cluster.drActive true
  run git commit -m "dr: serve production (cluster.drActive)" -- "Pulumi.${stack}.yaml"
  log "push that commit (git push) so the next release keeps dr active"
  run pulumi up --stack "$stack" --yes --skip-preview --policy-pack policies \
    --policy-pack-config "policies/config/${stack}.json"
}

frontdoor() {
  begin frontdoor
  [[ -n "$fd_rg" ]] || die "--frontdoor-resource-group is required for the frontdoor step"
  local args=(--resource-group "$fd_rg" --profile "$fd_profile")
  [[ "$dry_run" == true ]] && args+=(--dry-run)
  "$here/dr-failover-frontdoor.sh" "${args[@]}"
}

verify() {
  begin verify
  run kubectl -n ai-workflow-dr wait deployment --all --for=condition=Available --timeout=10m
  if [[ -n "$hostname" ]]; then
    probe "$hostname" /health/ready
  else
    log "no --hostname: check https://<public domain>/health/ready by hand"
  fi
}

check
for name in fence promote restore scale frontdoor verify; do
  if wanted "$name"; then "$name"; fi
done
log "done"
