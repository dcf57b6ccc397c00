#!/usr/bin/env bash
# Times the Inception v3 trunk (299x299 fp32 input -> pooled 2048 features) on tinception,
# PyTorch, ONNX Runtime and oneDNN (direct and Winograd convolutions) in one run, same
# batches and thread counts, in ROUNDS rounds of every engine in turn (median ms/image of
# ITERATIONS runs after warm-up each), and prints one table with each engine's thread scaling
# and tinception's speed ratio to each peer, taken round by round.
#
#   bench/peers/run_peers.sh [WEIGHTS]        (from the repository root)
#   env: TINCEPTION=path/to/tinception (default build/src/tinception), BATCHES=1,8,
#        THREADS=1,2, ITERATIONS=10 (timed runs per engine and round), ROUNDS=3,
#        ORT_VERSION=1.30.0, CHECK_IMAGE=an image for the
#        oneDNN check (default: the first of $TINCEPTION_SUPERHEROES, else a generated one)
#
# Installs what is missing: Debian's python3-torch, python3-torchvision and libdnnl-dev
# (apt-get), and onnxruntime-node into bench/peers/node_modules (npm). onnxruntime-node
# bundles its CPU binaries; its install script would only fetch CUDA binaries from nuget.org,
# so it is told to skip that (ONNXRUNTIME_NODE_INSTALL=skip). The ONNX model is exported from
# the same PyTorch model at bench time into bench/peers/model/ (git-ignored). The oneDNN peer
# (onednn_peer.cpp) is built in tinception's build folder, which is reconfigured when
# libdnnl-dev was missing at setup; it runs the weight file's own graph and weights, and its
# features are checked against `tinception embed` on one image before anything is timed.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
weights="${1:-$root/weights/inception_v3.tcw}"
tinception="${TINCEPTION:-$root/build/src/tinception}"
batches="${BATCHES:-1,8}"
threads="${THREADS:-1,2}"
iterations="${ITERATIONS:-10}"
rounds="${ROUNDS:-3}"
ort_version="${ORT_VERSION:-1.30.0}"
python=/usr/bin/python3   # Debian's python, where python3-torch installs

say() { echo "run_peers: $*" >&2; }

[ -x "$tinception" ] || { say "no tinception binary at $tinception (build it, or set TINCEPTION)"; exit 2; }
[ -f "$weights" ] || { say "no weight file at $weights"; exit 2; }

. "$here/peer_setup.sh"

# PyTorch from Debian.
if ! "$python" -c 'import torch, torchvision' 2>/dev/null; then
    apt_install PyTorch python3-torch python3-torchvision
fi

# oneDNN from Debian, and the peer built against it in tinception's build folder.
build_onednn_peer "$tinception"

# ONNX Runtime for Node from npm.
if [ ! -f "$here/node_modules/onnxruntime-node/package.json" ]; then
    if ! npm view "onnxruntime-node@$ort_version" version >/dev/null 2>&1; then
        say "npm package onnxruntime-node@$ort_version not found (npm view); cannot time ONNX Runtime"
        exit 1
    fi
    say "installing onnxruntime-node@$ort_version into $here/node_modules"
    (cd "$here" && ONNXRUNTIME_NODE_INSTALL=skip npm install --no-save --no-audit --no-fund \
        "onnxruntime-node@$ort_version" >&2)
fi

mkdir -p "$here/model"
onnx="$here/model/inception_v3_features.onnx"
say "exporting the PyTorch model to $onnx"
"$python" "$here/torch_peer.py" export "$onnx"
# The export leaves ~100 MB of dirty pages; let them reach the disk before anything is timed.
sync

rows="$(mktemp)"
check_dir="$(mktemp -d)"
trap 'rm -f "$rows"; rm -rf "$check_dir"' EXIT

check_onednn_peer "$tinception" "$weights" "$check_dir" fp32

# Each round times every engine once, in turn, so a machine whose speed drifts over minutes (a
# shared or virtual one) slows all of them alike within a round; the table gives each engine's
# median over rounds and each ratio as the median of the same-round ratios.
for round in $(seq 1 "$rounds"); do
    say "round $round of $rounds: timing tinception"
    # tee -a: without O_APPEND, tee truncates a stderr redirected to a file and overwrites it.
    "$tinception" bench "$weights" --batch "$batches" --threads "$threads" --iterations "$iterations" \
        --compare none --tsv | tee -a /dev/stderr | grep '^tinception	' | sed "s/\$/	$round/" >> "$rows"
    say "round $round of $rounds: timing PyTorch"
    "$python" "$here/torch_peer.py" time --batch "$batches" --threads "$threads" --iterations "$iterations" \
        | sed "s/\$/	$round/" >> "$rows"
    say "round $round of $rounds: timing ONNX Runtime"
    node "$here/ort_peer.js" "$onnx" "$batches" "$threads" "$iterations" | sed "s/\$/	$round/" >> "$rows"
    say "round $round of $rounds: timing oneDNN (direct, and Winograd for 3x3 stride-1 convolutions where it has one)"
    "$onednn_peer" time "$weights" "$batches" "$threads" "$iterations" 2> "$check_dir/kernels.txt" \
        | sed "s/\$/	$round/" >> "$rows" || { cat "$check_dir/kernels.txt" >&2; exit 1; }
done
cat "$check_dir/kernels.txt" >&2

echo
echo "Inception v3 trunk, 299x299 fp32 -> 2048 pooled features; per round the median of $iterations runs after warm-up; $rounds rounds"
echo "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) cpus"
cat "$check_dir/check.txt" "$check_dir/kernels.txt"
echo "ms/image: median over rounds; x_peer: median over rounds of (peer ms/image / tinception ms/image) in the same round (above 1: tinception is faster)"
echo "scaling: median over rounds of (1-thread ms / N-thread ms) in the same round"
awk -F'\t' -v ratio_row=tinception -f "$here/round_table.awk" \
    -v ratios="x_pytorch=pytorch/tinception x_onnxruntime=onnxruntime/tinception x_onednn_direct=onednn_direct/tinception x_onednn_winograd=onednn_winograd/tinception" \
    "$rows"
