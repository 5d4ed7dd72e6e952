#!/usr/bin/env bash
# Forces Azure Front Door to send prod's traffic to the dr origin, or back (docs/disaster-recovery.md).
#
# prod's origin group lists prod's ingress as the priority-1 origin and dr's ingress as the priority-2
# origin; Front Door fails over by itself when the priority-1 origin's health probes fail. This script
# forces it when the primary is up but must not serve (data restored elsewhere, partial outage): it
# makes sure the priority-2 origin is enabled, then disables the priority-1 origin. --failback re-enables
# the priority-1 origin. The next `pulumi up` of prod re-enables it too, so hold prod releases while
# failed over (docs/disaster-recovery.md).
#
# Requires az (logged in) and jq.
set -euo pipefail

usage() {
  cat <<'USAGE'
Usage: scripts/dr-failover-frontdoor.sh --resource-group RG --profile NAME [options]

  --resource-group RG   resource group of prod's Front Door profile (pulumi stack output resourceGroup --stack prod)
  --profile NAME        Front Door profile name: afd-<prefix>-<env>, e.g. afd-aiwp-prod
  --origin-group NAME   origin group (default: the profile's only origin group, "ingress")
  --hostname HOST       public hostname to probe after the switch (default: none)
  --probe-path PATH     health path to probe on HOST (default: /health/ready)
  --failback            re-enable the priority-1 origin instead
  --dry-run             query Azure, but only print the commands that would change it
  -h, --help            this text
USAGE
}

rg=""
profile=""
group=""
hostname=""
probe_path="/health/ready"
failback=false
dry_run=false

while [[ $# -gt 0 ]]; do
  case "$1" in
    --resource-group) rg="${2:?--resource-group needs a value}"; shift 2 ;;
    --profile) profile="${2:?--profile needs a value}"; shift 2 ;;
    --origin-group) group="${2:?--origin-group needs a value}"; shift 2 ;;
    --hostname) hostname="${2:?--hostname needs a value}"; shift 2 ;;
    --probe-path) probe_path="${2:?--probe-path needs a value}"; shift 2 ;;
    --failback) failback=true; shift ;;
    --dry-run) dry_run=true; shift ;;
    -h | --help) usage; exit 0 ;;
    *) echo "dr-failover-frontdoor: unknown argument: $1" >&2; usage >&2; exit 64 ;;
  esac
done

script_name=dr-failover-frontdoor
# shellcheck source=scripts/lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

[[ -n "$rg" && -n "$profile" ]] || { usage >&2; exit 64; }
for tool in az jq; do
  command -v "$tool" >/dev/null || die "$tool is not on PATH"
done

if [[ -z "$group" ]]; then
  groups="$(az afd origin-group list --resource-group "$rg" --profile-name "$profile" -o json)"
  [[ "$(jq 'length' <<<"$groups")" == 1 ]] || die "profile $profile has $(jq 'length' <<<"$groups") origin groups; pass --origin-group"
  group="$(jq -r '.[0].name' <<<"$groups")"
fi

origins="$(az afd origin list --resource-group "$rg" --profile-name "$profile" --origin-group-name "$group" -o json)"
origin_at() { jq -r --argjson p "$1" '[.[] | select(.priority == $p)] | if length == 1 then .[0].name else empty end' <<<"$origins"; }
primary="$(origin_at 1)"
secondary="$(origin_at 2)"
[[ -n "$primary" ]] || die "origin group $group has no single priority-1 origin"
[[ -n "$secondary" ]] || die "origin group $group has no single priority-2 (dr) origin"
log "origin group $group: primary $primary, dr $secondary"

origin_update() {
  run az afd origin update --resource-group "$rg" --profile-name "$profile" --origin-group-name "$group" \
    --origin-name "$1" --enabled-state "$2" --output none
}

if [[ "$failback" == true ]]; then
  origin_update "$primary" Enabled
else
  # The dr origin first: never leave the group with no enabled origin.
  origin_update "$secondary" Enabled
  origin_update "$primary" Disabled
fi

run az afd origin list --resource-group "$rg" --profile-name "$profile" --origin-group-name "$group" \
  --query "[].{name:name, priority:priority, enabledState:enabledState, hostName:hostName}" --output table
if [[ -n "$hostname" ]]; then
  probe "$hostname" "$probe_path"
fi
