# shellcheck shell=bash
# Registries: Debian's docker-registry (CNCF distribution 2.8) on 127.0.0.1.
#
# registry_launch NAME SCHEME [HTTP_EXTRA_YAML [TOP_EXTRA_YAML]] starts one instance with its own
# storage and prints its host:port. HTTP_EXTRA_YAML is indented by two spaces (it goes under
# `http:`), TOP_EXTRA_YAML is a top-level section such as `auth:`.
#
#   registry        plain HTTP, anonymous                 SIT_REGISTRY
#   registry-basic  HTTP + htpasswd (bcrypt) Basic auth   SIT_REGISTRY_BASIC{,_USER,_PASSWORD}
#   registry-tls    HTTPS with a throwaway CA             SIT_REGISTRY_TLS, SIT_REGISTRY_TLS_CA
#   registry-token  HTTP + token auth, token server in    SIT_REGISTRY_TOKEN, SIT_TOKEN_SERVER,
#                   scripts/lib/token_server.py           SIT_TOKEN_USER, SIT_TOKEN_PASSWORD

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
    if svc_wait "$name" 30 svc_http_status_is '200|401' -k "$scheme://127.0.0.1:$port/v2/"; then
      echo "127.0.0.1:$port"
      return 0
    fi
    # Lost a race for the port? Try another one; anything else is a real failure.
    grep -q 'address already in use' "$dir/registry.log" || return 1
    svc_log "$name: port $port was taken, retrying ($attempt)"
  done
  return 1
}

start_registry() {
  local addr code
  addr="$(registry_launch registry http)" || return 1
  code="$(curl --noproxy '*' -s -o /dev/null -w '%{http_code}' --max-time 5 "http://$addr/v2/")"
  [ "$code" = 200 ] || { svc_fail registry "GET http://$addr/v2/ answered $code, expected 200"; return 1; }
  svc_export SIT_REGISTRY "$addr"
}

# Fails unless `curl ARGS... URL` answers CODE (for the checks after a variant is up).
registry_expect() {
  local name="$1" want="$2" code
  shift 2
  code="$(curl --noproxy '*' -s -o /dev/null -w '%{http_code}' --max-time 5 "$@")"
  [ "$code" = "$want" ] || { svc_fail "$name" "curl $* answered $code, expected $want"; return 1; }
}

start_registry_basic() {
  local dir addr user=sit-basic password
  dir="$(svc_dir registry-basic)"
  password="$(svc_random_password)"
  htpasswd -Bbn "$user" "$password" >"$dir/htpasswd" 2>"$dir/htpasswd.log" \
    || { svc_fail registry-basic "htpasswd: $(cat "$dir/htpasswd.log")"; return 1; }
  addr="$(registry_launch registry-basic http "" "auth:
  htpasswd:
    realm: sit-basic
    path: $dir/htpasswd")" || return 1
  registry_expect registry-basic 401 "http://$addr/v2/" || return 1
  registry_expect registry-basic 200 -u "$user:$password" "http://$addr/v2/" || return 1
  svc_export SIT_REGISTRY_BASIC "$addr"
  svc_export SIT_REGISTRY_BASIC_USER "$user"
  svc_export SIT_REGISTRY_BASIC_PASSWORD "$password"
}

# The certificate names 127.0.0.1 and localhost; the exported address is 127.0.0.1:PORT.
start_registry_tls() {
  local dir addr
  dir="$(svc_dir registry-tls)"
  { certs_ca "$dir" ca && certs_issue "$dir" ca server 127.0.0.1 server "IP:127.0.0.1,DNS:localhost"; } \
    || { svc_fail registry-tls "openssl: $(certs_error "$dir")"; return 1; }
  addr="$(registry_launch registry-tls https "  tls:
    certificate: $dir/server.crt
    key: $dir/server.key")" || return 1
  registry_expect registry-tls 200 --cacert "$dir/ca.crt" "https://$addr/v2/" || return 1
  svc_export SIT_REGISTRY_TLS "$addr"
  svc_export SIT_REGISTRY_TLS_CA "$dir/ca.crt"
}

# Token lifetime of the token server at start (seconds); POST $SIT_TOKEN_SERVER/config changes it.
SIT_TOKEN_EXPIRES_IN="${SIT_TOKEN_EXPIRES_IN:-300}"

start_registry_token() {
  local dir port url addr user=sit-token service=sit-registry-token issuer=sit-token-server
  dir="$(svc_dir registry-token)"
  certs_self_signed "$dir" signer "$issuer" \
    || { svc_fail registry-token "openssl: $(certs_error "$dir")"; return 1; }
  svc_random_password >"$dir/password"
  chmod 600 "$dir/password"
  port="$(svc_free_port)"
  url="http://127.0.0.1:$port"
  svc_spawn token-server "$dir/token-server.log" "$SIT_PYTHON" "$SIT_LIB/token_server.py" \
    --port "$port" --key "$dir/signer.key" --cert "$dir/signer.crt" \
    --issuer "$issuer" --service "$service" --user "$user" --password-file "$dir/password" \
    --expires-in "$SIT_TOKEN_EXPIRES_IN" || return 1
  svc_wait token-server 15 svc_http_status_is 200 "$url/healthz" || return 1
  addr="$(registry_launch registry-token http "" "auth:
  token:
    realm: $url/token
    service: $service
    issuer: $issuer
    rootcertbundle: $dir/signer.crt")" || return 1
  registry_expect registry-token 401 "http://$addr/v2/" || return 1
  # The registry must accept what the token server signs: an anonymous token for /v2/.
  local token
  token="$(curl --noproxy '*' -sf --max-time 5 "$url/token?service=$service" | jq -r .token)" \
    || { svc_fail token-server "GET $url/token failed"; return 1; }
  registry_expect registry-token 200 -H "Authorization: Bearer $token" "http://$addr/v2/" || return 1
  curl --noproxy '*' -sf -X POST --max-time 5 "$url/reset" >/dev/null
  svc_export SIT_REGISTRY_TOKEN "$addr"
  svc_export SIT_TOKEN_SERVER "$url"
  svc_export SIT_TOKEN_USER "$user"
  svc_export SIT_TOKEN_PASSWORD "$(cat "$dir/password")"
}
