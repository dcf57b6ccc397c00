#!/usr/bin/env bash
# Builds and runs the whole test suite once (meson suites `quick` and `slow`; `sanitize` only
# repeats parts of them for the sanitizer build); ends with one 'N passed, N failed' line and
# a non-zero exit when any test failed. `tools/test.sh --suite quick` runs the unit tests alone.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/build.sh
weights/fetch_weights.sh build
tests/tfjs_reference/install.sh
tests/browser/install.sh
tests/onnx_runtime/install.sh
export TINCEPTION_SUPERHEROES="$(data/fetch_superheroes.sh)"
status=0
suites=(--suite quick --suite slow)
[ "$#" -eq 0 ] || suites=("$@")
meson test -C build --print-errorlogs --num-processes 2 "${suites[@]}" || status=$?
python3 - build/meson-logs/testlog.json <<'PY' || true
import json, sys
results = [json.loads(line)["result"] for line in open(sys.argv[1]) if line.strip()]
passed = sum(r in ("OK", "EXPECTEDFAIL") for r in results)
print(f"tests: {passed} passed, {len(results) - passed} failed")
PY
exit "$status"
