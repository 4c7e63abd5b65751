# shellcheck shell=bash
# Docker daemons: Debian's dockerd (docker.io 20.10) with vfs storage, no networking of its own,
# its own data-root/exec-root/pidfile, listening on a Unix socket in the work dir.
#
# dockerd_launch NAME [EXTRA_DOCKERD_ARGS...] starts one instance and prints its socket path.
# A TLS tcp variant (the way minikube's daemon is reached) is a start_* function that passes
# `-H tcp://127.0.0.1:PORT --tlsverify --tlscacert ... --tlscert ... --tlskey ...`.

SIT_DOCKER_CLI_PATH="${SIT_DOCKER_CLI_PATH:-/usr/bin/docker}"

dockerd_launch() {
  local name="$1"
  shift
  local dir
  dir="$(svc_dir "$name")"
  mkdir -p "$dir/data" "$dir/exec"
  echo '{}' >"$dir/daemon.json"
  svc_spawn "$name" "$dir/dockerd.log" dockerd \
    --config-file "$dir/daemon.json" \
    --data-root "$dir/data" \
    --exec-root "$dir/exec" \
    --pidfile "$dir/dockerd.pid" \
    -H "unix://$dir/docker.sock" \
    --iptables=false --ip6tables=false --ip-masq=false --ip-forward=false \
    --bridge=none --userland-proxy=false \
    --storage-driver=vfs \
    "$@" || return 1
  svc_wait "$name" 60 timeout 10 "$SIT_DOCKER_CLI_PATH" -H "unix://$dir/docker.sock" version || return 1
  echo "$dir/docker.sock"
}

start_dockerd() {
  local sock
  sock="$(dockerd_launch dockerd)" || return 1
  svc_export SIT_DOCKER_HOST "unix://$sock"
  svc_export SIT_DOCKER_CLI "$SIT_DOCKER_CLI_PATH"
}

# Containers left running would keep shims and mounts alive: remove them before SIGTERM.
prestop_dockerd() {
  local sock="$SIT_WORK/dockerd/docker.sock" ids
  [ -S "$sock" ] || return 0
  ids="$(timeout 10 "$SIT_DOCKER_CLI_PATH" -H "unix://$sock" ps -aq 2>/dev/null)" || return 0
  # shellcheck disable=SC2086
  [ -z "$ids" ] || timeout 30 "$SIT_DOCKER_CLI_PATH" -H "unix://$sock" rm -f $ids >/dev/null 2>&1 || true
}
