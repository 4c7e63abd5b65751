#!/usr/bin/env bash
# Benchmark: spark-image-tool against Spark's own bin/docker-image-tool.sh (docker build + docker
# push, BuildKit), skopeo copy and docker save | docker load, on Spark 4.3.0 and a Java 17 base.
#
#   scripts/bench.sh [--quick] [--runs N] [--docker-runs N] [--only LIST] [--out DIR] [--keep]
#
#   --quick          1 run per scenario and tool (development)
#   --runs N         runs per scenario for spark-image-tool, skopeo and pigz (default 3)
#   --docker-runs N  runs per scenario for docker (default: --runs)
#   --heavy-docker-runs N  docker runs in scenarios 5 and 6 (full builds of two images, full
#                    save | load; default 1, to stay within 15 minutes on 2 cores)
#   --only LIST      only these scenarios (comma-separated): pigz cold zstd nochange ci pull
#                    pushonly onejar preload py run snapshot kind crio; nochange, ci, pull and onejar add
#                    cold, preload adds onejar (they reuse what it built)
#   --out DIR        where results.md and results.json go (default: <repo>/bench)
#   --keep           keep the work directory (stores, logs) instead of removing it
#
# Sets everything up itself (bootstrap, release build, Spark via fetch-spark.sh, the base images
# via make-base-image.sh, a registry via services.sh, its own dockerd instances) and tears it all
# down on exit. Targets are reported PASS/MISS; the exit status is non-zero only when something
# broke. Environment: SPARK_DISTS_CACHE (fetch-spark.sh's cache; default /work/cache when that
# holds a fetched release, else fetch-spark.sh's default), BENCH_WORK_PARENT (default /tmp).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/.." && pwd)"
# shellcheck source=lib/bench/daemon.sh
. "$here/lib/bench/daemon.sh"
# shellcheck source=lib/bench/kind.sh
. "$here/lib/bench/kind.sh"
# shellcheck source=lib/bench/crio.sh
. "$here/lib/bench/crio.sh"
# shellcheck source=lib/bench/containerd.sh
. "$here/lib/bench/containerd.sh"
# shellcheck source=lib/spark-inputs.sh
. "$here/lib/spark-inputs.sh"

orig_args="$*"
heavy_docker_runs=1
runs=3 docker_runs="" out="$repo/bench" keep=0 quick=0 only=""
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) quick=1; runs=1 ;;
    --runs) runs="$2"; shift ;;
    --docker-runs) docker_runs="$2"; shift ;;
    --heavy-docker-runs) heavy_docker_runs="$2"; shift ;;
    --only) only="$2"; shift ;;
    --out) out="$2"; shift ;;
    --keep) keep=1 ;;
    -h|--help) sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "bench: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done
[ -n "$docker_runs" ] || docker_runs=$runs
[ "$heavy_docker_runs" -le "$docker_runs" ] 2>/dev/null || heavy_docker_runs=$docker_runs
[[ $runs =~ ^[1-9][0-9]*$ && $docker_runs =~ ^[1-9][0-9]*$ && $heavy_docker_runs =~ ^[1-9][0-9]*$ ]] || { echo "bench: --runs/--docker-runs need a positive number" >&2; exit 2; }
want() { [ -z "$only" ] || [[ ",$only," == *",$1,"* ]]; }
for scenario in ${only//,/ }; do
  case "$scenario" in
    pigz|cold|zstd|nochange|ci|pull|pushonly|onejar|preload|py|run|snapshot|kind|crio) ;;
    *) echo "bench: unknown scenario '$scenario' for --only (see --help)" >&2; exit 2 ;;
  esac
done
if [ -n "$only" ]; then
  ! want preload || only+=",onejar"
  for scenario in nochange ci pull onejar; do ! want "$scenario" || only+=",cold"; done
fi

T_START=$(date +%s.%N)
log() { printf '[bench %5.0fs] %s\n' "$(echo "$(date +%s.%N) - $T_START" | bc)" "$*" >&2; }
die() { echo "bench: ERROR: $*" >&2; exit 1; }

# ---------------------------------------------------------------------------------------------
# Setup
# ---------------------------------------------------------------------------------------------
log "bootstrap (Debian packages)"
"$repo/scripts/bootstrap.sh"
for c in /usr/bin/time bc jq pigz skopeo dockerd /usr/bin/docker python3 containerd ctr; do
  command -v "$c" >/dev/null || die "$c is missing after bootstrap"
