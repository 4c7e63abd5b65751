# shellcheck shell=bash
# fault-proxy: scripts/lib/fault_proxy.py, a threaded HTTP/1.1 reverse proxy in front of the plain
# registry (start `registry` before it) that fails requests on demand. See that file's docstring
# for the rule and stats formats.
#   SIT_FAULT_PROXY=127.0.0.1:PORT            what clients use instead of SIT_REGISTRY
#   SIT_FAULT_CONTROL=http://127.0.0.1:PORT2  POST /plan, GET /stats, GET /log, POST /reset,
#                                             GET /elsewhere
#   SIT_FAULT_ELSEWHERE=localhost:PORT3       "another host" for redirects (401, Bearer realm on
#                                             http://), which records every request it gets

start_fault_proxy() {
  local dir port control elsewhere
  [ -n "${SIT_REGISTRY:-}" ] || { svc_fail fault-proxy "needs the registry service: list 'registry' before 'fault-proxy'"; return 1; }
  dir="$(svc_dir fault-proxy)"
  port="$(svc_free_port)"
  control="$(svc_free_port)"
  [ "$port" != "$control" ] || control="$(svc_free_port)"
  elsewhere="$(svc_free_port)"
  svc_spawn fault-proxy "$dir/fault-proxy.log" "$SIT_PYTHON" "$SIT_LIB/fault_proxy.py" \
    --upstream "$SIT_REGISTRY" --port "$port" --control-port "$control" --elsewhere-port "$elsewhere" || return 1
  svc_wait fault-proxy 15 svc_http_status_is 200 "http://127.0.0.1:$control/healthz" || return 1
  # Through the proxy, the registry must answer as it does directly.
  svc_wait fault-proxy 5 svc_http_status_is 200 "http://127.0.0.1:$port/v2/" || return 1
  curl --noproxy '*' -sf -X POST --max-time 5 "http://127.0.0.1:$control/reset" >/dev/null \
    || { svc_fail fault-proxy "POST /reset failed"; return 1; }
  svc_export SIT_FAULT_PROXY "127.0.0.1:$port"
  svc_export SIT_FAULT_CONTROL "http://127.0.0.1:$control"
  svc_export SIT_FAULT_ELSEWHERE "localhost:$elsewhere"
}
