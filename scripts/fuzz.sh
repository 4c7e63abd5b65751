#!/usr/bin/env bash
# Builds the libFuzzer targets in Fuzz/ (a separate package) and runs them on their seed corpora.
#
#   scripts/fuzz.sh [TARGET|all] [RUNS] [SECONDS]
#
#   TARGET   FuzzDockerfile, FuzzImageReference, FuzzAuthChallenge, FuzzManifest, FuzzTarReader, or
#            all (default)
#   RUNS     inputs per target (default 1000000)
#   SECONDS  time limit per target (-max_total_time, default 600)
#
# Built in release mode (bounds and overflow checks stay; debug code runs 10-50x slower) with
# `-sanitize=fuzzer,address` in Fuzz/.build. The seed corpora in Fuzz/Corpus/TARGET are
# only read: new inputs go to a scratch corpus under Fuzz/.build/corpus/TARGET. A crash leaves its
# input in Fuzz/.build/crashes/TARGET/ and makes the script exit non-zero; turn it into a
# regression test (a table row in the ordinary test target) before fixing it.
# The summary line per target says how many inputs ran and in how many seconds.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
fuzz="$(cd "$here/../Fuzz" && pwd)"
all=(FuzzDockerfile FuzzImageReference FuzzAuthChallenge FuzzManifest FuzzTarReader)

target="${1:-all}"
runs="${2:-1000000}"
seconds="${3:-600}"
[[ $runs =~ ^[0-9]+$ && $seconds =~ ^[1-9][0-9]*$ ]] || { echo "fuzz.sh: RUNS and SECONDS must be numbers" >&2; exit 2; }
if [ "$target" = all ]; then
  targets=("${all[@]}")
else
  [[ " ${all[*]} " == *" $target "* ]] || { echo "fuzz.sh: unknown target $target (${all[*]})" >&2; exit 2; }
  targets=("$target")
fi

flags=(-c release -Xswiftc -sanitize=fuzzer,address -Xswiftc -use-ld=lld -Xlinker --no-warnings)
for t in "${targets[@]}"; do
  echo "fuzz.sh: building $t" >&2
  (cd "$fuzz" && swift build "${flags[@]}" --product "$t" >&2)
done
bin="$(cd "$fuzz" && swift build "${flags[@]}" --show-bin-path)"

status=0
for t in "${targets[@]}"; do
  corpus="$fuzz/.build/corpus/$t"
  crashes="$fuzz/.build/crashes/$t"
  mkdir -p "$corpus" "$crashes"
  log="$fuzz/.build/$t.log"
  echo "fuzz.sh: running $t ($runs inputs, at most ${seconds}s)" >&2
  # A leak is not a crash here: Swift's runtime keeps metadata caches that LeakSanitizer reports.
  if ASAN_OPTIONS=detect_leaks=0 "$bin/$t" "$corpus" "$fuzz/Corpus/$t" -runs="$runs" -max_total_time="$seconds" \
      -max_len=65536 -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
      -artifact_prefix="$crashes/" >"$log" 2>&1; then
    result=ok
  else
    result="CRASH (input in $crashes, log $log)"
    status=1
  fi
  done_line="$(grep -E '^#[0-9]+[[:space:]]+DONE' "$log" | tail -n1 || true)"
  inputs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n1)"
  elapsed="$(sed -n 's/^Done [0-9]* runs in \([0-9]*\) second.*/\1/p' "$log" | tail -n1)"
  printf '%-20s %10s inputs %6ss  %s  %s\n' "$t" "${inputs:-?}" "${elapsed:-?}" "$result" "${done_line#*DONE }"
done
exit "$status"
