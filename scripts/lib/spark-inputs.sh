# shellcheck shell=bash
# The inputs of a real Spark build, shared by bench.sh and faults.sh: Spark 4.3.0 from
# fetch-spark.sh and a working copy of it whose kubernetes/dockerfiles are this checkout's
# dockerfiles/ (exactly the Dockerfiles built into the tool). The base images come from
# make-base-image.sh, which caches them itself.

# Uses /work/cache for fetch-spark.sh when it holds a fetched release and nothing else is set.
spark_inputs_use_shared_cache() {
  if [ -z "${SPARK_DISTS_CACHE:-}" ] && [ -f /work/cache/spark-4.3.0/RELEASE -o -f /work/cache/pyspark/pyspark-4.3.0.tar.gz ]; then
    export SPARK_DISTS_CACHE=/work/cache
  fi
}

# spark_inputs_copy REPO SRC DEST: DEST becomes a hard-linked copy of the distribution SRC (no
# data copied) with REPO/dockerfiles as its kubernetes/dockerfiles.
spark_inputs_copy() {
  local repo="$1" src="$2" dest="$3"
  cp -al "$src" "$dest"
  rm -rf "$dest/kubernetes/dockerfiles"
  cp -R "$repo/dockerfiles" "$dest/kubernetes/dockerfiles"
  mkdir -p "$dest/kubernetes/dockerfiles/spark/work-dir"
}
