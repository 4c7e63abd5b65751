#!/usr/bin/env bash
# The README's first command. On a fresh machine it installs what is missing, builds the tool,
# gets a Spark distribution ($SPARK_HOME if set, else Spark from PyPI's pyspark package), builds
# a Java base image without Docker, builds the spark and spark-py images into the local store, and
# pushes them to a registry on 127.0.0.1 (scripts/local-registry.sh, left running).
#
#   scripts/quickstart.sh            # REPO and TAG may be set: REPO=registry.example.com/spark TAG=4.3.0
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

say() { printf '\n==> %s\n' "$*" >&2; }

say "Installing system packages (scripts/bootstrap.sh)"
scripts/bootstrap.sh

say "Building spark-image-tool (release)"
swift build -c release --product spark-image-tool >&2
tool="$(swift build -c release --show-bin-path)/spark-image-tool"

if [ -n "${SPARK_HOME:-}" ]; then
  dist="$SPARK_HOME"
  say "Using the Spark distribution at SPARK_HOME=$dist"
else
  say "Fetching Spark from PyPI's pyspark source package (scripts/fetch-spark.sh)"
  dist="$(scripts/fetch-spark.sh)"
fi

say "Building a Java 17 base image with python3 (scripts/make-base-image.sh --python)"
base="$(scripts/make-base-image.sh --python)"

version="$(sed -n 's/^Spark \([^ ]*\).*/\1/p' "$dist/RELEASE" 2>/dev/null | head -n 1)"
tag="${TAG:-${version:-latest}}"
if [ -n "${REPO:-}" ]; then
  repo="$REPO"
else
  say "Starting a local registry on 127.0.0.1 (scripts/local-registry.sh)"
  repo="$(scripts/local-registry.sh start)/spark"
fi

say "Building and pushing $repo/spark:$tag and $repo/spark-py:$tag"
"$tool" build --spark-home "$dist" -r "$repo" -t "$tag" --base "rootfs:$base" --python --push

say "The local store now holds"
"$tool" images

cat >&2 <<EOT

Pushed to $repo (stop the local registry with scripts/local-registry.sh stop).
Next:
  docker pull $repo/spark:$tag                      # 127.0.0.1 registries need no TLS
  $tool save $repo/spark:$tag --format docker-archive -o spark.tar && docker load -i spark.tar
  $tool save $repo/spark:$tag --format oci-archive -o spark-oci.tar   # skopeo, podman, umoci
EOT
