#!/usr/bin/env bash
# The main job end to end: build, then show what this build and machine are.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/build.sh
build/src/tinception info
