#!/usr/bin/env bash
# Installs the pinned onnxruntime-node next to scores.js (node_modules is git-ignored). The
# package bundles its CPU binaries; its install script would only fetch CUDA ones from
# nuget.org, so that step is skipped (ONNXRUNTIME_NODE_INSTALL=skip).
set -euo pipefail
cd "$(dirname "$0")"
[ -f node_modules/onnxruntime-node/package.json ] && exit 0
ONNXRUNTIME_NODE_INSTALL=skip npm install --silent --no-audit --no-fund --no-save >/dev/null
