#!/bin/sh
# Builds the libFuzzer targets (tests/fuzz, clang, ASan + UBSan) and runs each on its seeds.
#   run.sh smoke   every target briefly (FUZZ_SECONDS, default 5 each): part of `make test`
#   run.sh long    every target for FUZZ_SECONDS (default 300) each: `make fuzz`
#   run.sh build   only build
# Environment: FUZZ_BUILD (default <repo>/build-fuzz), XOEV_TESTDATA_DIR (default
# <repo>/../shared/testdata), FUZZ_JOBS (default 2), FUZZ_TARGETS (default all).
# Exit status 1 if any target crashed; the input is kept under $FUZZ_BUILD/findings/.
set -eu
mode=${1:-smoke}
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${FUZZ_BUILD:-$root/build-fuzz}
testdata=${XOEV_TESTDATA_DIR:-$root/../shared/testdata}
jobs=${FUZZ_JOBS:-2}
targets=${FUZZ_TARGETS:-"xml_head streaming_xml jwe jws receipt config"}
case $mode in
  smoke) seconds=${FUZZ_SECONDS:-5} ;;
  long) seconds=${FUZZ_SECONDS:-300} ;;
  build) seconds=0 ;;
  *) echo "usage: $0 smoke|long|build" >&2; exit 2 ;;
esac

launcher=
command -v ccache >/dev/null && launcher=-DCMAKE_CXX_COMPILER_LAUNCHER=ccache
started=$(date +%s)
cmake -S "$root/tests/fuzz" -B "$build" -DCMAKE_CXX_COMPILER=clang++ $launcher >/dev/null
cmake --build "$build" -j "$jobs"
echo "fuzz: build took $(( $(date +%s) - started )) s"
[ "$mode" = build ] && exit 0

# Seeds: the committed hand-made ones, the shared samples, and JOSE inputs made with
# the fixed fuzz keys. New inputs go to $build/corpus/<target> (kept between runs).
seeds=$build/seeds
rm -rf "$seeds" && mkdir -p "$seeds/xml_head" "$seeds/streaming_xml" "$seeds/config"
"$build/fuzz_make_seeds" "$seeds"
if [ -d "$testdata" ]; then
  find "$testdata" -name '*.xml' -size -64k -exec cp {} "$seeds/xml_head/" \; 2>/dev/null || true
  # streaming_xml: the first byte picks the split points (0: none), the rest is the document.
  # (POSIX sh: no `read -d`, which dash refuses, so no sample was ever a seed here.)
  find "$testdata" -name '*.xml' -size -64k -exec sh -c \
    'for f; do { printf "\0"; cat "$f"; } > "$0/$(basename "$f")"; done' "$seeds/streaming_xml" {} + 2>/dev/null || true
else
  echo "fuzz: no test data at $testdata; running on the committed seeds only" >&2
fi
cp "$root"/config/*.yaml "$seeds/config/" 2>/dev/null || true

status=0
mkdir -p "$build/findings"
for target in $targets; do
  corpus=$build/corpus/$target
  mkdir -p "$corpus"
  dict=
  [ -f "$root/tests/fuzz/$target.dict" ] && dict=-dict=$root/tests/fuzz/$target.dict
  extra=
  [ -d "$seeds/$target" ] && extra=$seeds/$target
  echo "fuzz: $target for $seconds s"
  # -timeout: one input taking longer is a finding too (e.g. quadratic parsing).
  if ! "$build/fuzz_$target" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
      -print_final_stats=1 -artifact_prefix="$build/findings/$target-" $dict \
      "$corpus" "$root/tests/fuzz/corpus/$target" $extra >"$build/fuzz_$target.log" 2>&1; then
    echo "fuzz: $target FAILED; log $build/fuzz_$target.log, inputs in $build/findings/" >&2
    tail -40 "$build/fuzz_$target.log" >&2
    status=1
  else
    grep -E '^stat::(number_of_executed_units|new_units_added)' "$build/fuzz_$target.log" | tr '\n' ' '
    echo
  fi
done
exit $status