done

BENCH_WORK="$(mktemp -d "${BENCH_WORK_PARENT:-/tmp}/sit-bench.XXXXXX")"
export BENCH_WORK
services_env="$BENCH_WORK/services.env"
cleanup() {
  local rc=$?
  set +e
  bench_daemon_stop_all
  [ -z "${shm_work:-}" ] || rm -rf "$shm_work"
  bench_kind_stop
  bench_containerd_stop_all
  [ -f "$services_env" ] && SIT_SERVICES_ENV="$services_env" "$repo/scripts/services.sh" stop >/dev/null 2>&1
  if [ "$keep" = 1 ]; then
    echo "bench: kept $BENCH_WORK" >&2
  else
    rm -rf "$BENCH_WORK"
  fi
  [ $rc -eq 0 ] || echo "bench: failed (exit $rc); logs were in $BENCH_WORK/logs (use --keep to keep them)" >&2
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM
logs="$BENCH_WORK/logs"
mkdir -p "$logs" "$BENCH_WORK/stores" "$BENCH_WORK/bin"
runs_file="$BENCH_WORK/runs.jsonl"
: >"$runs_file"

log "release build of spark-image-tool"
(cd "$repo" && swift build -c release --product spark-image-tool >"$logs/swift-build.log" 2>&1) \
  || { tail -n 30 "$logs/swift-build.log" >&2; die "swift build failed"; }
TOOL="$(cd "$repo" && swift build -c release --show-bin-path)/spark-image-tool"
[ -x "$TOOL" ] || die "no binary at $TOOL"

spark_inputs_use_shared_cache
log "Spark 4.3.0 (fetch-spark.sh, SPARK_DISTS_CACHE=${SPARK_DISTS_CACHE:-default})"
src_dist="$("$repo/scripts/fetch-spark.sh" 4.3.0)"
log "base images (make-base-image.sh, cached after the first time)"
base_tar="$("$repo/scripts/make-base-image.sh")"
! want py || pybase_tar="$("$repo/scripts/make-base-image.sh" --python)"
# Debian's minbase with apt and the JRE, for the RUN scenario's apt-get.
! want run || aptbase_tar="$("$repo/scripts/make-base-image.sh" --apt)"

# Our own copy of the distribution (hard links: no data copied) whose kubernetes/dockerfiles are
# this checkout's dockerfiles/, i.e. exactly the Dockerfiles built into the tool: both tools build
# the same COPY-only Dockerfile. Scenario 3 adds jars to this copy.
dist="$BENCH_WORK/spark-4.3.0"
spark_inputs_copy "$repo" "$src_dist" "$dist"
[ -x "$dist/bin/docker-image-tool.sh" ] || die "$dist/bin/docker-image-tool.sh is missing"

log "services: registry"
SIT_SERVICES_ENV="$services_env" "$repo/scripts/services.sh" start --env-file "$services_env" registry >"$logs/services.log" 2>&1 \
  || { cat "$logs/services.log" >&2; die "services.sh start failed"; }
# shellcheck source=/dev/null
. "$services_env"
REG="$SIT_REGISTRY"
reg_blobs="$SIT_WORK/registry/data/docker/registry/v2/blobs"

# docker-image-tool.sh runs `docker` from PATH: Debian's 20.10 CLI first (/usr/local/bin may
# hold a newer one that would want buildx).
ln -s /usr/bin/docker "$BENCH_WORK/bin/docker"
export PATH="$BENCH_WORK/bin:$PATH"
export DOCKER_BUILDKIT=1

log "main dockerd (overlay2)"
DH="$(bench_daemon_start main)"
dk() { /usr/bin/docker -H "$DH" "$@"; }
base_path='ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'
import_base() { # import_base TAG TAR: into the main dockerd as eclipse-temurin:TAG, and pushed to $REG
  dk import --change "$base_path" "$2" "eclipse-temurin:$1" >>"$logs/import.log"
  dk tag "eclipse-temurin:$1" "$REG/eclipse-temurin:$1"
  dk push "$REG/eclipse-temurin:$1" >>"$logs/import.log" 2>&1 || { tail "$logs/import.log" >&2; die "docker push of the base failed"; }
}
log "importing the bases into dockerd and pushing them to $REG"
import_base 17-jre "$base_tar"
! want py || import_base 17-jre-python "$pybase_tar"
! want run || import_base 17-jre-apt "$aptbase_tar"

# ---------------------------------------------------------------------------------------------
# Measuring
# ---------------------------------------------------------------------------------------------
reg_bytes() { if [ -d "$reg_blobs" ]; then du -sb "$reg_blobs" | cut -f1; else echo 0; fi; }

# measure SCENARIO TOOL RUN CMD... : wall time (date, ns), peak RSS and CPU time (/usr/bin/time
# %M, %U + %S, of the command and its waited-for children: on the shared cores the CPU time says
# what the wall time would be without the others' load), registry storage growth, and for
# `preload` the bytes it reports sent. Output of CMD goes to $logs/SCENARIO.TOOL.RUN.log.
measure() {
  local scen="$1" tool="$2" run="$3"
  shift 3
  local lf="$logs/$scen.$tool.$run.log" before after t0 t1 rss user sys sent
  # Earlier runs' dirty pages are written back now, not during this run.
  sync
  before=$(reg_bytes)
  t0=$(date +%s.%N)
  if ! /usr/bin/time -f '%M %U %S' -o "$lf.rss" bash -c '"$@"' bench "$@" >"$lf" 2>&1; then
    tail -n 30 "$lf" >&2
    die "$scen/$tool run $run failed: $*"
  fi
  t1=$(date +%s.%N)
  after=$(reg_bytes)
  read -r rss user sys < <(tail -n 1 "$lf.rss")
  sent=$(sed -n 's/.*sent .* (\([0-9]*\) bytes) to \(the daemon\|node \).*/\1/p' "$lf" | awk '{ s += $1 } END { print s + 0 }')
  jq -nc --arg s "$scen" --arg t "$tool" --argjson r "$run" --argjson sec "$(echo "$t1 - $t0" | bc)" \
    --argjson up "$((after - before))" --argjson rss "$rss" --argjson sent "$sent" --argjson cpu "$(awk -v u="$user" -v s="$sys" 'BEGIN { printf "%.2f", u + s }')" \
    '{scenario: $s, tool: $t, run: $r, seconds: $sec, uploaded: $up, rss_kb: $rss, sent: $sent, cpu_seconds: $cpu}' >>"$runs_file"
  printf '    %-14s %-10s run %d: %6.2f s, +%s B in the registry, peak RSS %s kB\n' "$scen" "$tool" "$run" "$(echo "$t1 - $t0" | bc)" "$((after - before))" "$rss" >&2
}
note() { jq -nc --arg k "$1" --arg v "$2" '{note: $k, value: $v}' >>"$runs_file"; }
# node_images NAME JAR STORE IMAGE: not timed, IMAGE:jar (with one extra jar, bench-extra-JAR) and
# IMAGE:1 (without) built into STORE and loaded into the main dockerd, where the competitors of a
# node scenario take them from.
node_images() {
  local name="$1" jar="$2" store="$3" image="$4" log="$logs/$1.build.log"
  add_jar "$jar"
  ours "$store" build --spark-home "$dist" -r "${image%/spark}" -t jar --base "$BASE" >"$log" 2>&1 \
    && rm "$dist/jars/bench-extra-$jar.jar" \
    && ours "$store" build --spark-home "$dist" -r "${image%/spark}" -t 1 --base "$BASE" >>"$log" 2>&1 \
    && ours "$store" preload --host "$DH" "$image:1" "$image:jar" >>"$log" 2>&1 \
    || { tail -n 30 "$log" >&2; die "building the $name scenario's images failed"; }
}
# node_phases NAME EMPTY OURS THEIRS STORE IMAGE: a preload scenario's three phases into one node,
# ours then the competitor: cold (after EMPTY), warm (IMAGE:1 again) and after one jar (IMAGE:jar).
node_phases() {
  local name="$1" empty="$2" ours_load="$3" their_load="$4" store="$5" image="$6" i
  for i in $(seq 1 "$runs"); do
    "$empty"
    measure "$name-cold" ours "$i" "$ours_load" "$store" "$image:1"
    measure "$name-warm" ours "$i" "$ours_load" "$store" "$image:1"
    measure "$name-onejar" ours "$i" "$ours_load" "$store" "$image:jar"
  done
  for i in $(seq 1 "$docker_runs"); do
    "$empty"
    measure "$name-cold" docker "$i" "$their_load" "$image:1"
    measure "$name-warm" docker "$i" "$their_load" "$image:1"
    measure "$name-onejar" docker "$i" "$their_load" "$image:jar"
  done
  "$empty"
}

# The tool with a given store.
ours() { local store="$1" sub="$2"; shift 2; "$TOOL" "$sub" --store "$store" "$@"; }
# docker-image-tool.sh of the distribution, against DOCKER_HOST=$1.
dit() { local host="$1"; shift; SPARK_HOME="$dist" DOCKER_HOST="$host" "$dist/bin/docker-image-tool.sh" "$@"; }
dit_build_push() { local host="$1"; shift; dit "$host" "$@" build && dit "$host" "$@" push; }
# Back to "empty local cache" for docker: no build cache, no images but the bases.
docker_clean() {
  dk builder prune -af >/dev/null
  local imgs
  imgs=$(dk images --format '{{.Repository}}:{{.Tag}}' | grep -v '^eclipse-temurin:' | grep -v '<none>' || true)
  # shellcheck disable=SC2086
  [ -z "$imgs" ] || dk rmi -f $imgs >/dev/null
  dk image prune -f >/dev/null
}
add_jar() { # add_jar N: a ~1 MiB jar (stored zip of seeded random bytes) named bench-extra-N.jar
  python3 - "$dist/jars/bench-extra-$1.jar" "$1" <<'EOF'
import random, sys, zipfile
r = random.Random(int(sys.argv[2]))
with zipfile.ZipFile(sys.argv[1], "w", zipfile.ZIP_STORED) as z:
    z.writestr("META-INF/MANIFEST.MF", "Manifest-Version: 1.0\n")
    z.writestr("bench/data.bin", r.randbytes(1 << 20))
EOF
}

# measure runs its command in a child bash: it needs these.
export -f ours dit dit_build_push docker_clean dk
export TOOL dist DH REG

note machine.nproc "$(nproc)"
note machine.mem "$(free -h | awk '/^Mem:/ { print $2 }')"
note machine.cpu "$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)"
note machine.kernel "$(uname -r)"
note machine.docker_cli "$(/usr/bin/docker --version)"
note machine.dockerd "$(dockerd --version)"
note machine.storage_driver "$(dk info --format '{{.Driver}}')"
note machine.skopeo "$(skopeo --version)"
note machine.load_start "$(cut -d' ' -f1-3 /proc/loadavg)"
note dist.jars_bytes "$(du -sb "$dist/jars" | cut -f1)"
note dist.jar_count "$(find "$dist/jars" -name '*.jar' | wc -l)"
note settings.runs "$runs"
note settings.docker_runs "$docker_runs"
note settings.heavy_docker_runs "$heavy_docker_runs"
note tool.commit "$(cd "$repo" && git rev-parse --short HEAD)"

# ---------------------------------------------------------------------------------------------
# Scenarios
# ---------------------------------------------------------------------------------------------
BASE="$REG/eclipse-temurin:17-jre"
PYBASE="$REG/eclipse-temurin:17-jre-python"

finish() {
  note machine.load_end "$(cut -d' ' -f1-3 /proc/loadavg)"
  elapsed=$(echo "$(date +%s.%N) - $T_START" | bc)
  note elapsed_seconds "$elapsed"
  mkdir -p "$out"
  python3 "$here/lib/bench/report.py" "$runs_file" "$out/results.json" "$out/results.md" "scripts/bench.sh${orig_args:+ $orig_args}"
  log "total elapsed: $(printf '%.0f' "$elapsed") s; results in $out/results.md and $out/results.json"
}

! want kind || bench_kind_scenario
! want crio || bench_crio_scenario

if want pigz; then
log "reference: tar of jars/ | pigz -p 2 -6"
for i in $(seq 1 "$runs"); do
  measure pigz pigz "$i" bash -c "tar -cf - -C '$dist' jars | pigz -p 2 -6 >/dev/null"
done
fi

if want cold; then
log "1) cold build+push, empty local cache, base in the registry"
for i in $(seq 1 "$runs"); do
  measure cold ours "$i" ours "$BENCH_WORK/stores/cold-$i" build --spark-home "$dist" -r "$REG/cold-ours-$i" -t 1 --base "$BASE" --push
done
for i in $(seq 1 "$docker_runs"); do
  docker_clean
  measure cold docker "$i" dit_build_push "$DH" -r "$REG/cold-docker-$i" -t 1
done
if grep -q '^#1 \[internal\] load' "$logs/cold.docker.1.log"; then builder="BuildKit (DOCKER_BUILDKIT=1, built into dockerd 20.10)"
elif grep -q '^Step 1/' "$logs/cold.docker.1.log"; then builder="legacy builder"
else builder="unknown (see cold.docker.1.log)"; fi
note docker.builder "$builder"
log "    docker builder: $builder"
fi

if want zstd; then
log "1b) cold build+push with --compression zstd"
zstd_err="$logs/cold-zstd.probe.log"
# A build that must fail: if zstd is refused, the refusal names it; otherwise the missing
# distribution is what fails, and zstd is measured.
if ! ours "$BENCH_WORK/stores/zstd-probe" build --spark-home "/nonexistent-$$" -r "$REG/zstd-probe" -t 1 --base "$BASE" --compression zstd >"$zstd_err" 2>&1 \
   && grep -qi 'zstd' "$zstd_err"; then
  note zstd "unsupported: $(grep -i zstd "$zstd_err" | head -n 1)"
  log "    unsupported: $(grep -i zstd "$zstd_err" | head -n 1)"
else
  for i in $(seq 1 "$runs"); do
    measure cold-zstd ours "$i" ours "$BENCH_WORK/stores/zstd-$i" build --spark-home "$dist" -r "$REG/zstd-ours-$i" -t 1 --base "$BASE" --compression zstd --push
  done
  note zstd "supported"
fi
fi

last_ours_store="$BENCH_WORK/stores/cold-$runs"
last_ours_repo="$REG/cold-ours-$runs"
last_docker_repo="$REG/cold-docker-$docker_runs"
if want nochange; then
log "2) rebuild+push, no change"
for i in $(seq 1 "$runs"); do
  measure nochange ours "$i" ours "$last_ours_store" build --spark-home "$dist" -r "$last_ours_repo" -t 1 --base "$BASE" --push
done
for i in $(seq 1 "$docker_runs"); do
  measure nochange docker "$i" dit_build_push "$DH" -r "$last_docker_repo" -t 1
done
fi

if want ci; then
log "4) CI: fresh store / fresh daemon, the registry already holds the release under the previous tag"
for i in $(seq 1 "$runs"); do
  measure ci ours "$i" ours "$BENCH_WORK/stores/ci-$i" build --spark-home "$dist" -r "$last_ours_repo" -t "ci-$i" --base "$BASE" --push
done
ci_docker() { # a daemon with an empty data-root: pull the base from the registry, build, push
  local host="$1" tag="$2"
  /usr/bin/docker -H "$host" pull "$BASE" && /usr/bin/docker -H "$host" tag "$BASE" eclipse-temurin:17-jre \
    && dit_build_push "$host" -r "$last_docker_repo" -t "$tag"
}
export -f ci_docker
export BASE last_docker_repo
for i in $(seq 1 "$docker_runs"); do
  ch="$(bench_daemon_start "ci-$i")"
  measure ci docker "$i" ci_docker "$ch" "ci-$i"
  bench_daemon_stop "ci-$i"
done
fi

if want pull; then
log "7) docker pull and ctr pull into an empty daemon: split jars (the default) vs the jars in one layer"
unsplit_repo="$REG/unsplit-ours"
ours "$BENCH_WORK/stores/unsplit" build --spark-home "$dist" -r "$unsplit_repo" -t 1 --base "$BASE" --no-split-layers --push \
  >"$logs/unsplit.build.log" 2>&1 || { tail "$logs/unsplit.build.log" >&2; die "build --no-split-layers failed"; }
layer_count() { skopeo inspect --tls-verify=false --raw "docker://$1" | jq '.layers | length'; }
note image.layers_split "$(layer_count "$last_ours_repo/spark:1")"
note image.layers_unsplit "$(layer_count "$unsplit_repo/spark:1")"
for i in $(seq 1 "$runs"); do
  for variant in split unsplit; do
    ref="$last_ours_repo/spark:1"
    [ "$variant" = split ] || ref="$unsplit_repo/spark:1"
    ph="$(bench_daemon_start "pull-$variant-$i")"
    measure pull "$variant" "$i" /usr/bin/docker -H "$ph" pull "$ref"
    bench_daemon_stop "pull-$variant-$i"
    # What a kind node's containerd does for a pod: fetch, then unpack into overlayfs snapshots.
    sock="$(bench_containerd_start "pull-ctr-$variant-$i")"
    measure pull-ctr "$variant" "$i" ctr --address "$sock" -n k8s.io images pull --plain-http "$ref"
    bench_containerd_stop "pull-ctr-$variant-$i"
  done
done
fi

if want pushonly; then
log "push only: an existing OCI layout (our store) -> registry; ours vs skopeo copy"
# One store; each run re-tags the cached layers under a fresh repository (a no-change build, not
# timed) so that every push goes to an empty repository.
s="$BENCH_WORK/stores/pushonly"
for i in $(seq 1 "$runs"); do
  ours "$s" build --spark-home "$dist" -r "$REG/pushonly-ours-$i" -t 1 --base "$BASE" >"$logs/pushonly.build.$i.log" 2>&1 \
    || { tail "$logs/pushonly.build.$i.log" >&2; die "build for push-only failed"; }
  measure pushonly ours "$i" ours "$s" push "$REG/pushonly-ours-$i/spark:1"
  ref=$(jq -r '[.manifests[] | select(.annotations["io.containerd.image.name"] | tostring | endswith("/spark:1"))][0].annotations["org.opencontainers.image.ref.name"]' "$s/index.json")
  measure pushonly skopeo "$i" skopeo copy --quiet --dest-tls-verify=false "oci:$s:$ref" "docker://$REG/pushonly-skopeo-$i/spark:1"
done
fi

if want onejar; then
log "3) rebuild+push after adding one ~1 MiB jar"
for i in $(seq 1 "$(( runs > docker_runs ? runs : docker_runs ))"); do
  add_jar "$i"
  if [ "$i" -le "$runs" ]; then
    measure onejar ours "$i" ours "$last_ours_store" build --spark-home "$dist" -r "$last_ours_repo" -t "jar-$i" --base "$BASE" --push
  fi
  if [ "$i" -le "$docker_runs" ]; then
    measure onejar docker "$i" dit_build_push "$DH" -r "$last_docker_repo" -t "jar-$i"
  fi
done
# The jars of the image built without extra jars: the layers of `COPY jars` (several when split).
jars_layer=$(python3 - "$last_ours_store" <<'EOF'
import json, sys
store = sys.argv[1]
def blob(d): return json.load(open(f"{store}/blobs/{d.replace(':', '/')}"))
for m in json.load(open(f"{store}/index.json"))["manifests"]:
    if m.get("annotations", {}).get("io.containerd.image.name", "").endswith("/spark:1"):
        man = blob(m["digest"])
        if "manifests" in man:
            man = blob(man["manifests"][0]["digest"])
        history = [h for h in blob(man["config"]["digest"])["history"] if not h.get("empty_layer")]
        print(sum(layer["size"] for layer, h in zip(man["layers"], history) if "COPY jars " in h.get("created_by", "")))
        break
EOF
)
note image.jars_layer_bytes "$jars_layer"
fi

if want preload; then
log "6) preload into a Docker daemon: cold (empty daemon), warm (no change), after one jar"
for i in $(seq 1 "$runs"); do
  ph="$(bench_daemon_start "preload-ours-$i")"
  measure preload-cold ours "$i" ours "$last_ours_store" preload --host "$ph" "$last_ours_repo/spark:1"
  measure preload-warm ours "$i" ours "$last_ours_store" preload --host "$ph" "$last_ours_repo/spark:1"
  measure preload-onejar ours "$i" ours "$last_ours_store" preload --host "$ph" "$last_ours_repo/spark:jar-1"
  bench_daemon_stop "preload-ours-$i"
done
save_load() { set -o pipefail; dk save "$2" | /usr/bin/docker -H "$1" load; }
export -f save_load
for i in $(seq 1 "$heavy_docker_runs"); do
  ph="$(bench_daemon_start "preload-docker-$i")"
  measure preload-cold docker "$i" save_load "$ph" "$last_docker_repo/spark:1"
  measure preload-warm docker "$i" save_load "$ph" "$last_docker_repo/spark:1"
  measure preload-onejar docker "$i" save_load "$ph" "$last_docker_repo/spark:jar-1"
  bench_daemon_stop "preload-docker-$i"
done
note image.docker_save_bytes "$(dk save "$last_docker_repo/spark:1" | wc -c)"
# The image as stored (its blobs): what "<= 15% of the image" is of. A cold preload sends more,
# the base inflated.
ours "$last_ours_store" save "$last_ours_repo/spark:1" -o "$BENCH_WORK/preload-image.tar" >/dev/null
note image.ours_archive_bytes "$(stat -c %s "$BENCH_WORK/preload-image.tar")"
rm -f "$BENCH_WORK/preload-image.tar"
fi

if want py; then
log "5) spark + spark-py (python base for both tools)"
for i in $(seq 1 "$runs"); do
  measure py-spark ours "$i" ours "$BENCH_WORK/stores/py-spark-$i" build --spark-home "$dist" -r "$REG/py-spark-ours-$i" -t 1 --base "$PYBASE" --push
  measure py-both ours "$i" ours "$BENCH_WORK/stores/py-both-$i" build --spark-home "$dist" -r "$REG/py-both-ours-$i" -t 1 --base "$PYBASE" --python --push
done
for i in $(seq 1 "$heavy_docker_runs"); do
  docker_clean
  measure py-both docker "$i" dit_build_push "$DH" -r "$REG/py-both-docker-$i" -t 1 -b java_image_tag=17-jre-python \
    -p "$dist/kubernetes/dockerfiles/spark/bindings/python/Dockerfile"
done
fi

if want run; then
log "8) RUN: the stock-style Dockerfile with its apt step; ours vs docker-image-tool.sh (BuildKit), build+push"
APTBASE="$REG/eclipse-temurin:17-jre-apt"
stock_dockerfile="$repo/Tests/Fixtures/stock-style/Dockerfile"
apt_run_line=$(grep -n '^RUN' "$stock_dockerfile" | head -n 1 | cut -d: -f1)
# BuildKit runs a RUN on dockerd's bridge network, which the bench's dockerd has not
# (--bridge=none), so apt-get would reach nothing. This `docker`, first on PATH for
# docker-image-tool.sh here, adds --network host to `docker build`: BuildKit's RUNs then use the
# host's network, as ours do by default. Both download the same packages from the same mirror
# (the base's sources.list): no apt cache on either side.
mkdir -p "$BENCH_WORK/bin-hostnet"
cat >"$BENCH_WORK/bin-hostnet/docker" <<'EOF'
#!/bin/sh
if [ "$1" = build ]; then shift; exec /usr/bin/docker build --network host "$@"; fi
exec /usr/bin/docker "$@"
EOF
chmod +x "$BENCH_WORK/bin-hostnet/docker"
note run.docker_network "docker build --network host (a docker wrapper on docker-image-tool.sh's PATH)"
# stock_ours STORE REPO TAG / stock_docker REPO TAG: build and push the stock-style image.
stock_ours() { ours "$1" build --spark-home "$dist" -f "$stock_dockerfile" -r "$2" -t "$3" --base "$APTBASE" --push; }
stock_docker() {
  PATH="$BENCH_WORK/bin-hostnet:$PATH" dit_build_push "$DH" -r "$1" -t "$2" -f "$stock_dockerfile" -b java_image_tag=17-jre-apt
}
export -f stock_ours stock_docker
export stock_dockerfile APTBASE

log "8a) cold: a fresh store / docker builder prune -af"
for i in $(seq 1 "$runs"); do
  measure run-cold ours "$i" stock_ours "$BENCH_WORK/stores/run-$i" "$REG/run-ours-$i" 1
done
for i in $(seq 1 "$docker_runs"); do
  docker_clean
  measure run-cold docker "$i" stock_docker "$REG/run-docker-$i" 1
done

log "8b) after one jar changes (the apt RUN must not run again; the RUN after COPY jars does, for both)"
for i in $(seq 1 "$(( runs > docker_runs ? runs : docker_runs ))"); do
  add_jar "$((100 + i))"
  if [ "$i" -le "$runs" ]; then
    measure run-onejar ours "$i" stock_ours "$BENCH_WORK/stores/run-$runs" "$REG/run-ours-$runs" "jar-$i"
    ! grep -q "^#$apt_run_line " "$logs/run-onejar.ours.$i.log" || die "the apt RUN (line $apt_run_line) ran again after a jar changed: $logs/run-onejar.ours.$i.log"
  fi
  if [ "$i" -le "$docker_runs" ]; then
    measure run-onejar docker "$i" stock_docker "$REG/run-docker-$docker_runs" "jar-$i"
  fi
done
note run.apt_rerun_after_jar "no (no '#$apt_run_line ' output line in any run)"
grep -q '^#1 \[internal\] load' "$logs/run-cold.docker.1.log" || die "docker did not build with BuildKit: $logs/run-cold.docker.1.log"

log "8c) a cached RUN's cost: no-change rebuilds of 21 cached RUNs vs 1 cached RUN"
cached_store="$BENCH_WORK/stores/run-cached"
for n in 1 21; do
  { echo "FROM scratch"; for k in $(seq 1 "$n"); do echo "RUN echo step $k"; done; } >"$BENCH_WORK/run-cached-$n.Dockerfile"
  ours "$cached_store" build --spark-home "$dist" -f "$BENCH_WORK/run-cached-$n.Dockerfile" -t "cached-$n" --base "$APTBASE" \
    >"$logs/run-cached.setup-$n.log" 2>&1 || { tail "$logs/run-cached.setup-$n.log" >&2; die "the build of $n RUNs failed"; }
done
for i in $(seq 1 "$(( runs < 5 ? 5 : runs ))"); do
  for n in 1 21; do
    measure run-cached "runs-$n" "$i" ours "$cached_store" build --spark-home "$dist" -f "$BENCH_WORK/run-cached-$n.Dockerfile" -t "cached-$n" --base "$APTBASE"
    grep -q "(0 built, $n cached)" "$logs/run-cached.runs-$n.$i.log" || die "a no-change rebuild of $n RUNs was not all cache hits: $logs/run-cached.runs-$n.$i.log"
  done
done
fi

if want snapshot; then
log "9) snapshot: the JRE base's layer unpacked for RUN's overlay, on ext4 and on tmpfs, vs tar -xzf of the same blob"
# Timed as the difference between `build -n` of FROM base + RUN true without and with the
# snapshot present (-n: the RUN runs each time; the base is in the store). Earlier trees are moved
# aside, not deleted, until the end: ext4 without a journal (as here) skips the inodes deleted in
# the last 30 s one by one when it allocates new ones, which a first snapshot does not meet.
printf 'FROM scratch\nRUN true\n' >"$BENCH_WORK/snapshot.Dockerfile"
snap_build() { ours "$1" build --spark-home "$dist" -f "$BENCH_WORK/snapshot.Dockerfile" -r "$REG/snapshot" -t snapshot --base "$BASE" -n; }
export -f snap_build
export BASE
shm_work="$(mktemp -d /dev/shm/sit-bench.XXXXXX)"
for fs in ext4 tmpfs; do
  s="$BENCH_WORK/stores/snapshot"
  [ "$fs" = ext4 ] || s="$shm_work/store"
  snap_build "$s" >"$logs/snapshot.$fs.setup.log" 2>&1 || { tail "$logs/snapshot.$fs.setup.log" >&2; die "the snapshot build failed"; }
  note "snapshot.$fs.fstype" "$(findmnt -n -o FSTYPE -T "$s" | head -n 1)"
  manifest=$(jq -r '.manifests[] | select(.annotations["io.containerd.image.name"] | tostring | endswith("/spark:snapshot")) | .digest' "$s/index.json" | head -n 1)
  blob="$s/blobs/$(jq -r '.layers[0].digest' "$s/blobs/${manifest/://}" | tr : /)"
  note snapshot.layer_bytes "$(stat -c %s "$blob")"
  mkdir -p "$s/aside"
  for i in $(seq 1 "$runs"); do
    mv "$s/snapshots" "$s/aside/snapshots-$i"
    measure "snapshot-$fs" unpack "$i" snap_build "$s"
    measure "snapshot-$fs" reuse "$i" snap_build "$s"
    mkdir "$s/aside/tar-$i"
    measure "snapshot-$fs" tar "$i" tar -xzf "$blob" -C "$s/aside/tar-$i"
  done
  rm -rf "$s/aside"
done
fi

finish
