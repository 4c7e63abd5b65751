# shellcheck shell=bash
# Registries: Debian's docker-registry (CNCF distribution 2.8) on 127.0.0.1.
#
# registry_launch NAME SCHEME [HTTP_EXTRA_YAML [TOP_EXTRA_YAML]] starts one instance with its own
# storage and prints its host:port. Variants (Basic auth with htpasswd, TLS, token auth) are new
# start_* functions that pass extra YAML: e.g. `tls: {certificate: ..., key: ...}` under http:,
# or an `auth:` section at top level, and their own readiness URL scheme.

registry_launch() {
  local name="$1" scheme="$2" http_extra="${3:-}" top_extra="${4:-}"
  local dir port attempt
  dir="$(svc_dir "$name")"
  for attempt in 1 2 3; do
    port="$(svc_free_port)"
    cat >"$dir/config.yml" <<EOF
version: 0.1
log:
  level: info
  accesslog:
    disabled: false
storage:
  filesystem:
    rootdirectory: $dir/data
  delete:
    enabled: true
  redirect:
    disable: true
  cache:
    blobdescriptor: inmemory
http:
  addr: 127.0.0.1:$port
  headers:
    X-Content-Type-Options: [nosniff]
$http_extra
$top_extra
EOF
    svc_spawn "$name" "$dir/registry.log" docker-registry serve "$dir/config.yml" || return 1
    # 401 counts as up for registries with auth; the plain one must answer 200 (checked below).
    if svc_wait "$name" 30 registry_answers "$scheme://127.0.0.1:$port/v2/"; then
      echo "127.0.0.1:$port"
      return 0
    fi
    # Lost a race for the port? Try another one; anything else is a real failure.
    grep -q 'address already in use' "$dir/registry.log" || return 1
    svc_log "$name: port $port was taken, retrying ($attempt)"
  done
  return 1
}

registry_answers() {
  local code
  code="$(curl --noproxy '*' -ks -o /dev/null -w '%{http_code}' --max-time 2 "$1")" || return 1
  [ "$code" = 200 ] || [ "$code" = 401 ]
}

start_registry() {
  local addr code
  addr="$(registry_launch registry http)" || return 1
  code="$(curl --noproxy '*' -s -o /dev/null -w '%{http_code}' --max-time 5 "http://$addr/v2/")"
  [ "$code" = 200 ] || { svc_fail registry "GET http://$addr/v2/ answered $code, expected 200"; return 1; }
  svc_export SIT_REGISTRY "$addr"
}
