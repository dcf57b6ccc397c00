#!/usr/bin/env bash
# Fetches nsfwjs's pretrained Keras InceptionV3 from npm, checks the tarball's integrity,
# unwraps it to a standard TF.js layers folder and converts it to weights/inception_v3.tcw: the
# 8-bit file (format 3, 22 MB), which loads to the same float32 values as the float32 file
# (format 2, 87 MB) that --float32 writes instead.
# Usage: weights/fetch_weights.sh [BUILD_DIR] [--float32]   (default: build; needs BUILD_DIR built)
# Idempotent: does nothing when the .tcw exists and verifies. Nothing fetched is committed.
set -euo pipefail

readonly package="nsfwjs@4.4.0"
readonly tarball="nsfwjs-4.4.0.tgz"
readonly integrity="sha512-krC1fgeTLXtZwgdpKJ0jm7hqv0gTSRQQRL+FhOaxaJ9Wj92t42BO3csO2odwgTAgZgf2RvkwPtp0R8Aa7dc+MA=="
readonly source_text="npm:nsfwjs@4.4.0 dist/models/inception_v3"

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build_dir=build
format_option=--uint8
for arg in "$@"; do
  case "$arg" in
    --float32) format_option= ;;
    -*) echo "fetch_weights: error: unknown option '$arg' (usage: weights/fetch_weights.sh [BUILD_DIR] [--float32])" >&2; exit 2 ;;
    *) build_dir="$arg" ;;
  esac
done
case "$build_dir" in /*) ;; *) build_dir="$repo/$build_dir" ;; esac
out="$repo/weights/inception_v3.tcw"
cache="$repo/.cache"
tinception="$build_dir/src/tinception"
converter="$build_dir/tools/convert_weights/convert_weights"

die() { echo "fetch_weights: error: $*" >&2; exit 1; }

for tool in "$tinception" "$converter"; do
  [ -x "$tool" ] || die "$tool not found; build first (meson setup $build_dir && ninja -C $build_dir)"
done

# A file that does not open (damaged, or an older format this build no longer reads) is
# converted again from the cached tarball.
if [ -f "$out" ]; then
  if reason="$("$tinception" info "$out" 2>&1 >/dev/null)"; then
    echo "fetch_weights: $out is present and verifies; nothing to do"
    exit 0
  fi
  echo "fetch_weights: converting again: ${reason#tinception: error: }" >&2
fi
command -v node >/dev/null || die "node not found (tools/setup.sh installs it)"
command -v npm >/dev/null || die "npm not found (tools/setup.sh installs it)"
command -v openssl >/dev/null || die "openssl not found (needed to check the tarball's sha512)"

mkdir -p "$cache/npm"
if [ ! -f "$cache/npm/$tarball" ]; then
  log="$(mktemp)"
  if ! (cd "$cache/npm" && npm pack --silent "$package" >"$log" 2>&1); then
    cat "$log" >&2; rm -f "$log"; die "npm pack $package failed"
  fi
  rm -f "$log"
fi

actual="sha512-$(openssl dgst -sha512 -binary "$cache/npm/$tarball" | base64 -w0)"
if [ "$actual" != "$integrity" ]; then
  rm -f "$cache/npm/$tarball"
  die "$tarball integrity mismatch: expected $integrity, got $actual (deleted; re-run to fetch again)"
fi

unpacked="$cache/npm/nsfwjs-4.4.0"
rm -rf "$unpacked"
mkdir -p "$unpacked"
tar -xzf "$cache/npm/$tarball" -C "$unpacked"

layers_dir="$cache/nsfwjs-inception_v3"
rm -rf "$layers_dir"
node "$repo/tools/unwrap_nsfwjs.js" "$unpacked/package/dist/models/inception_v3" "$layers_dir"

# nsfwjs trained its InceptionV3 on pixels / 255, not keras.applications' [-1, 1].
"$converter" "$layers_dir/model.json" "$out" --input-range 0,1 --force --source "$source_text" $format_option
