#!/usr/bin/env bash
# THE test command (README and CI): installs what is missing, starts the real test peers on
# loopback, builds, and runs `swift test` with their addresses in SIT_* variables.
#
#   scripts/test.sh [swift test arguments…]      e.g. scripts/test.sh --filter HarnessSmokeTests
#
# Exits with swift test's status. Services are always stopped (trap on EXIT). A service that does
# not start makes this script fail, locally and in CI alike.
# Environment: SIT_SERVICES="registry registry-basic registry-tls registry-token fault-proxy dockerd
# dockerd-tls containerd kind-nodes" (the services to start, in order; see scripts/services.sh list).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
repo="$(pwd)"

scripts/bootstrap.sh

# One env file per run, so an earlier crashed run in this worktree cannot be confused with ours.
# Services of runs that died without cleaning up (their test.sh PID is gone) are stopped first.
for stale in "$repo"/.work/services.*.env; do
  [ -f "$stale" ] || continue
  pid="${stale##*/services.}"
  pid="${pid%.env}"
  if ! kill -0 "$pid" 2>/dev/null; then
    echo "test.sh: stopping services left behind by an earlier run ($stale)" >&2
    SIT_SERVICES_ENV="$stale" scripts/services.sh stop || true
  fi
done
export SIT_SERVICES_ENV="$repo/.work/services.$$.env"
cleanup() {
  local status=$?
  scripts/services.sh stop || status=1
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

t0=$SECONDS
# shellcheck disable=SC2086
scripts/services.sh start ${SIT_SERVICES:-registry registry-basic registry-tls registry-token fault-proxy dockerd dockerd-tls containerd kind-nodes}
echo "test.sh: services started in $((SECONDS - t0))s" >&2
# shellcheck source=/dev/null
. "$SIT_SERVICES_ENV"

# Each target's imports must be exactly its declared dependencies (SwiftPM would leak the rest).
swift package dump-package | python3 scripts/lib/check_imports.py

t0=$SECONDS
swift build
SIT_BIN_PATH="$(swift build --show-bin-path)"
export SIT_BIN_PATH
echo "test.sh: built in $((SECONDS - t0))s" >&2

set +e
swift test "$@"
status=$?
set -e
echo "test.sh: swift test exited $status" >&2
exit "$status"
