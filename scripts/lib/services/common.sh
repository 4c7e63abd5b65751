# shellcheck shell=bash
# Helpers shared by the service definitions in scripts/lib/services/*.sh.
#
# A service NAME is defined by a function `start_NAME` (dashes in NAME become underscores) and,
# optionally, `prestop_NAME` (runs before its processes are signalled). `start_NAME` runs with:
#   SIT_WORK     the fresh work directory of this `services.sh start`
#   SIT_ENV_FILE the env file being written
# and uses:
#   svc_dir NAME                 -> creates and prints $SIT_WORK/NAME
#   svc_free_port                -> prints a free TCP port on 127.0.0.1
#   svc_spawn NAME LOG CMD...    -> starts CMD in its own session, records its PID (+ start time)
#   svc_wait NAME SECS CMD...    -> polls CMD until it succeeds; fails if NAME's process died
#   svc_fail NAME MESSAGE        -> prints MESSAGE and the tail of NAME's log, returns 1
#   svc_export VAR VALUE         -> appends `export VAR=VALUE` to the env file
# Processes are stopped by `services.sh stop` in reverse start order, by recorded PID only.

svc_log() { echo "services: $*" >&2; }

svc_dir() {
  mkdir -p "$SIT_WORK/$1"
  echo "$SIT_WORK/$1"
}

svc_free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

svc_export() {
  printf 'export %s=%q\n' "$1" "$2" >>"$SIT_ENV_FILE"
  export "$1=$2"
}

# Field 22 of /proc/PID/stat: start time in clock ticks since boot. PID + start time names a
# process uniquely, so a recycled PID is never signalled.
svc_starttime() {
  local stat
  stat="$(cat "/proc/$1/stat" 2>/dev/null)" || return 1
  stat="${stat##*) }"
  # shellcheck disable=SC2086
  set -- $stat
  echo "${20}"
}

# True while PID is running and still the process we recorded (zombies count as gone).
svc_alive() {
  local pid="$1" starttime="$2" stat
  stat="$(cat "/proc/$pid/stat" 2>/dev/null)" || return 1
  stat="${stat##*) }"
  [ "${stat%% *}" != Z ] || return 1
  [ "$(svc_starttime "$pid")" = "$starttime" ]
}

svc_spawn() {
  local name="$1" log="$2"
  shift 2
  mkdir -p "$SIT_WORK/pids"
  # setsid: a Ctrl-C in the terminal reaches the test runner, not the services; stop decides.
  setsid "$@" </dev/null >>"$log" 2>&1 &
  local pid=$!
  local starttime
  if ! starttime="$(svc_starttime "$pid")"; then
    echo "$pid - $log" >"$SIT_WORK/pids/$name"
    svc_fail "$name" "exited at once: $*"
    return 1
  fi
  echo "$pid $starttime $log" >"$SIT_WORK/pids/$name"
  echo "$name" >>"$SIT_WORK/started"
  svc_log "$name: started pid $pid ($1), log $log"
}

svc_log_of() { [ -f "$SIT_WORK/pids/$1" ] && cut -d' ' -f3- "$SIT_WORK/pids/$1"; }

svc_fail() {
  local name="$1" log
  shift
  svc_log "$name: FAILED: $*"
  log="$(svc_log_of "$name" || true)"
  if [ -n "$log" ] && [ -f "$log" ]; then
    echo "----- last 40 lines of $log -----" >&2
    tail -n 40 "$log" >&2
    echo "-----" >&2
  fi
  return 1
}

svc_wait() {
  local name="$1" timeout="$2"
  shift 2
  local deadline=$((SECONDS + timeout)) pid starttime
  read -r pid starttime _ <"$SIT_WORK/pids/$name"
  until "$@" >/dev/null 2>&1; do
    svc_alive "$pid" "$starttime" || { svc_fail "$name" "process $pid exited before it was ready"; return 1; }
    [ "$SECONDS" -lt "$deadline" ] || { svc_fail "$name" "not ready after ${timeout}s (waited for: $*)"; return 1; }
    sleep 0.25
  done
  svc_log "$name: ready"
}

# TERM, wait up to TIMEOUT seconds, then KILL. Only the recorded PID (checked by start time).
svc_kill() {
  local pid="$1" starttime="$2" timeout="${3:-20}" label="${4:-$1}"
  svc_alive "$pid" "$starttime" || return 0
  kill -TERM "$pid" 2>/dev/null || true
  local deadline=$((SECONDS + timeout))
  while svc_alive "$pid" "$starttime"; do
    if [ "$SECONDS" -ge "$deadline" ]; then
      svc_log "$label: pid $pid ignored SIGTERM for ${timeout}s, sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
      sleep 0.5
      return 0
    fi
    sleep 0.2
  done
}

# Processes that our services spawned themselves (dockerd's containerd, containerd's shims) and
# that outlived their parent. They are recognised by our own unique work dir in their command
# line, so nothing that someone else started is touched.
svc_kill_strays() {
  local dir="$1" p pid cmd
  for p in /proc/[0-9]*; do
    pid="${p#/proc/}"
    [ "$pid" != $$ ] || continue
    cmd="$(tr '\0' ' ' 2>/dev/null <"$p/cmdline")" || continue
    case "$cmd" in
      *"$dir/"*)
        svc_log "stray process $pid ($cmd) still running, stopping it"
        svc_kill "$pid" "$(svc_starttime "$pid")" 10 "stray"
        ;;
    esac
  done
}

# Unmounts everything mounted below DIR (deepest first), lazily as a last resort.
svc_umount_below() {
  local dir="$1" mp
  # Field 5 of mountinfo is the mount point (octal-escaped spaces are not expected in our paths).
  awk -v d="$dir/" 'index($5, d) == 1 { print length($5), $5 }' /proc/self/mountinfo \
    | sort -rn | cut -d' ' -f2- | while read -r mp; do
        umount "$mp" 2>/dev/null || umount -l "$mp" 2>/dev/null || svc_log "could not unmount $mp"
      done
}

# The helper programs in scripts/lib/*.py run on Debian's python3, which has the Debian
# python3-* modules that bootstrap.sh installs (a pyenv/venv python3 earlier in PATH may not).
SIT_PYTHON="${SIT_PYTHON:-/usr/bin/python3}"
SIT_LIB="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

# A random password (24 URL-safe characters), fresh for every start.
svc_random_password() { openssl rand -base64 18 | tr '+/' '-_'; }

# Waits until `curl ARGS... URL` gets HTTP status CODE (one of several, e.g. "200|401").
svc_http_status_is() {
  local codes="$1" code
  shift
  code="$(curl --noproxy '*' -s -o /dev/null -w '%{http_code}' --max-time 2 "$@")" || return 1
  [[ "$code" =~ ^($codes)$ ]]
}
