#!/usr/bin/env bash
# The fault matrix (issue 10): the real Spark 4.3.0 image through a registry that dies, connections
# that break, a tool killed with -9, a full disk, concurrent writers and a registry that lies.
#
#   scripts/faults.sh [SCENARIO...]      (default: all; see `scripts/faults.sh --list`)
#
# Uses the real registry and the fault proxy of scripts/services.sh, and a dockerd with overlay2
# (scripts/lib/bench/daemon.sh), with Spark from fetch-spark.sh and the base from make-base-image.sh.
#
# Scenarios (RUNS = $FAULTS_RUNS, default as in the issue: 10; 20 rounds for concurrency):
#   registry-restart  push while the registry is killed (-9, by its PID) and restarted mid-blob at
#                     a random byte offset; skopeo must read what a clean push gave, byte for byte
#   pull-cut          pull through the fault proxy with the connection cut at a random offset of
#                     a layer; `verify` passes and the digest is a clean pull's
#   kill-build, kill-push, kill-pull, kill-preload, kill-gc
#                     the tool killed -9 at a random moment, then the same command again: it
#                     succeeds, `verify` passes, the result equals an uninterrupted run's; a
#                     build starts from a store holding the imported base, untagged (importing it
#                     is most of a cold build and the same every round; disk-full interrupts it)
#   disk-full         a build into a store on a small tmpfs: a "no space" error naming the store,
#                     `verify` passes, nothing half-written under a blob's final name
#   concurrency       two builds and a gc on one store at once, 2 x RUNS rounds: every tag valid
#                     (each round on a fresh copy of the store holding only the untagged base)
#   lie-size, lie-digest, lie-redirect, lie-range
#                     a registry that lies (a longer body than the descriptor, a flipped byte, a
#                     redirect to another host whose 401 names an http:// realm, a chunked upload
#                     whose Range never advances): a clear error, nothing tagged, and the canary
#                     password in no request outside the registry's origin
#
# Prints a table (scenario, runs, survived, bytes lost) and exits non-zero when a scenario lost
# bytes or a run did not survive. Every loop is bounded by its run count and by
# FAULTS_SCENARIO_SECONDS (default 1800) per scenario; every command by FAULTS_CMD_TIMEOUT (900 s),
# a command facing a lying registry by FAULTS_LIE_TIMEOUT (180 s).
# Not part of .ci/run (it takes long); the quick cases are Swift tests (Tests/IntegrationTests/
# FaultTests.swift).
#
# Environment: FAULTS_RUNS, FAULTS_CONFIG (debug|release, default debug), FAULTS_TOOL (a built
# spark-image-tool to use instead of building one: a copy out of .build stays the same during a
# long run), FAULTS_KEEP=1 (keep the work dir), FAULTS_WORK_PARENT (default /tmp), FAULTS_SEED
# (for $RANDOM, default: the PID), SPARK_DISTS_CACHE (see fetch-spark.sh).
set -euo pipefail
# The whole script is one compound command, so bash has read all of it before it runs any of it:
# editing the file during a (long) run cannot change what the run does.
{
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/.." && pwd)"
# shellcheck source=lib/spark-inputs.sh
. "$here/lib/spark-inputs.sh"
# shellcheck source=lib/services/common.sh
. "$here/lib/services/common.sh"
# shellcheck source=lib/bench/daemon.sh
. "$here/lib/bench/daemon.sh"
blobs_py="$here/lib/faults/blobs.py"

all_scenarios=(registry-restart pull-cut kill-build kill-push kill-pull kill-preload kill-gc disk-full concurrency
  lie-size lie-digest lie-redirect lie-range)
case "${1:-}" in
  --list) printf '%s\n' "${all_scenarios[@]}"; exit 0 ;;
  -h|--help) sed -n '2,/^set -e/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'; exit 0 ;;
