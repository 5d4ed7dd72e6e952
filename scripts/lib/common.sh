# Shared helpers of the disaster-recovery scripts. The sourcing script sets `script_name` and `dry_run`.
# shellcheck shell=bash disable=SC2154

log() { echo "${script_name}: $*" >&2; }
die() { log "$*"; exit 1; }

# Runs a command that changes something, or prints it (shell-quoted) under --dry-run.
run() {
  if [[ "$dry_run" == true ]]; then
    printf '+'
    printf ' %q' "$@"
    printf '\n'
  else
    "$@"
  fi
}

# Probes https://HOST/PATH until it answers 2xx: Front Door applies origin changes within minutes, so this
# retries for up to 10 minutes.
probe() {
  run curl --fail --silent --show-error --output /dev/null --retry 20 --retry-delay 30 --retry-all-errors \
    "https://${1}${2}"
}
