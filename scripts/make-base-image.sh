#!/usr/bin/env bash
# Builds a Java base image root filesystem tarball with mmdebstrap, without Docker:
# Debian bookworm + openjdk-17-jre-headless, bash, tini, procps (+ python3 with --python,
# + r-base-core with --r), a `spark` user and group (uid/gid 185). With --apt: Debian's minbase
# variant (apt included) with openjdk-17-jre-headless only, like the JRE images Spark's own
# Dockerfiles start FROM, for Dockerfiles that RUN apt-get.
#
#   scripts/make-base-image.sh [--python] [--r] [--apt] [-o OUT.tar|-o -] [--force]
#
# Without -o the result is cached under ${XDG_CACHE_HOME:-$HOME/.cache}/spark-image-tool/base/
# and reused when present (also for -o OUT.tar when OUT.tar exists; --force rebuilds). The path of
# the tarball is printed on stdout (with -o - the tarball itself is); progress goes to stderr.
# merged-/usr is set up by mmdebstrap's merged-usr hook, so usrmerge (and perl) stay out.
#
# Environment:
#   SIT_DEBIAN_MIRROR   mirror URL (default: the first URIs: of /etc/apt/sources.list.d/debian.sources,
#                       else http://deb.debian.org/debian)
#   SIT_MMDEBSTRAP_MODE mmdebstrap --mode (default: unshare, which works as root here)
set -euo pipefail

usage() { sed -n '2,/^set -e/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//' >&2; exit "${1:-2}"; }

with_python=0 with_r=0 with_apt=0 out="" force=0
while [ $# -gt 0 ]; do
  case "$1" in
    --python) with_python=1 ;;
    --r) with_r=1 ;;
    --apt) with_apt=1 ;;
    -o|--output) [ $# -ge 2 ] || usage; out="$2"; shift ;;
    -o*) out="${1#-o}" ;;
    --force) force=1 ;;
    -h|--help) usage 0 ;;
    *) echo "make-base-image: unknown argument: $1" >&2; usage ;;
  esac
  shift
done

suite=bookworm
packages=(openjdk-17-jre-headless bash tini procps)
name="java17"
if [ "$with_python" = 1 ]; then packages+=(python3); name+="-python3"; fi
if [ "$with_r" = 1 ]; then packages+=(r-base-core); name+="-r"; fi
variant=essential
if [ "$with_apt" = 1 ]; then packages=(openjdk-17-jre-headless); name="java17-apt"; variant=minbase; fi
# Bump when the recipe below changes, so stale cached tarballs are not reused.
recipe_version=2

if [ -z "$out" ]; then
  cache_dir="${XDG_CACHE_HOME:-$HOME/.cache}/spark-image-tool/base"
  out="$cache_dir/$suite-$name-v$recipe_version.tar"
fi
[ "$out" = - ] || mkdir -p "$(dirname "$out")"

if [ "$out" = - ]; then
  # To stdout: no cache, no temporary file.
  tmp=-
elif [ -s "$out" ] && [ "$force" = 0 ]; then
  echo "make-base-image: reusing $out ($(du -h "$out" | cut -f1))" >&2
  echo "$out"
  exit 0
fi

mirror="${SIT_DEBIAN_MIRROR:-}"
if [ -z "$mirror" ] && [ -r /etc/apt/sources.list.d/debian.sources ]; then
  mirror="$(awk '/^URIs:/ { print $2; exit }' /etc/apt/sources.list.d/debian.sources)"
fi
mirror="${mirror:-http://deb.debian.org/debian}"
security="${mirror%/debian}/debian-security"

# unshare works as root in this container (and for unprivileged users with subuids); root mode
# needs mount rights; fakechroot would need the fakechroot package.
mode="${SIT_MMDEBSTRAP_MODE:-unshare}"

include="$(IFS=,; echo "${packages[*]}")"
if [ "$out" != - ]; then
  tmp="$out.tmp.$$"
  trap 'rm -f "$tmp"' EXIT
fi

# mmdebstrap's stdout carries the tarball only with -o -; otherwise it joins the log on stderr.
if [ "$out" = - ]; then exec 3>&1; else exec 3>&2; fi
start=$(date +%s)
echo "make-base-image: mmdebstrap --mode=$mode $suite [$include] from $mirror" >&2
mmdebstrap \
  --mode="$mode" \
  --variant="$variant" \
  --hook-dir=/usr/share/mmdebstrap/hooks/merged-usr \
  --include="$include" \
  --aptopt='APT::Install-Recommends "false"' \
  --aptopt='APT::Install-Suggests "false"' \
  --dpkgopt='path-exclude=/usr/share/doc/*' \
  --dpkgopt='path-include=/usr/share/doc/*/copyright' \
  --dpkgopt='path-exclude=/usr/share/man/*' \
  --dpkgopt='path-exclude=/usr/share/info/*' \
  --dpkgopt='path-exclude=/usr/share/locale/*' \
  --dpkgopt='path-include=/usr/share/locale/locale.alias' \
  --dpkgopt='path-exclude=/usr/share/lintian/*' \
  --dpkgopt='path-exclude=/usr/share/bash-completion/*' \
  --setup-hook='mkdir -p "$1/usr/share/man/man1"' \
  --customize-hook='echo "spark:x:185:" >> "$1/etc/group"' \
  --customize-hook='echo "spark:x:185:185:spark:/opt/spark:/bin/false" >> "$1/etc/passwd"' \
  --customize-hook='echo "spark:*:19000:0:99999:7:::" >> "$1/etc/shadow"' \
  --customize-hook='rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/* "$1"/var/log/apt/* "$1"/var/log/dpkg.log "$1"/var/cache/ldconfig/aux-cache' \
  --format=tar \
  "$suite" "$tmp" \
  "deb $mirror $suite main" \
  "deb $mirror $suite-updates main" \
  "deb $security $suite-security main" >&3 \
  || { echo "make-base-image: mmdebstrap --mode=$mode failed (try SIT_MMDEBSTRAP_MODE=root)" >&2; exit 1; }

if [ "$out" = - ]; then
  echo "make-base-image: wrote the tarball to stdout in $(( $(date +%s) - start ))s" >&2
  exit 0
fi
mv -f "$tmp" "$out"
trap - EXIT
echo "make-base-image: wrote $out ($(du -h "$out" | cut -f1)) in $(( $(date +%s) - start ))s" >&2
echo "$out"
