# shellcheck shell=bash
# Throwaway containerd instances for the benchmark's pulls: the test services' containerd
# (scripts/lib/services/containerd.sh: overlayfs snapshotter, no CRI, own root and socket), started
# and stopped through services.sh with one env file per instance, so only its recorded PIDs are
# ever signalled.
#
#   bench_containerd_start NAME   -> prints the socket path of a fresh containerd
#   bench_containerd_stop NAME    -> stops it and removes its directory
#   bench_containerd_stop_all     -> every instance still recorded (for the EXIT trap)

bench_containerd_env() { echo "$BENCH_WORK/containerd/$1.env"; }

bench_containerd_start() {
  local env
  env="$(bench_containerd_env "$1")"
  mkdir -p "$BENCH_WORK/containerd"
  SIT_SERVICES_ENV="$env" "$repo/scripts/services.sh" start --env-file "$env" containerd >>"$BENCH_WORK/containerd/$1.log" 2>&1 \
    || { tail -n 20 "$BENCH_WORK/containerd/$1.log" >&2; return 1; }
  # shellcheck source=/dev/null
  (. "$env" && echo "$SIT_CONTAINERD_NODE1_ADDRESS")
}

bench_containerd_stop() {
  local env
  env="$(bench_containerd_env "$1")"
  [ -f "$env" ] || return 0
  SIT_SERVICES_ENV="$env" "$repo/scripts/services.sh" stop >>"$BENCH_WORK/containerd/$1.log" 2>&1 || true
  rm -f "$env"
}

bench_containerd_stop_all() {
  local env
  for env in "$BENCH_WORK"/containerd/*.env; do
    [ -f "$env" ] || continue
    bench_containerd_stop "$(basename "$env" .env)"
  done
}
