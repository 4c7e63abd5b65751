# shellcheck shell=bash
# A two-node "kind" cluster made of real parts, the way the tool meets one in the wild.
#
#   containerd   one Debian containerd per node on this host (root, overlayfs snapshotter, no CRI),
#                each with its own root, state, config and socket directory:
#                SIT_CONTAINERD_NODE1_ADDRESS, SIT_CONTAINERD_NODE2_ADDRESS (socket paths).
#   kind-nodes   on the test dockerd (start `dockerd` first), one node container per containerd,
#                labelled as kind labels its nodes, with that containerd's socket directory at
#                /run/containerd, --network none, sleeping forever. Its image is busybox plus the
#                host's ctr (which links only libc): a few MB where a Debian rootfs with the
#                containerd package would be ~150 MB copied per container by vfs.
#                SIT_KIND_CLUSTER=sit, SIT_KIND_NODES="sit-control-plane sit-worker".
#
# Why not containerd inside the node containers, as in kind: this dockerd cannot start privileged
# containers ("unable to apply caps"), and an unprivileged containerd imports but cannot mount to
# unpack. The node's ctr talks to the host's containerd through the socket, so the tool reaches
# each node exactly as on kind: Engine API exec of the node's `ctr`.

SIT_KIND_CLUSTER_NAME="${SIT_KIND_CLUSTER_NAME:-sit}"
SIT_KIND_NODE_IMAGE="sit-kind-node:ctr"

containerd_launch() {
  local name="$1" dir
  dir="$(svc_dir "$name")"
  mkdir -p "$dir/root" "$dir/state" "$dir/run" "$dir/opt"
  # Only what a kind node's image store needs: the CRI plugin would want CNI, and the other
  # snapshotters only log why they cannot work here.
  cat >"$dir/config.toml" <<EOF
version = 2
root = "$dir/root"
state = "$dir/state"
disabled_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.aufs",
  "io.containerd.snapshotter.v1.devmapper", "io.containerd.tracing.processor.v1.otlp"]
[grpc]
  address = "$dir/run/containerd.sock"
[ttrpc]
  address = "$dir/run/containerd.sock.ttrpc"
[plugins."io.containerd.internal.v1.opt"]
  path = "$dir/opt"
EOF
  svc_spawn "$name" "$dir/containerd.log" containerd --config "$dir/config.toml" || return 1
  svc_wait "$name" 60 timeout 10 ctr --address "$dir/run/containerd.sock" version || return 1
  echo "$dir/run/containerd.sock"
}

start_containerd() {
  command -v containerd >/dev/null || { svc_log "containerd: not installed (scripts/bootstrap.sh installs it)"; return 1; }
  local node sock
  for node in 1 2; do
    sock="$(containerd_launch "containerd-node$node")" || return 1
    svc_export "SIT_CONTAINERD_NODE${node}_ADDRESS" "$sock"
  done
}

# The node image: busybox (static) and the host's ctr with the libraries ldd names.
kind_node_rootfs() {
  local root="$1" lib
  mkdir -p "$root/bin" "$root/usr/bin" "$root/run/containerd" "$root/tmp"
  chmod 1777 "$root/tmp"
  cp /bin/busybox "$root/bin/busybox"
  for applet in sh sleep cat ls; do ln -s busybox "$root/bin/$applet"; done
  cp "$(command -v ctr)" "$root/usr/bin/ctr"
  for lib in $(ldd "$(command -v ctr)" | grep -o '/[^ ]*'); do
    mkdir -p "$root$(dirname "$lib")"
    cp -L "$lib" "$root$lib"
  done
}

start_kind_nodes() {
  [ -n "${SIT_DOCKER_HOST:-}" ] || { svc_log "kind-nodes: needs the dockerd service started before it"; return 1; }
  [ -n "${SIT_CONTAINERD_NODE2_ADDRESS:-}" ] || { svc_log "kind-nodes: needs the containerd service started before it"; return 1; }
  local dir docker
  dir="$(svc_dir kind-nodes)"
  docker=("$SIT_DOCKER_CLI_PATH" -H "$SIT_DOCKER_HOST")
  kind_node_rootfs "$dir/rootfs"
  tar -C "$dir/rootfs" -c . | "${docker[@]}" import --change 'CMD ["/bin/sleep", "2147483647"]' - "$SIT_KIND_NODE_IMAGE" >/dev/null \
    || { svc_log "kind-nodes: docker import of the node image failed"; return 1; }
  local node=1 role name socket nodes=()
  for role in control-plane worker; do
    name="$SIT_KIND_CLUSTER_NAME-$role"
    socket="SIT_CONTAINERD_NODE${node}_ADDRESS"
    "${docker[@]}" run -d --name "$name" --hostname "$name" --network none \
      --label "io.x-k8s.kind.cluster=$SIT_KIND_CLUSTER_NAME" --label "io.x-k8s.kind.role=$role" \
      -v "$(dirname "${!socket}"):/run/containerd" \
      "$SIT_KIND_NODE_IMAGE" >/dev/null || { svc_log "kind-nodes: docker run $name failed"; return 1; }
    # What the tool will do: the node's own ctr reaching its containerd.
    "${docker[@]}" exec "$name" ctr version >/dev/null \
      || { svc_log "kind-nodes: ctr in $name does not reach its containerd"; return 1; }
    nodes+=("$name")
    node=$((node + 1))
  done
  svc_export SIT_KIND_CLUSTER "$SIT_KIND_CLUSTER_NAME"
  svc_export SIT_KIND_NODES "${nodes[*]}"
}
