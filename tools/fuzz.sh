#!/usr/bin/env bash
# Runs every libFuzzer target in tests/fuzz for a bounded time each, in its own build
# folder (clang, address + undefined-behaviour sanitizers, -Dfuzz=true).
# Usage: tools/fuzz.sh [SECONDS_PER_TARGET (default 60)] [TARGET...]
# Corpora grow in build-fuzz/corpus/<target>; crashes land in build-fuzz/artifacts/.
# Prints one 'fuzz: <target>: <seconds> s, <executions> executions, <result>' line each,
# and exits non-zero when any target found a crash.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
shift || true
build=build-fuzz
targets=("$@")
((${#targets[@]})) || targets=(fuzz_image_decode fuzz_jpeg_decode fuzz_classifier_model fuzz_weight_file fuzz_tfjs_model fuzz_protobuf_tensor
  fuzz_webp_tiff_decode)

if [ ! -f "$build/build.ninja" ]; then
  CXX=clang++ meson setup "$build" -Dfuzz=true -Dtests=false -Dbench=false -Dbuildtype=debugoptimized \
    -Db_sanitize=address,undefined -Db_lundef=false \
    -Dcpp_args="-fsanitize=fuzzer-no-link -fno-sanitize-recover=all" >/dev/null
fi
ninja -C "$build" "${targets[@]/#/tests/fuzz/}" tests/fuzz/make_fuzz_seeds >/dev/null
"$build/tests/fuzz/make_fuzz_seeds" "$build/seeds" >/dev/null

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
mkdir -p "$build/artifacts" "$build/logs"
failed=0
for t in "${targets[@]}"; do
  mkdir -p "$build/corpus/$t"
  log="$build/logs/$t.log"
  start=$(date +%s)
  status=0
  "$build/tests/fuzz/$t" -max_total_time="$seconds" -timeout=20 -rss_limit_mb=2560 -print_final_stats=1 \
    -artifact_prefix="$build/artifacts/$t-" "$build/corpus/$t" "$build/seeds/$t" >"$log" 2>&1 || status=$?
  elapsed=$(($(date +%s) - start))
  execs=$(grep -m1 -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo "?")
  if [ "$status" -eq 0 ]; then
    result="no findings"
  else
    result="FINDING (exit $status), see $log"
    failed=1
  fi
  echo "fuzz: $t: ${elapsed} s, ${execs} executions, $result"
done
exit "$failed"
