# shellcheck shell=bash
# Docker daemons for the benchmark: Debian's dockerd 20.10 with overlay2 (the storage driver docker
# users run; the test harness's vfs daemon copies every layer in full and would make docker look
# 2-3x slower than it is), on a Unix socket below $BENCH_WORK/daemons/NAME, loopback only.
#
#   bench_daemon_start NAME   -> prints unix:///…/docker.sock (waits until it answers)
#   bench_daemon_stop NAME    -> stops the recorded PID, unmounts, removes its directory
#   bench_daemon_stop_all     -> every daemon still recorded (for the EXIT trap)
# Only the PIDs recorded here are ever signalled.

bench_daemon_start() {
  local name="$1" dir pid i
  dir="$BENCH_WORK/daemons/$name"
  rm -rf "$dir"
  mkdir -p "$dir/data" "$dir/exec"
  echo '{}' >"$dir/daemon.json"
  setsid dockerd --config-file "$dir/daemon.json" --data-root "$dir/data" --exec-root "$dir/exec" \
    --pidfile "$dir/dockerd.pid" -H "unix://$dir/docker.sock" \
    --iptables=false --ip6tables=false --ip-masq=false --ip-forward=false \
    --bridge=none --userland-proxy=false --storage-driver=overlay2 \
    </dev/null >"$dir/dockerd.log" 2>&1 &
  pid=$!
  echo "$pid" >"$dir/bench.pid"
  for i in $(seq 1 120); do
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "bench: dockerd $name exited; last lines of $dir/dockerd.log:" >&2
      tail -n 20 "$dir/dockerd.log" >&2
      return 1
    fi
    if [ -S "$dir/docker.sock" ] && timeout 10 /usr/bin/docker -H "unix://$dir/docker.sock" version >/dev/null 2>&1; then
      echo "unix://$dir/docker.sock"
      return 0
    fi
    sleep 0.5
  done
  echo "bench: dockerd $name did not answer within 60 s; see $dir/dockerd.log" >&2
  return 1
}

bench_daemon_stop() {
  local name="$1" dir pid i
  dir="$BENCH_WORK/daemons/$name"
  [ -f "$dir/bench.pid" ] || return 0
  pid="$(cat "$dir/bench.pid")"
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for i in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    if kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid" 2>/dev/null || true; sleep 1; fi
  fi
  wait "$pid" 2>/dev/null || true
  rm -f "$dir/bench.pid"
  # What dockerd may leave mounted below its directory (deepest first).
  awk -v d="$dir/" 'index($2, d) == 1 { print $2 }' /proc/mounts | sort -r | while read -r m; do
    umount -l "$m" 2>/dev/null || true
  done
  rm -rf "$dir" 2>/dev/null || true
}

bench_daemon_stop_all() {
  local d
  [ -d "$BENCH_WORK/daemons" ] || return 0
  for d in "$BENCH_WORK"/daemons/*/; do
    [ -d "$d" ] || continue
    bench_daemon_stop "$(basename "$d")"
  done
}
