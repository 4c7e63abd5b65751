#!/usr/bin/env bash
# Drop-in replacement for Spark's bin/docker-image-tool.sh: the same options and image names
# (spark, spark-py, spark-r), without a Docker daemon. Put it in a Spark distribution's bin/ (or
# set SPARK_HOME) with spark-image-tool on PATH (or SPARK_IMAGE_TOOL pointing at it):
#
#   ./bin/docker-image-tool.sh -r registry.example.com/spark -t 4.0.1 -p kubernetes/dockerfiles/spark/bindings/python/Dockerfile build
set -euo pipefail

if [ -z "${SPARK_HOME:-}" ]; then
  SPARK_HOME="$(cd "$(dirname "$0")"/.. && pwd)"
fi
export SPARK_HOME

tool="${SPARK_IMAGE_TOOL:-}"
if [ -z "$tool" ]; then
  tool="$(command -v spark-image-tool || true)"
fi
if [ -z "$tool" ]; then
  here="$(cd "$(dirname "$0")/.." && pwd)"
  for candidate in "$here/.build/release/spark-image-tool" "$here/.build/debug/spark-image-tool"; do
    if [ -x "$candidate" ]; then tool="$candidate"; break; fi
  done
fi
if [ -z "$tool" ]; then
  echo "Cannot find spark-image-tool: put it on PATH or set SPARK_IMAGE_TOOL." >&2
  exit 1
fi

exec "$tool" "$@"
