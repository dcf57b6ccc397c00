#!/usr/bin/env bash
# The AArch64 stage: cross-builds the tests of meson suite `arm64` in build-arm64 with Debian's
# g++-aarch64-linux-gnu and runs them under qemu-user: every kernel table (NEON included)
# against the reference, the network test, and the real weights' features of a noise image
# against the x86 reference kernels' features written here first. Prints each step's time and
# an 'arm64 tests: N passed, N failed' line; exits non-zero when anything failed.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)
step_start=$start
step_done() { echo "arm64: $1 took $(($(date +%s) - step_start)) s"; step_start=$(date +%s); }
fail() {
  echo "arm64: $1" >&2
  echo "arm64 tests: 0 passed, 1 failed"
  exit 1
}

# 1. Packages: the project's own (tools/setup.sh), the cross compiler and QEMU's user mode.
bash tools/setup.sh
cross_packages=(g++-aarch64-linux-gnu qemu-user)
missing=()
for p in "${cross_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "arm64: installing ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
    -o DPkg::Lock::Timeout=300 "${missing[@]}" >/dev/null || fail "could not install ${missing[*]}"
fi
step_done "installing packages"

# 2. The x86 reference: the noise image's features with the reference kernels, from the
# release build (the README's test command made it; configured here when absent).
[ -f build/build.ninja ] || meson setup build >/dev/null || fail "cannot configure build"
ninja -C build tests/noise_features src/tinception tools/convert_weights/convert_weights >/dev/null ||
  fail "cannot build noise_features and the weight tools in build"
weights/fetch_weights.sh build || fail "cannot fetch the weights"  # nothing to do when current
mkdir -p .cache
TINCEPTION_ISA=reference build/tests/noise_features weights/inception_v3.tcw \
  .cache/noise-features-x86-reference.f32 || fail "x86 reference features failed"
step_done "x86 reference features"

# 3. The cross build: only what suite arm64 runs (no program, no image decoding, no benchmarks).
if [ ! -f build-arm64/build.ninja ]; then
  meson setup build-arm64 --cross-file tools/aarch64-linux-gnu.ini \
    -Dbench=false -Dcli=false -Dimage_io=disabled >/dev/null || fail "cannot configure build-arm64"
fi
# Regenerates first when a meson.build changed, so the list below is the current one.
ninja -C build-arm64 build.ninja >/dev/null || fail "cannot regenerate build-arm64"
targets=$(meson introspect build-arm64 --tests | python3 -c '
import json, os, sys
for t in json.load(sys.stdin):
    if any(s.split(":")[-1] == "arm64" for s in t["suite"]):
        print(os.path.relpath(t["cmd"][0], "build-arm64"))')
# shellcheck disable=SC2086  # one target per word
ninja -C build-arm64 $targets >/dev/null || fail "cross build failed"
step_done "cross build"

# 4. The tests under QEMU (tools/aarch64-linux-gnu.ini names qemu-aarch64 as exe_wrapper).
status=0
meson test -C build-arm64 --suite arm64 --no-rebuild --print-errorlogs --num-processes 2 || status=1
python3 - build-arm64/meson-logs/testlog.json <<'PY' || status=1
import json, sys
results = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
for r in results:
    for line in r.get("stdout", "").splitlines():
        if "MESSAGE:" in line and ("active kernels" in line or "max |diff|" in line or "compared with" in line):
            print("arm64:", r["name"] + ":", line.split("MESSAGE:", 1)[1].strip())
passed = sum(r["result"] in ("OK", "EXPECTEDFAIL") for r in results)
print(f"arm64 tests: {passed} passed, {len(results) - passed} failed")
sys.exit(0 if results and passed == len(results) else 1)
PY
step_done "tests under QEMU"
echo "arm64: stage took $(($(date +%s) - start)) s"
exit "$status"
