#!/usr/bin/env bash
# Installs every Debian package the project, its tests and its scripts need. Safe to run again:
# it only calls apt-get when something is missing.
set -euo pipefail

packages=(
  # C libraries we link against
  libarchive-dev libcurl4-openssl-dev libssl-dev zlib1g-dev libisal-dev pkg-config
  # test peers and validators nobody here wrote
  docker-registry docker.io skopeo umoci containerd
  # preload into cri-o nodes: podman writes the containers/storage CRI-O reads; minikube ssh
  # (VM drivers) passes binary stdin unchanged only through the ssh program
  podman openssh-client
  # base images (make-base-image.sh) and the tiny test base
  mmdebstrap busybox-static
  # services.sh: umount of what dockerd leaves below its work dir
  mount
  # RUN: OCI runtimes (crun preferred, runc tested too); unshare and setpriv (rootless tests);
  # newuidmap/newgidmap for rootless subordinate id ranges
  crun runc util-linux uidmap
  # test certificates, htpasswd, compression references for the benchmark
  openssl apache2-utils pigz zstd
  # the decompressors ADD reads (gzip, bzip2, xz, zstd), checked on archives these tools make
  bzip2 xz-utils
  # sbom tests: small real jars (zip files with pom.properties)
  zip
  # token server and fault proxy (scripts/lib/*.py run on Debian's /usr/bin/python3)
  python3-cryptography
  # the CI examples in docs/ci.md are parsed as YAML by the tests
  python3-yaml
  # .source/.revision annotation tests make git checkouts; `script` gives the progress test a TTY
  git bsdutils
  # pyspark from PyPI for the quickstart
  python3 python3-pip ca-certificates curl jq
  # scripts/bench.sh: peak RSS (/usr/bin/time) and arithmetic on times
  time bc
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

sudo_cmd=()
[ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)

if [ ${#missing[@]} -gt 0 ]; then
  echo "bootstrap: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  "${sudo_cmd[@]}" apt-get update -qq
  "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Rootless RUN tests run as this user: no login, no home, and a subordinate id range so that ids
# other than root exist in its user namespace (mapped by newuidmap from uidmap). `|| id` lets a
# concurrent bootstrap win the race.
rootless_user=sit-rootless
id "$rootless_user" >/dev/null 2>&1 \
  || "${sudo_cmd[@]}" useradd --system --no-create-home --shell /usr/sbin/nologin "$rootless_user" \
  || id "$rootless_user" >/dev/null
grep -q "^$rootless_user:" /etc/subuid 2>/dev/null \
  || "${sudo_cmd[@]}" usermod --add-subuids 300000-365535 --add-subgids 300000-365535 "$rootless_user"
