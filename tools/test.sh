#!/usr/bin/env bash
# Builds and runs the whole test suite; ends with one 'N passed, N failed' line and a
# non-zero exit when any test failed.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/build.sh
weights/fetch_weights.sh build
tests/tfjs_reference/install.sh
export TINCEPTION_SUPERHEROES="$(data/fetch_superheroes.sh)"
status=0
meson test -C build --print-errorlogs --num-processes 2 || status=$?
python3 - build/meson-logs/testlog.json <<'PY' || true
import json, sys
results = [json.loads(line)["result"] for line in open(sys.argv[1]) if line.strip()]
passed = sum(r in ("OK", "EXPECTEDFAIL") for r in results)
print(f"tests: {passed} passed, {len(results) - passed} failed")
PY
exit "$status"