esac
scenarios=("$@")
[ ${#scenarios[@]} -gt 0 ] || scenarios=("${all_scenarios[@]}")
for s in "${scenarios[@]}"; do
  [[ " ${all_scenarios[*]} " == *" $s "* ]] || { echo "faults: unknown scenario $s (--list)" >&2; exit 2; }
done

RUNS="${FAULTS_RUNS:-10}"
SCENARIO_SECONDS="${FAULTS_SCENARIO_SECONDS:-1800}"
CMD_TIMEOUT="${FAULTS_CMD_TIMEOUT:-900}"
CONFIG="${FAULTS_CONFIG:-debug}"
[[ $RUNS =~ ^[1-9][0-9]*$ ]] || { echo "faults: FAULTS_RUNS must be a positive number" >&2; exit 2; }
RANDOM="${FAULTS_SEED:-$$}"

T_START=$SECONDS
log() { printf '[faults %5ds] %s\n' "$((SECONDS - T_START))" "$*" >&2; }
die() { echo "faults: ERROR: $*" >&2; exit 1; }

# ---------------------------------------------------------------------------------------------
# Setup: packages, the tool, Spark and the base, the services (registry, fault proxy, dockerd)
# ---------------------------------------------------------------------------------------------
"$repo/scripts/bootstrap.sh" >&2
for c in skopeo jq dockerd /usr/bin/docker docker-registry python3 mount; do
  command -v "$c" >/dev/null || die "$c is missing after bootstrap"
done
[ "$(id -u)" = 0 ] || die "the disk-full scenario mounts a tmpfs: run as root"

WORK="$(mktemp -d "${FAULTS_WORK_PARENT:-/tmp}/sit-faults.XXXXXX")"
logs="$WORK/logs"
mkdir -p "$logs"
BENCH_WORK="$WORK" # where bench_daemon_start keeps its daemons
services_env="$WORK/services.env"
cleanup() {
  local rc=$?
  set +e
  bench_daemon_stop_all
  [ -f "$services_env" ] && SIT_SERVICES_ENV="$services_env" "$repo/scripts/services.sh" stop >/dev/null 2>&1
  svc_umount_below "$WORK"
  if [ "${FAULTS_KEEP:-0}" = 1 ] || [ $rc -ne 0 ]; then
    echo "faults: work dir (logs, stores) kept in $WORK" >&2
  else
    rm -rf "$WORK"
  fi
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [ -n "${FAULTS_TOOL:-}" ]; then
  # A binary of its own, so that rebuilding the checkout during a long run cannot change it.
  TOOL="$(cd "$(dirname "$FAULTS_TOOL")" && pwd)/$(basename "$FAULTS_TOOL")"
  [ -x "$TOOL" ] || die "FAULTS_TOOL=$FAULTS_TOOL is not an executable"
else
  log "building spark-image-tool ($CONFIG)"
  (cd "$repo" && swift build -c "$CONFIG" --product spark-image-tool >"$logs/swift-build.log" 2>&1) \
    || { tail -n 30 "$logs/swift-build.log" >&2; die "swift build failed"; }
  TOOL="$(cd "$repo" && swift build -c "$CONFIG" --show-bin-path)/spark-image-tool"
fi

spark_inputs_use_shared_cache
log "Spark 4.3.0 (fetch-spark.sh) and the Java base (make-base-image.sh)"
src_dist="$("$repo/scripts/fetch-spark.sh" 4.3.0)"
base_tar="$("$repo/scripts/make-base-image.sh")"
dist="$WORK/spark-4.3.0"
spark_inputs_copy "$repo" "$src_dist" "$dist"

log "services: registry, fault-proxy; dockerd with overlay2 (bench.sh's: the harness's vfs daemon copies every layer)"
SIT_SERVICES_ENV="$services_env" "$repo/scripts/services.sh" start --env-file "$services_env" registry fault-proxy \
  >"$logs/services.log" 2>&1 || { tail -n 40 "$logs/services.log" >&2; die "services.sh start failed"; }
# shellcheck source=/dev/null
. "$services_env"
REG="$SIT_REGISTRY"
PROXY="$SIT_FAULT_PROXY"
reg_dir="$SIT_WORK/registry"
DOCKER_HOST_FAULTS="$(bench_daemon_start faults)" || die "dockerd did not start"
dk() { timeout 300 /usr/bin/docker -H "$DOCKER_HOST_FAULTS" "$@"; }

# ---------------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------------
# The tool with a store; bounded by CMD_TIMEOUT.
sit() { local store="$1" sub="$2"; shift 2; timeout "$CMD_TIMEOUT" "$TOOL" "$sub" --store "$store" "$@"; }
# The tool with a store, in the background (for kill -9): sets BG_PID to the tool's own PID.
sit_bg() { local store="$1" sub="$2" out="$3"; shift 3; "$TOOL" "$sub" --store "$store" "$@" >"$out" 2>&1 & BG_PID=$!; }
build_args() { echo --spark-home "$dist" -r "$1" -t "$2" --base "rootfs:$base_tar"; }
image_digest() { sit "$1" images | awk -v i="$2" '$1 == i { print $2 }'; }
# A random whole number in [LO, HI].
rand_between() { echo $(( $1 + ( (RANDOM << 15 | RANDOM) % ($2 - $1 + 1) ) )); }
# A random delay in seconds (3 decimals) in [0.05, FRACTION_MAX * SECONDS).
rand_delay() { awk -v s="$1" -v r="$RANDOM" 'BEGIN { d = s * 0.9 * r / 32768; if (d < 0.05) d = 0.05; printf "%.3f", d }'; }
sha256_of() { echo "sha256:$(sha256sum "$1" | cut -d' ' -f1)"; }
elapsed_since() { echo $((SECONDS - $1)); }
budget_left() { [ $((SECONDS - scenario_t0)) -lt "$SCENARIO_SECONDS" ]; }

# A copy of a store: blobs hard-linked (never written in place: content-addressed, renamed in),
# everything else (index.json, locks, caches) copied, so the copies share no mutable file.
copy_store() {
  local src="$1" dst="$2" f
  rm -rf "$dst"
  mkdir -p "$dst"
  for f in "$src"/* "$src"/.[!.]*; do
    [ -e "$f" ] || continue
    if [ "${f##*/}" = blobs ]; then cp -al "$f" "$dst/"; else cp -a "$f" "$dst/"; fi
  done
}

# kill -9 of a process this script started, then reaping it.
kill9() { kill -KILL "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; }

registry_pid() { local pid start; read -r pid start _ <"$SIT_WORK/pids/registry"; echo "$pid $start"; }
registry_kill() {
  local pid start
  read -r pid start < <(registry_pid)
  if svc_alive "$pid" "$start"; then kill -KILL "$pid"; fi
  local deadline=$((SECONDS + 20))
  while svc_alive "$pid" "$start" && [ $SECONDS -lt $deadline ]; do sleep 0.1; done
}
# Same config, same port, same storage (unless WIPE=1): what a crashed registry comes back as.
registry_start() {
  svc_spawn registry "$reg_dir/registry.log" docker-registry serve "$reg_dir/config.yml" >/dev/null 2>&1
  svc_wait registry 30 svc_http_status_is 200 "http://$REG/v2/" 2>>"$logs/registry-restarts.log"
}
registry_wipe() { registry_kill; rm -rf "$reg_dir/data"; registry_start; }
# Bytes of the largest upload in progress in the registry's storage.
upload_bytes() {
  find "$reg_dir/data" -path '*/_uploads/*/data' -type f -printf '%s\n' 2>/dev/null | sort -n | tail -n1
}

proxy_plan() { curl --noproxy '*' -sf -X POST --max-time 5 -d "$1" "$SIT_FAULT_CONTROL/plan" >/dev/null; }
proxy_reset() { curl --noproxy '*' -sf -X POST --max-time 5 "$SIT_FAULT_CONTROL/reset" >/dev/null; }
proxy_fired() { curl --noproxy '*' -sf --max-time 5 "$SIT_FAULT_CONTROL/plan" | jq '[.rules[].used] | add // 0'; }

# Bytes of the reference image's blobs that LAYOUT lacks or holds with other content.
lost_in_layout() { "$blobs_py" lost "$1" "$ref_list"; }
# Bytes lost in the registry under IMAGE (docker://IMAGE), checked with skopeo: the manifest
# must be the reference's, and every blob must hash to its digest.
lost_in_registry() {
  local image="$1" dir="$WORK/copy.$RANDOM" raw
  raw="$dir.raw"
  if ! skopeo inspect --raw --tls-verify=false "docker://$image" >"$raw" 2>>"$logs/skopeo.log" \
      || [ "$(sha256_of "$raw")" != "$ref_digest" ] \
      || ! skopeo copy -q --src-tls-verify=false "docker://$image" "oci:$dir:x" >>"$logs/skopeo.log" 2>&1; then
    echo "$ref_bytes"
  else
    lost_in_layout "$dir"
  fi
  rm -rf "$dir" "$raw"
}

# One table row per scenario: name, runs, survived, bytes lost, a note.
table="$WORK/table"
: >"$table"
record() { printf '%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" "$5" >>"$table"; log "$1: $3/$2 survived, $4 bytes lost ${5:+($5)}"; }
# run_scenario NAME FUNCTION: FUNCTION sets runs, survived, lost, note.
run_scenario() {
  local name="$1" fn="$2"
  runs=0 survived=0 lost=0 note=""
  scenario_t0=$SECONDS
  log "scenario $name"
  "$fn" || note="${note:+$note; }scenario aborted (exit $?)"
  record "$name" "$runs" "$survived" "$lost" "$note"
}
# survive OK LOST: counts one run.
count_run() { runs=$((runs + 1)); [ "$1" = 1 ] && survived=$((survived + 1)); lost=$((lost + $2)); }
first_error() { grep -m1 -i 'error' "$1" | cut -c1-160 || true; }

# ---------------------------------------------------------------------------------------------
# The reference: an uninterrupted build, push and pull of the real image
# ---------------------------------------------------------------------------------------------
REPO="$REG/faults"
IMAGE="$REPO/spark:4.3.0"
ref_store="$WORK/ref-store"
log "reference build of $IMAGE"
t0=$SECONDS
# shellcheck disable=SC2046
sit "$ref_store" build $(build_args "$REPO" 4.3.0) >"$logs/ref-build.log" 2>&1 || { tail "$logs/ref-build.log" >&2; die "reference build failed"; }
build_seconds=$(elapsed_since "$t0")
ref_digest="$(image_digest "$ref_store" "$IMAGE")"
ref_list="$WORK/ref.blobs"
"$blobs_py" list "$ref_store" "$IMAGE" >"$ref_list"
ref_bytes="$(awk '{ s += $2 } END { print s }' "$ref_list")"
largest="$(sort -k2 -n "$ref_list" | tail -n1)"
largest_digest="${largest% *}" largest_size="${largest#* }"
log "reference: $ref_digest, $(wc -l <"$ref_list") blobs, $ref_bytes bytes, largest $largest_size; build ${build_seconds}s"

t0=$SECONDS
sit "$ref_store" push "$IMAGE" >"$logs/ref-push.log" 2>&1 || { tail "$logs/ref-push.log" >&2; die "reference push failed"; }
push_seconds=$(elapsed_since "$t0")
[ "$(lost_in_registry "$IMAGE")" = 0 ] || die "the reference push does not read back identically"

pull_store="$WORK/ref-pull"
t0=$SECONDS
sit "$pull_store" pull "$IMAGE" >"$logs/ref-pull.log" 2>&1 || { tail "$logs/ref-pull.log" >&2; die "reference pull failed"; }
pull_seconds=$(elapsed_since "$t0")
pull_digest="$(image_digest "$pull_store" "$IMAGE")"
log "reference push ${push_seconds}s, pull ${pull_seconds}s ($pull_digest)"

# ---------------------------------------------------------------------------------------------
# Scenarios
# ---------------------------------------------------------------------------------------------
scenario_registry_restart() {
  local i offset log pid killed ok l
  for ((i = 1; i <= RUNS; i++)); do
    budget_left || { note="stopped by the time limit"; break; }
    registry_wipe
    offset=$(rand_between $((1 << 20)) $((largest_size * 8 / 10)))
    log="$logs/registry-restart.$i.log"
    sit_bg "$ref_store" push "$log" "$IMAGE" --retries 10
    pid=$BG_PID killed=0
    local deadline=$((SECONDS + CMD_TIMEOUT))
    while kill -0 "$pid" 2>/dev/null && [ $SECONDS -lt $deadline ]; do
      if [ "$(upload_bytes || echo 0)" -ge "$offset" ] 2>/dev/null; then
        registry_kill
        killed=1
        sleep 0.$((RANDOM % 10))
        registry_start
        break
      fi
      sleep 0.02
    done
    ok=0
    if wait_bounded "$pid" "$deadline"; then
      l="$(lost_in_registry "$IMAGE")"
      [ "$killed" = 1 ] && [ "$l" = 0 ] && ok=1
      [ "$killed" = 1 ] || note="run $i: the push ended before offset $offset"
    else
      l=0
      note="${note:+$note; }run $i: push failed: $(first_error "$log")"
    fi
    log "  run $i: killed at >= $offset bytes ($killed), ok=$ok, lost $l"
    count_run "$ok" "$l"
  done
}

# Waits for PID (a background job of ours) until DEADLINE; kills it -9 when it overstays.
# Returns its exit status (137 when killed).
wait_bounded() {
  local pid="$1" deadline="$2"
  while kill -0 "$pid" 2>/dev/null && [ $SECONDS -lt "$deadline" ]; do sleep 0.1; done
  kill -0 "$pid" 2>/dev/null && kill -KILL "$pid"
  wait "$pid"
}

scenario_pull_cut() {
  local i offset store log ok l fired
  ensure_pushed
  for ((i = 1; i <= RUNS; i++)); do
    budget_left || { note="stopped by the time limit"; break; }
    offset=$(rand_between 1 $((largest_size - 1)))
    proxy_reset
    proxy_plan "{\"rules\": [{\"method\": \"GET\", \"path_regex\": \"/blobs/$largest_digest\", \"action\": \"body\", \"cut_at\": $offset, \"times\": 2}]}"
    store="$WORK/pull-cut.$i"
    log="$logs/pull-cut.$i.log"
    ok=0 l=0
    if sit "$store" pull "$PROXY/faults/spark:4.3.0" --retries 5 >"$log" 2>&1 && sit "$store" verify >>"$log" 2>&1; then
      fired="$(proxy_fired)"
      [ "$(image_digest "$store" "$PROXY/faults/spark:4.3.0")" = "$pull_digest" ] && [ "$fired" -ge 1 ] && ok=1
      l="$(lost_in_layout "$store")"
    else
      note="${note:+$note; }run $i (cut at $offset): $(first_error "$log")"
    fi
    log "  run $i: cut at $offset, ok=$ok, lost $l"
    count_run "$ok" "$l"
    rm -rf "$store"
  done
  proxy_reset
}

# kill_then_again NAME SECONDS PREPARE COMMAND CHECK: per run, PREPARE (fresh state), COMMAND in
# the background killed -9 after a random delay below SECONDS, COMMAND again, then CHECK, which
# prints the bytes lost (always) and succeeds when the result equals an uninterrupted run's.
kill_then_again() {
  local name="$1" seconds="$2" prepare="$3" command="$4" check="$5" i delay log ok l
  for ((i = 1; i <= RUNS; i++)); do
    budget_left || { note="stopped by the time limit"; break; }
    "$prepare"
    delay="$(rand_delay "$seconds")"
    log="$logs/$name.$i.log"
    "$command" bg "$log"
    sleep "$delay"
    kill9 "$BG_PID"
    ok=0 l=0
    if ! "$command" fg "$log.again"; then
      note="${note:+$note; }run $i (killed at ${delay}s): again: $(first_error "$log.again")"
    elif l="$("$check")"; then
      ok=1
    else
      note="${note:+$note; }run $i (killed at ${delay}s): the result differs from an uninterrupted run's"
    fi
    l="${l:-0}"
    log "  run $i: killed at ${delay}s, ok=$ok, lost $l"
    count_run "$ok" "$l"
  done
}
# tool_cmd MODE LOG STORE SUBCOMMAND ARGS...: MODE bg starts it for kill9, fg runs it bounded.
tool_cmd() {
  local mode="$1" log="$2" store="$3" sub="$4"
  shift 4
  if [ "$mode" = bg ]; then sit_bg "$store" "$sub" "$log" "$@"; else sit "$store" "$sub" "$@" >"$log" 2>&1; fi
}
verified_store() { sit "$1" verify >>"$logs/verify.log" 2>&1; }

kill_store="$WORK/kill-store"
fresh_kill_store() { rm -rf "$kill_store"; }

# Importing the base is most of a cold build and the same every time, so the build rounds (kill-build,
# concurrency) start from a hard-linked copy of a store that holds only the imported base, untagged
# (a gc may remove it under a build). Made once; warm_build_seconds is a build's time from it.
base_seed="$WORK/base-seed"
warm_build_seconds=""
prepare_base_seed() {
  [ -z "$warm_build_seconds" ] || return 0
  printf 'FROM base\n' >"$WORK/base.Dockerfile"
  sit "$base_seed" build --spark-home "$dist" -f "$WORK/base.Dockerfile" -r "$REG/base-seed" -t 1 --base "rootfs:$base_tar" \
    >"$logs/base-seed.log" 2>&1 && sit "$base_seed" rmi "$REG/base-seed/spark:1" >>"$logs/base-seed.log" 2>&1 || return 1
  copy_store "$base_seed" "$kill_store"
  local t0=$SECONDS
  # shellcheck disable=SC2046
  sit "$kill_store" build $(build_args "$REPO" 4.3.0) >>"$logs/base-seed.log" 2>&1 || return 1
  warm_build_seconds=$(( $(elapsed_since "$t0") + 1 ))
  log "a build from the store holding the base: ${warm_build_seconds}s"
}
seeded_kill_store() { copy_store "$base_seed" "$kill_store"; }
# shellcheck disable=SC2046
kill_build_cmd() { tool_cmd "$1" "$2" "$kill_store" build $(build_args "$REPO" 4.3.0); }
# Prints the bytes lost in STORE; succeeds when it verifies and tags IMAGE as DIGEST.
store_check() {
  local store="$1" image="$2" digest="$3" ok=0
  verified_store "$store" && [ "$(image_digest "$store" "$image")" = "$digest" ] && ok=1
  lost_in_layout "$store"
  [ $ok = 1 ]
}
kill_build_check() { store_check "$kill_store" "$IMAGE" "$ref_digest"; }

# Every push starts on an empty registry, so every blob is uploaded.
kill_push_cmd() { tool_cmd "$1" "$2" "$ref_store" push "$IMAGE" --retries 3; }
kill_push_check() { local l; l="$(lost_in_registry "$IMAGE")"; echo "$l"; [ "$l" = 0 ]; }
# The pulls need the reference image in the registry (a wiped registry lacks it).
ensure_pushed() { sit "$ref_store" push "$IMAGE" >>"$logs/ensure-pushed.log" 2>&1; }

kill_pull_cmd() { tool_cmd "$1" "$2" "$kill_store" pull "$IMAGE" --retries 3; }
kill_pull_check() { store_check "$kill_store" "$IMAGE" "$pull_digest"; }

preload_id=""
fresh_daemon() { dk rmi -f "$IMAGE" >/dev/null 2>&1 || true; }
kill_preload_cmd() { tool_cmd "$1" "$2" "$ref_store" preload "$IMAGE" --host "$DOCKER_HOST_FAULTS"; }
# The daemon's image must be the uninterrupted preload's (same ID); if not, the image counts lost.
kill_preload_check() {
  local id
  id="$(dk image inspect --format '{{.Id}}' "$IMAGE" 2>/dev/null)"
  if [ "$id" = "$preload_id" ]; then echo 0; else echo "$ref_bytes"; return 1; fi
  verified_store "$ref_store"
}

# gc runs on a copy (hard links) of a store holding the reference image and the garbage of a
# build with another SOURCE_DATE_EPOCH; the result must be the blobs an uninterrupted gc keeps.
gc_seed="$WORK/gc-seed"
gc_kept="$WORK/gc.kept"
fresh_gc_store() { copy_store "$gc_seed" "$kill_store"; }
kill_gc_cmd() { tool_cmd "$1" "$2" "$kill_store" gc; }
kill_gc_check() {
  store_check "$kill_store" "$IMAGE" "$ref_digest" && diff -q <(ls "$kill_store/blobs/sha256") "$gc_kept" >/dev/null
}
prepare_gc_seed() {
  copy_store "$ref_store" "$gc_seed"
  # shellcheck disable=SC2046
  SOURCE_DATE_EPOCH=1000000000 sit "$gc_seed" build $(build_args "$REG/garbage" 1) >"$logs/gc-seed.log" 2>&1
  sit "$gc_seed" rmi "$REG/garbage/spark:1" >>"$logs/gc-seed.log" 2>&1
  fresh_gc_store
  local t0=$SECONDS
  sit "$kill_store" gc >>"$logs/gc-seed.log" 2>&1
  gc_seconds=$(( $(elapsed_since "$t0") + 1 ))
  ls "$kill_store/blobs/sha256" >"$gc_kept"
}

scenario_kill_build() {
  prepare_base_seed || { note="could not prepare the store holding the base: $(first_error "$logs/base-seed.log")"; return 1; }
  kill_then_again kill-build "$warm_build_seconds" seeded_kill_store kill_build_cmd kill_build_check
}
scenario_kill_push() { kill_then_again kill-push "$push_seconds" registry_wipe kill_push_cmd kill_push_check; }
scenario_kill_pull() { ensure_pushed; kill_then_again kill-pull "$pull_seconds" fresh_kill_store kill_pull_cmd kill_pull_check; }
scenario_kill_preload() {
  fresh_daemon
  local t0=$SECONDS
  sit "$ref_store" preload "$IMAGE" --host "$DOCKER_HOST_FAULTS" >"$logs/ref-preload.log" 2>&1 || { note="reference preload failed: $(first_error "$logs/ref-preload.log")"; return 1; }
  local seconds=$(( $(elapsed_since "$t0") + 1 ))
  preload_id="$(dk image inspect --format '{{.Id}}' "$IMAGE")"
  kill_then_again kill-preload "$seconds" fresh_daemon kill_preload_cmd kill_preload_check
}
scenario_kill_gc() {
  prepare_gc_seed || { note="could not prepare the store with garbage: $(first_error "$logs/gc-seed.log")"; return 1; }
  kill_then_again kill-gc "$gc_seconds" fresh_gc_store kill_gc_cmd kill_gc_check
}

scenario_disk_full() {
  local i size mnt store log ok l orphans
  for ((i = 1; i <= RUNS; i++)); do
    budget_left || { note="stopped by the time limit"; break; }
    size=$(rand_between 16 96)
    mnt="$WORK/tmpfs.$i"
    mkdir -p "$mnt"
    mount -t tmpfs -o "size=${size}m" tmpfs "$mnt"
    store="$mnt/store"
    log="$logs/disk-full.$i.log"
    ok=0 l=0
    # shellcheck disable=SC2046
    if sit "$store" build $(build_args "$REPO" 4.3.0) >"$log" 2>&1; then
      note="${note:+$note; }run $i: the build fit in ${size} MiB"
    elif grep -qi 'no space' "$log" && grep -qF "$store" "$log" && sit "$store" verify >>"$log" 2>&1; then
      orphans="$("$blobs_py" orphans "$store")"
      if [ -z "$orphans" ]; then ok=1; else l=$(cd "$store/blobs/sha256" && du -cb $orphans | tail -n1 | cut -f1); fi
    else
      note="${note:+$note; }run $i (${size} MiB): $(first_error "$log")"
    fi
    umount "$mnt"
    log "  run $i: ${size} MiB, ok=$ok, lost $l"
    count_run "$ok" "$l"
  done
}

scenario_concurrency() {
  local i store a b g ra rb rg ok l
  prepare_base_seed || { note="could not prepare the store holding the base: $(first_error "$logs/base-seed.log")"; return 1; }
  store="$WORK/concurrent-store"
  for ((i = 1; i <= 2 * RUNS; i++)); do
    budget_left || { note="stopped by the time limit"; break; }
    # Only the untagged base to reuse: both builds write every other blob while gc runs (and
    # may remove the base).
    copy_store "$base_seed" "$store"
    # shellcheck disable=SC2046
    { sit "$store" build $(build_args "$REPO" a) >"$logs/concurrency.$i.a.log" 2>&1 & a=$!; }
    # shellcheck disable=SC2046
    { sit "$store" build $(build_args "$REPO" b) >"$logs/concurrency.$i.b.log" 2>&1 & b=$!; }
    sleep "$(rand_delay "$warm_build_seconds")"
    { sit "$store" gc >"$logs/concurrency.$i.gc.log" 2>&1 & g=$!; }
    ra=0 rb=0 rg=0
    wait "$a" || ra=$?
    wait "$b" || rb=$?
    wait "$g" || rg=$?
    ok=0 l=0
    if [ $ra = 0 ] && [ $rb = 0 ] && [ $rg = 0 ] && verified_store "$store" \
        && [ "$(image_digest "$store" "$REPO/spark:a")" = "$ref_digest" ] \
        && [ "$(image_digest "$store" "$REPO/spark:b")" = "$ref_digest" ]; then
      ok=1
    else
      note="${note:+$note; }round $i: build a $ra, build b $rb, gc $rg"
    fi
    l="$(lost_in_layout "$store")"
    log "  round $i: ok=$ok, lost $l"
    count_run "$ok" "$l"
  done
}

# The canary: credentials for the registry's origin (the proxy) that must never reach elsewhere.
canary_user="faults"
canary_password="canary-$(svc_random_password)"
export DOCKER_CONFIG="$WORK/docker-config"
mkdir -p "$DOCKER_CONFIG"
printf '%s' "$canary_password" | timeout 60 "$TOOL" login "$PROXY" -u "$canary_user" --password-stdin >"$logs/login.log" 2>&1 \
  || log "login to $PROXY failed (the canary is not configured): $(first_error "$logs/login.log")"

# Whether the canary (plain, or in a Basic header) reached the other host or a proxied request's log.
canary_leaked() {
  local basic seen
  basic="$(printf '%s:%s' "$canary_user" "$canary_password" | base64 -w0)"
  seen="$(curl --noproxy '*' -sf --max-time 5 "$SIT_FAULT_CONTROL/canary")"
  grep -qF -e "$canary_password" -e "$basic" <<<"$seen"
}

# A lie must be answered by an error within this time (a loop that never ends is a failure).
LIE_TIMEOUT="${FAULTS_LIE_TIMEOUT:-180}"

# lie NAME RULES MODE ERROR_REGEX: one run; MODE pull or push (push into a wiped registry with
# 1 MiB chunks, so every blob is uploaded in PATCHes).
lie() {
  local name="$1" rules="$2" mode="$3" pattern="$4" store="$WORK/$1" log="$logs/$1.log" rc=0 tagged=0 ok=0
  note=""
  proxy_reset
  proxy_plan "$rules"
  if [ "$mode" = pull ]; then
    ensure_pushed
    CMD_TIMEOUT=$LIE_TIMEOUT sit "$store" pull "$PROXY/faults/spark:4.3.0" --retries 2 >"$log" 2>&1 || rc=$?
    [ $rc = 0 ] || [ -z "$(image_digest "$store" "$PROXY/faults/spark:4.3.0" 2>/dev/null)" ] || tagged=1
    sit "$store" verify >>"$log" 2>&1 || tagged=1
  else
    registry_wipe
    copy_store "$ref_store" "$store"
    # The same image named through the proxy (the build reuses the reference's layers).
    # shellcheck disable=SC2046
    sit "$store" build $(build_args "$PROXY/lie" 4.3.0) >"$log.build" 2>&1
    CMD_TIMEOUT=$LIE_TIMEOUT sit "$store" push "$PROXY/lie/spark:4.3.0" --retries 2 --chunk-size 1m >"$log" 2>&1 || rc=$?
    ! skopeo inspect --raw --tls-verify=false "docker://$REG/lie/spark:4.3.0" >/dev/null 2>&1 || tagged=1
  fi
  # A clear error and nothing tagged, or (a registry whose lie can be seen through, such as extra
  # bytes after a blob's size) exactly the reference image; never the canary elsewhere.
  if [ $rc = 0 ] && [ "$mode" = pull ]; then
    store_check "$store" "$PROXY/faults/spark:4.3.0" "$pull_digest" >/dev/null && ok=1
  elif [ $rc != 0 ] && [ $rc != 124 ] && [ $tagged = 0 ] && grep -qiE "$pattern" "$log"; then
    ok=1
  fi
  ! canary_leaked || ok=0
  runs=1 survived=$ok lost=0
  [ $rc != 124 ] || note="timed out after ${LIE_TIMEOUT}s; "
  note="${note}exit $rc, tagged $tagged, $( canary_leaked && echo 'CANARY LEAKED, ' )$(first_error "$log")"
  proxy_reset
}
scenario_lie_size() {
  lie lie-size "{\"rules\": [{\"method\": \"GET\", \"path_regex\": \"/blobs/$largest_digest\", \"action\": \"body\", \"append\": 16}]}" pull 'size|length|digest|bytes'
}
scenario_lie_digest() {
  lie lie-digest "{\"rules\": [{\"method\": \"GET\", \"path_regex\": \"/blobs/$largest_digest\", \"action\": \"body\", \"flip\": true}]}" pull 'digest|sha256'
}
# The registry's origin first asks for Basic credentials (once), so the tool holds the canary in
# its session when the redirect comes.
scenario_lie_redirect() {
  local ask='{"method": "*", "path_regex": "^/v2/(.+/manifests/.*)?$", "action": "status", "status": 401, "times": 1, "headers": {"WWW-Authenticate": "Basic realm=\"faults\""}}'
  lie lie-redirect "{\"rules\": [$ask, {\"method\": \"GET\", \"path_regex\": \"/blobs/$largest_digest\", \"action\": \"status\", \"status\": 307, \"headers\": {\"Location\": \"http://{canary}/storage/blob\"}}]}" pull '401|unauthori|realm|auth|redirect'
}
scenario_lie_range() {
  lie lie-range '{"rules": [{"method": "PATCH", "path_regex": "/blobs/uploads/", "action": "status", "status": 202, "headers": {"Location": "{path}", "Range": "0-0", "Docker-Upload-UUID": "stuck"}}]}' push 'range|advance|progress|offset'
}

for s in "${scenarios[@]}"; do
  run_scenario "$s" "scenario_${s//-/_}"
done

# ---------------------------------------------------------------------------------------------
# The table
# ---------------------------------------------------------------------------------------------
status=0
echo
printf '%-17s %5s %9s %12s  %s\n' scenario runs survived "bytes lost" note
while IFS=$'\t' read -r name r s l n; do
  printf '%-17s %5s %9s %12s  %s\n' "$name" "$r" "$s" "$l" "$n"
  { [ "$l" = 0 ] && [ "$r" = "$s" ] && [ "$r" -gt 0 ]; } || status=1
done <"$table"
echo "reference: $IMAGE $ref_digest ($ref_bytes bytes); seed ${FAULTS_SEED:-$$}; $((SECONDS - T_START)) s"
exit "$status"
}
