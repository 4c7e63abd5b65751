# shellcheck shell=bash
# Scenario 11: preload into a cri-o node (minikube's cri-o runtime on a VM driver) vs what
# `minikube image load` does there,
#   docker save IMG | sudo podman load        (through the VM's ssh)
# cold (the node's storage emptied), warm (no change) and after one ~1 MiB jar. The node is this
# machine's real podman on a storage of its own (overlay driver); ours reaches it through a
# `minikube` on PATH that answers `profile list` with a kvm2/cri-o profile and runs `ssh -- CMD`
# locally, as the VM would. No real VM: the ssh hop (the same for both tools) is left out.
# Needs from bench.sh: BENCH_WORK, logs, dist, BASE, REG, DH, runs, docker_runs, measure,
# node_images, node_phases, note, ours, add_jar, dk.

bench_crio_scenario() {
  log "11) preload into a cri-o node (podman) through minikube ssh vs docker save | podman load (minikube image load)"
  local store="$BENCH_WORK/stores/crio" image="$REG/crio-ours/spark"
  CRIO_STORAGE="$BENCH_WORK/crio-storage"
  CRIO_BIN="$BENCH_WORK/crio-bin"
  export CRIO_STORAGE CRIO_BIN
  mkdir -p "$CRIO_BIN"
  cat >"$CRIO_BIN/podman" <<EOS
#!/bin/sh
exec /usr/bin/podman --root "$CRIO_STORAGE/root" --runroot "$CRIO_STORAGE/run" --storage-driver overlay "\$@"
EOS
  cat >"$CRIO_BIN/minikube" <<'EOS'
#!/bin/sh
case "$*" in *"profile list -o json"*)
  echo '{"valid":[{"Name":"bench","Config":{"Driver":"kvm2","KubernetesConfig":{"ContainerRuntime":"cri-o"},"Nodes":[{"Name":""}]}}]}'
  exit 0;; esac
while [ $# -gt 0 ]; do case "$1" in --) shift; break;; *) shift;; esac; done
command="$*"
exec sh -c "${command#sudo }"
EOS
  chmod +x "$CRIO_BIN/podman" "$CRIO_BIN/minikube"

  node_images crio 9100 "$store" "$image"   # where `minikube image load` takes them from: the main dockerd
  note machine.podman "$(podman --version)"

  crio_empty() { "$CRIO_BIN/podman" rmi --all --force >/dev/null 2>&1 || true; }
  crio_ours() { PATH="$CRIO_BIN:$PATH" ours "$1" preload --minikube --profile bench "$2"; }
  crio_load() { set -o pipefail; dk save "$1" | "$CRIO_BIN/podman" load; }
  export -f crio_ours crio_load

  node_phases crio crio_empty crio_ours crio_load "$store" "$image"
  rm -rf "$CRIO_STORAGE"
}
