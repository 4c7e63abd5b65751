#!/usr/bin/env bash
# A registry for trying the tool: Debian's docker-registry on 127.0.0.1 only, its data kept under
# the cache directory, left running between commands.
#
#   scripts/local-registry.sh start    # prints host:port; reuses a registry already answering there
#   scripts/local-registry.sh stop     # stops the one this script started (by its recorded PID)
#
# Environment: REGISTRY_PORT (default 5000).
set -euo pipefail

port="${REGISTRY_PORT:-5000}"
dir="${XDG_CACHE_HOME:-$HOME/.cache}/spark-image-tool/registry"
pidfile="$dir/registry.pid"

answering() { curl -fsS --noproxy '*' -o /dev/null "http://127.0.0.1:$port/v2/" 2>/dev/null; }

start() {
  if answering; then
    echo "127.0.0.1:$port"
    return
  fi
  mkdir -p "$dir/data"
  cat >"$dir/config.yml" <<EOT
version: 0.1
storage:
  filesystem:
    rootdirectory: $dir/data
  delete:
    enabled: true
http:
  addr: 127.0.0.1:$port
EOT
  setsid docker-registry serve "$dir/config.yml" </dev/null >>"$dir/registry.log" 2>&1 &
  echo $! >"$pidfile"
  for _ in $(seq 1 50); do
    if answering; then
      echo "127.0.0.1:$port"
      return
    fi
    sleep 0.2
  done
  echo "local-registry: docker-registry did not answer on 127.0.0.1:$port; see $dir/registry.log" >&2
  tail -n 20 "$dir/registry.log" >&2
  exit 1
}

stop() {
  if [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
    kill "$(cat "$pidfile")"
    rm -f "$pidfile"
    echo "local-registry: stopped"
  else
    echo "local-registry: not running (started by this script)"
  fi
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
