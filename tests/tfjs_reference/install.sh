#!/usr/bin/env bash
# Installs the pinned TF.js packages next to features.js (node_modules is git-ignored).
set -euo pipefail
cd "$(dirname "$0")"
[ -d node_modules/@tensorflow/tfjs-layers ] && exit 0
npm install --silent --no-audit --no-fund --no-save >/dev/null
