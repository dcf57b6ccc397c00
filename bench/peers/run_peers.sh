#!/usr/bin/env bash
# Times the Inception v3 trunk (299x299 fp32 input -> pooled 2048 features) on tinception,
# PyTorch and ONNX Runtime in one run, same batches and thread counts, median ms/image of
# ITERATIONS runs after warm-up, and prints one table with tinception's speed ratio to each.
#
#   bench/peers/run_peers.sh [WEIGHTS]        (from the repository root)
#   env: TINCEPTION=path/to/tinception (default build/src/tinception), BATCHES=1,8,
#        THREADS=1,2, ITERATIONS=10, ORT_VERSION=1.30.0
#
# Installs what is missing: Debian's python3-torch and python3-torchvision (apt-get), and
# onnxruntime-node into bench/peers/node_modules (npm). onnxruntime-node bundles its CPU
# binaries; its install script would only fetch CUDA binaries from nuget.org, so it is told
# to skip that (ONNXRUNTIME_NODE_INSTALL=skip). The ONNX model is exported from the same
# PyTorch model at bench time into bench/peers/model/ (git-ignored).
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
weights="${1:-$root/weights/inception_v3.tcw}"
tinception="${TINCEPTION:-$root/build/src/tinception}"
batches="${BATCHES:-1,8}"
threads="${THREADS:-1,2}"
iterations="${ITERATIONS:-10}"
ort_version="${ORT_VERSION:-1.30.0}"
python=/usr/bin/python3   # Debian's python, where python3-torch installs

say() { echo "run_peers: $*" >&2; }

[ -x "$tinception" ] || { say "no tinception binary at $tinception (build it, or set TINCEPTION)"; exit 2; }
[ -f "$weights" ] || { say "no weight file at $weights"; exit 2; }

# PyTorch from Debian.
if ! "$python" -c 'import torch, torchvision' 2>/dev/null; then
    for pkg in python3-torch python3-torchvision; do
        if ! apt-cache policy "$pkg" | grep -q 'Candidate: [0-9]'; then
            say "Debian package $pkg is not available (apt-cache policy $pkg); cannot time PyTorch"
            exit 1
        fi
    done
    say "installing python3-torch python3-torchvision"
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends python3-torch python3-torchvision >&2
fi

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
trap 'rm -f "$rows"' EXIT
say "timing tinception"
"$tinception" bench "$weights" --batch "$batches" --threads "$threads" --iterations "$iterations" \
    --compare none --tsv | tee /dev/stderr | grep '^tinception	' >> "$rows"
say "timing PyTorch"
"$python" "$here/torch_peer.py" time --batch "$batches" --threads "$threads" --iterations "$iterations" >> "$rows"
say "timing ONNX Runtime"
node "$here/ort_peer.js" "$onnx" "$batches" "$threads" "$iterations" >> "$rows"

echo
echo "Inception v3 trunk, 299x299 fp32 -> 2048 pooled features; median of $iterations runs after warm-up"
echo "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) cpus"
echo "x_peer = peer ms/image / tinception ms/image (above 1: tinception is faster)"
awk -F'\t' '
    { ms[$1 "," $2 "," $3] = $4; key[NR] = $1 "," $2 "," $3; eng[NR] = $1; b[NR] = $2; t[NR] = $3 }
    END {
        printf "%-12s %5s %7s %10s %11s %15s\n", "engine", "batch", "threads", "ms/image", "x_pytorch", "x_onnxruntime"
        for (i = 1; i <= NR; ++i) {
            tin = ms["tinception," b[i] "," t[i]]
            line = sprintf("%-12s %5d %7d %10.2f", eng[i], b[i], t[i], ms[key[i]])
            if (eng[i] == "tinception") {
                pt = ms["pytorch," b[i] "," t[i]]; ox = ms["onnxruntime," b[i] "," t[i]]
                line = line sprintf(" %11s %15s", pt ? sprintf("%.2f", pt / tin) : "-",
                                    ox ? sprintf("%.2f", ox / tin) : "-")
            }
            print line
        }
    }' "$rows"
