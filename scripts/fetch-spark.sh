#!/usr/bin/env bash
# fetch-spark.sh [VERSION] [DEST]
#
# Makes a Spark release directory (the layout of spark-VERSION-bin-*.tgz, as far as it can be
# derived) from the pyspark source distribution on PyPI, which carries Spark's jars, bin/,
# sbin/, data/, licenses and Python examples under deps/ and the Python zips under lib/.
# Prints the directory's path on stdout; everything else goes to stderr.
#
#   VERSION  Spark/pyspark version (default 4.3.0)
#   DEST     directory to create (default $CACHE/spark-VERSION)
#
# The sdist is kept at $CACHE/pyspark/pyspark-VERSION.tar.gz and downloaded with
# `pip download` only when it is not there; $CACHE is $SPARK_DISTS_CACHE, or
# ${XDG_CACHE_HOME:-$HOME/.cache}/spark-image-tool/dists. Running it again with the same
# arguments does nothing and prints the same path.
#
# What a real release has and the sdist does not: examples/jars (the Scala/Java examples),
# examples/src other than Python, conf/*.template, R/ and kubernetes/tests. The directory
# gets our own dockerfiles/ as kubernetes/dockerfiles (not Spark's), so that it is a
# runnable distribution for docker-image-tool.sh-style checks too.
set -euo pipefail

die() { echo "fetch-spark: $*" >&2; exit 1; }

version=${1:-4.3.0}
cache=${SPARK_DISTS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/spark-image-tool/dists}
dest=${2:-$cache/spark-$version}
repo=$(cd "$(dirname "$0")/.." && pwd)

[[ $version =~ ^[0-9]+\.[0-9]+\.[0-9]+([.a-z0-9-]*)$ ]] || die "not a Spark version: '$version' (expected e.g. 4.3.0)"

release_line="Spark $version built for"
if [ -f "$dest/RELEASE" ]; then
  if head -n 1 "$dest/RELEASE" | grep -q "^$release_line"; then
    echo "$dest"
    exit 0
  fi
  die "$dest exists but its RELEASE is not Spark $version's; remove it or choose another DEST"
elif [ -e "$dest" ]; then
  die "$dest exists and is not a Spark release directory; remove it or choose another DEST"
fi

sdist=$cache/pyspark/pyspark-$version.tar.gz
if [ ! -f "$sdist" ]; then
  command -v python3 >/dev/null || die "python3 is needed to run pip"
  python3 -m pip --version >/dev/null 2>&1 || die "pip is needed: install python3-pip"
  mkdir -p "$cache/pyspark"
  download=$(mktemp -d "$cache/pyspark/download.XXXXXX")
  echo "fetch-spark: downloading pyspark==$version (sdist, about 460 MB)" >&2
  if ! python3 -m pip download --quiet --no-deps --no-binary :all: -d "$download" "pyspark==$version" >&2; then
    rm -rf "$download"
    die "pip could not download the pyspark $version sdist from PyPI"
  fi
  [ -f "$download/pyspark-$version.tar.gz" ] || { rm -rf "$download"; die "pip did not produce pyspark-$version.tar.gz"; }
  mv "$download/pyspark-$version.tar.gz" "$sdist"
  rm -rf "$download"
fi

mkdir -p "$(dirname "$dest")"
work=$(mktemp -d "$dest.partial.XXXXXX")
trap 'rm -rf "$work"' EXIT

echo "fetch-spark: unpacking $sdist" >&2
tar -xzf "$sdist" -C "$work" || die "cannot unpack $sdist"
src=$work/pyspark-$version
[ -d "$src/deps/jars" ] || die "$sdist has no deps/jars: not a pyspark sdist with Spark's jars"
compgen -G "$src/deps/jars/spark-core_*.jar" >/dev/null || die "$sdist has no spark-core jar in deps/jars"

out=$work/spark
mkdir -p "$out/python" "$out/examples/src/main"
mv "$src/deps/jars" "$src/deps/bin" "$src/deps/sbin" "$src/deps/data" "$out/"
[ -d "$src/deps/licenses" ] && mv "$src/deps/licenses" "$out/licenses"
[ -d "$src/deps/examples" ] && mv "$src/deps/examples" "$out/examples/src/main/python"
for f in LICENSE NOTICE README.md; do [ -f "$src/$f" ] && mv "$src/$f" "$out/"; done
# The package's python/pyspark/shell.py is a packaging copy of its shell.py.
rm -rf "$src/pyspark/python"
mv "$src/pyspark" "$out/python/pyspark"
if compgen -G "$src/lib/*.zip" >/dev/null; then
  mkdir -p "$out/python/lib"
  mv "$src"/lib/*.zip "$out/python/lib/"
fi
[ -d "$src/deps/kubernetes/tests" ] && { mkdir -p "$out/kubernetes"; mv "$src/deps/kubernetes/tests" "$out/kubernetes/tests"; }

mkdir -p "$out/kubernetes/dockerfiles"
cp -R "$repo/dockerfiles/." "$out/kubernetes/dockerfiles/"
mkdir -p "$out/kubernetes/dockerfiles/spark/work-dir"

hadoop=$(cd "$out/jars" && ls hadoop-client-api-*.jar 2>/dev/null | sed -n 's/^hadoop-client-api-\(.*\)\.jar$/\1/p' | head -n 1)
{
  echo "$release_line Hadoop ${hadoop:-unknown}"
  echo "Build flags: from the pyspark $version sdist on PyPI, laid out by spark-image-tool's scripts/fetch-spark.sh"
} > "$out/RELEASE"

mv "$out" "$dest"
echo "fetch-spark: $(find "$dest/jars" -name '*.jar' | wc -l) jars, $(du -sh "$dest" | cut -f1) in $dest" >&2
echo "$dest"
