# shellcheck shell=bash
# Scenario 8: preload into a kind-style node vs what `kind load docker-image` does,
#   docker save IMG | docker exec -i NODE ctr -n k8s.io images import --digests --snapshotter=overlayfs -
# cold (the node's k8s.io namespace emptied), warm (no change) and after one ~1 MiB jar. The node
# is the test services' (scripts/lib/services/containerd.sh): a real containerd on this host and a
# labelled node container on their dockerd whose ctr reaches it, as a kind node's does.
# Needs from bench.sh: repo, BENCH_WORK, logs, dist, BASE, REG, DH, TOOL, runs, docker_runs,
# measure, node_images, node_phases, note, ours, add_jar, dk.

bench_kind_stop() {
  local env="$BENCH_WORK/kind.env"
  [ ! -f "$env" ] || SIT_SERVICES_ENV="$env" "$repo/scripts/services.sh" stop >/dev/null 2>&1
}

bench_kind_scenario() {
  log "10) preload into a kind-style containerd node vs docker save | docker exec NODE ctr images import"
  local kind_env="$BENCH_WORK/kind.env"
  SIT_SERVICES_ENV="$kind_env" "$repo/scripts/services.sh" start --env-file "$kind_env" dockerd containerd kind-nodes \
    >"$logs/kind-services.log" 2>&1 || { tail -n 30 "$logs/kind-services.log" >&2; die "services.sh start (kind nodes) failed"; }
  local store="$BENCH_WORK/stores/kind" image="$REG/kind-ours/spark"
  # shellcheck source=/dev/null
  KIND_DOCKER="$(. "$kind_env"; echo "$SIT_DOCKER_HOST")"
  KIND_NODE="$(. "$kind_env"; echo "${SIT_KIND_NODES%% *}")"
  KIND_CLUSTER="$(. "$kind_env"; echo "$SIT_KIND_CLUSTER")"
  KIND_SOCKET="$(. "$kind_env"; echo "$SIT_CONTAINERD_NODE1_ADDRESS")"
  export KIND_DOCKER KIND_NODE KIND_CLUSTER KIND_SOCKET

  node_images kind 9000 "$store" "$image"   # where `kind load docker-image` takes them from: the main dockerd
  note image.kind_docker_save_bytes "$(dk save "$image:1" | wc -c)"

  kind_empty() { # the node's k8s.io namespace without images, content or snapshots
    local refs
    refs=$(ctr --address "$KIND_SOCKET" -n k8s.io images ls -q)
    # shellcheck disable=SC2086
    [ -z "$refs" ] || ctr --address "$KIND_SOCKET" -n k8s.io images rm --sync $refs >/dev/null
  }
  kind_ours() { ours "$1" preload --host "$KIND_DOCKER" --kind --cluster "$KIND_CLUSTER" --nodes "$KIND_NODE" "$2"; }
  kind_load() { set -o pipefail; dk save "$1" | /usr/bin/docker -H "$KIND_DOCKER" exec -i "$KIND_NODE" ctr -n k8s.io images import --digests --snapshotter=overlayfs -; }
  export -f kind_ours kind_load

  node_phases kind kind_empty kind_ours kind_load "$store" "$image"
  bench_kind_stop
}
