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
