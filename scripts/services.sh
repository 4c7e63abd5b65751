#!/usr/bin/env bash
# Starts and stops the real peers that the integration tests talk to, on loopback only.
#
#   scripts/services.sh start [--env-file FILE] [SERVICE...]   (default: all, see `list`)
#   scripts/services.sh stop  [--env-file FILE]
#   scripts/services.sh env   [--env-file FILE]                  prints the export lines
#   scripts/services.sh list                                     prints the known services
#
# `start` makes a fresh work dir, starts each service, waits until it answers (bounded), and writes
# FILE (default: $SIT_SERVICES_ENV or <repo>/.work/services.env) with lines such as
#   export SIT_WORK=/tmp/sit.XXXXXX
#   export SIT_REGISTRY=127.0.0.1:PORT
#   export SIT_DOCKER_HOST=unix:///tmp/sit.XXXXXX/dockerd/docker.sock
#   export SIT_DOCKER_CLI=/usr/bin/docker
# On failure it prints the failing service's log tail, stops what it had started, and exits 1.
# `stop` stops exactly the PIDs that `start` recorded (reverse order), unmounts whatever is
# mounted below the work dir, and removes it. Stopping twice, or with nothing started, is fine.
#
# Services live in scripts/lib/services/*.sh as `start_NAME` functions (see common.sh).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/.." && pwd)"
for lib in "$here"/lib/services/*.sh; do
  # shellcheck source=/dev/null
  . "$lib"
done

default_services=(registry registry-basic registry-tls registry-token fault-proxy dockerd dockerd-tls containerd kind-nodes)

cmd="${1:-}"
[ $# -eq 0 ] || shift
env_file="${SIT_SERVICES_ENV:-$repo/.work/services.env}"
services=()
while [ $# -gt 0 ]; do
  case "$1" in
    --env-file) env_file="$2"; shift ;;
    --env-file=*) env_file="${1#*=}" ;;
    -*) echo "services.sh: unknown option $1" >&2; exit 2 ;;
    *) services+=("$1") ;;
  esac
  shift
done
[ ${#services[@]} -gt 0 ] || services=("${default_services[@]}")

known_services() { declare -F | awk '{ print $3 }' | sed -n 's/^start_//p' | tr _ -; }

work_of_env_file() {
  [ -f "$1" ] || return 1
  sed -n "s/^export SIT_WORK=//p" "$1" | head -n1 | xargs printf '%s'
}

do_stop() {
  local work
  work="$(work_of_env_file "$env_file")" || { svc_log "nothing to stop ($env_file absent)"; return 0; }
  if [ -z "$work" ] || [ ! -f "$work/.sit-services" ]; then
    svc_log "$env_file names '$work', which is not a services work dir; removing only $env_file"
    rm -f "$env_file"
    return 0
  fi
  SIT_WORK="$work"
  local name pid starttime
  if [ -f "$work/started" ]; then
    for name in $(tac "$work/started"); do
      if declare -F "prestop_${name//-/_}" >/dev/null; then "prestop_${name//-/_}" || true; fi
      read -r pid starttime _ <"$work/pids/$name"
      if svc_alive "$pid" "$starttime"; then
        svc_log "$name: stopping pid $pid"
        svc_kill "$pid" "$starttime" 30 "$name"
      fi
    done
  fi
  svc_kill_strays "$work"
  svc_umount_below "$work"
  rm -rf "$work" 2>/dev/null || { sleep 1; svc_umount_below "$work"; rm -rf "$work"; }
  rm -f "$env_file"
  svc_log "stopped; removed $work"
}

do_start() {
  local work_old
  if work_old="$(work_of_env_file "$env_file")" && [ -d "$work_old" ]; then
    svc_log "services from an earlier start are still recorded in $env_file; stopping them first"
    do_stop
  fi
  local name
  for name in "${services[@]}"; do
    declare -F "start_${name//-/_}" >/dev/null \
      || { echo "services.sh: unknown service '$name' (known: $(known_services | xargs))" >&2; exit 2; }
  done
  mkdir -p "$(dirname "$env_file")"
  SIT_WORK="$(mktemp -d "${SIT_SERVICES_TMPDIR:-/tmp}/sit.XXXXXX")"
  touch "$SIT_WORK/.sit-services"
  SIT_ENV_FILE="$SIT_WORK/env"
  : >"$SIT_ENV_FILE"
  svc_export SIT_WORK "$SIT_WORK"
  cp "$SIT_ENV_FILE" "$env_file"
  local t0=$SECONDS
  for name in "${services[@]}"; do
    local t1=$SECONDS
    if ! "start_${name//-/_}"; then
      svc_log "$name: could not be started; stopping the others"
      cp "$SIT_ENV_FILE" "$env_file"
      do_stop
      exit 1
    fi
    svc_log "$name: up in $((SECONDS - t1))s"
    cp "$SIT_ENV_FILE" "$env_file"
  done
  svc_log "all up in $((SECONDS - t0))s; env in $env_file"
}

case "$cmd" in
  start) do_start ;;
  stop) do_stop ;;
  env) cat "$env_file" ;;
  list) known_services ;;
  *) sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
esac
