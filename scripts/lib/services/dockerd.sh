# shellcheck shell=bash
# Docker daemons: Debian's dockerd (docker.io 20.10) with vfs storage, no networking of its own,
# its own data-root/exec-root/pidfile, listening on a Unix socket in the work dir.
#
# dockerd_launch NAME [EXTRA_DOCKERD_ARGS...] starts one instance and prints its socket path.
#
#   dockerd      SIT_DOCKER_HOST=unix://…/docker.sock, SIT_DOCKER_CLI
#   dockerd-tls  SIT_DOCKER_TLS_HOST=tcp://127.0.0.1:PORT with --tlsverify (the way minikube's
#                daemon is reached), SIT_DOCKER_CERT_PATH=DIR with the client's ca.pem, cert.pem,
#                key.pem (docker's names, for DOCKER_CERT_PATH); also its own Unix socket,
#                SIT_DOCKER_TLS_SOCKET, for the harness.

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
prestop_dockerd() { dockerd_remove_containers "$SIT_WORK/dockerd/docker.sock"; }
prestop_dockerd_tls() { dockerd_remove_containers "$SIT_WORK/dockerd-tls/docker.sock"; }

dockerd_remove_containers() {
  local sock="$1" ids
  [ -S "$sock" ] || return 0
  ids="$(timeout 10 "$SIT_DOCKER_CLI_PATH" -H "unix://$sock" ps -aq 2>/dev/null)" || return 0
  # shellcheck disable=SC2086
  [ -z "$ids" ] || timeout 30 "$SIT_DOCKER_CLI_PATH" -H "unix://$sock" rm -f $ids >/dev/null 2>&1 || true
}

start_dockerd_tls() {
  local dir certs client port sock
  dir="$(svc_dir dockerd-tls)"
  certs="$dir/certs"
  client="$dir/client"
  mkdir -p "$certs" "$client"
  { certs_ca "$certs" ca \
      && certs_issue "$certs" ca server 127.0.0.1 server "IP:127.0.0.1,DNS:localhost" \
      && certs_issue "$certs" ca client sit-client client; } \
    || { svc_fail dockerd-tls "openssl: $(certs_error "$certs")"; return 1; }
  cp "$certs/ca.crt" "$client/ca.pem"
  cp "$certs/client.crt" "$client/cert.pem"
  cp "$certs/client.key" "$client/key.pem"
  chmod 600 "$client/key.pem" "$certs"/*.key
  port="$(svc_free_port)"
  sock="$(dockerd_launch dockerd-tls -H "tcp://127.0.0.1:$port" --tlsverify \
    --tlscacert "$certs/ca.crt" --tlscert "$certs/server.crt" --tlskey "$certs/server.key")" || return 1
  # What the tests will do: verify the daemon and present the client certificate.
  svc_wait dockerd-tls 20 timeout 10 "$SIT_DOCKER_CLI_PATH" --tlsverify --tlscacert "$client/ca.pem" \
    --tlscert "$client/cert.pem" --tlskey "$client/key.pem" -H "tcp://127.0.0.1:$port" version || return 1
  svc_export SIT_DOCKER_TLS_HOST "tcp://127.0.0.1:$port"
  svc_export SIT_DOCKER_CERT_PATH "$client"
  svc_export SIT_DOCKER_TLS_SOCKET "unix://$sock"
  svc_export SIT_DOCKER_CLI "$SIT_DOCKER_CLI_PATH"
}
