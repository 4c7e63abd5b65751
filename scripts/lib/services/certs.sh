# shellcheck shell=bash
# Throwaway certificates for the TLS services, made with openssl. Keys are EC P-256 (instant to
# generate; Go, skopeo, docker and distribution's libtrust all accept them). Valid for 7 days.
#
#   certs_ca DIR NAME                   -> DIR/NAME.crt, DIR/NAME.key (a self-signed CA)
#   certs_issue DIR CA NAME CN KIND SANS -> DIR/NAME.crt, DIR/NAME.key signed by DIR/CA.{crt,key}
#                                           KIND: server | client | signing;
#                                           SANS: e.g. "IP:127.0.0.1,DNS:localhost" (or "")
#   certs_self_signed DIR NAME CN       -> DIR/NAME.crt, DIR/NAME.key (a leaf signing itself)
# On failure openssl's output is in DIR/openssl.log.

certs_key_args=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes)

certs_ca() {
  local dir="$1" name="$2"
  mkdir -p "$dir"
  openssl req -x509 "${certs_key_args[@]}" -days 7 \
    -keyout "$dir/$name.key" -out "$dir/$name.crt" -subj "/CN=sit throwaway $name" \
    -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" >>"$dir/openssl.log" 2>&1
}

certs_extensions() {
  local kind="$1" sans="$2"
  echo "basicConstraints=critical,CA:FALSE"
  case "$kind" in
    server) echo "keyUsage=critical,digitalSignature,keyEncipherment"; echo "extendedKeyUsage=serverAuth" ;;
    client) echo "keyUsage=critical,digitalSignature,keyEncipherment"; echo "extendedKeyUsage=clientAuth" ;;
    signing) echo "keyUsage=critical,digitalSignature" ;;
    *) echo "certs: unknown certificate kind '$kind'" >&2; return 1 ;;
  esac
  [ -z "$sans" ] || echo "subjectAltName=$sans"
}

certs_issue() {
  local dir="$1" ca="$2" name="$3" cn="$4" kind="$5" sans="${6:-}"
  certs_extensions "$kind" "$sans" >"$dir/$name.ext" || return 1
  openssl req -new "${certs_key_args[@]}" -keyout "$dir/$name.key" -out "$dir/$name.csr" \
    -subj "/CN=$cn" >>"$dir/openssl.log" 2>&1 || return 1
  openssl x509 -req -in "$dir/$name.csr" -CA "$dir/$ca.crt" -CAkey "$dir/$ca.key" \
    -CAcreateserial -CAserial "$dir/$ca.srl" -days 7 -extfile "$dir/$name.ext" \
    -out "$dir/$name.crt" >>"$dir/openssl.log" 2>&1 || return 1
  rm -f "$dir/$name.csr"
}

certs_self_signed() {
  local dir="$1" name="$2" cn="$3"
  mkdir -p "$dir"
  openssl req -x509 "${certs_key_args[@]}" -days 7 \
    -keyout "$dir/$name.key" -out "$dir/$name.crt" -subj "/CN=$cn" \
    -addext "basicConstraints=critical,CA:FALSE" -addext "keyUsage=critical,digitalSignature" \
    >>"$dir/openssl.log" 2>&1
}

# Prints why a certs_* call failed (for svc_fail messages).
certs_error() { tail -n 5 "$1/openssl.log" 2>/dev/null | tr '\n' ' '; }
