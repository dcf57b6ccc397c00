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

# apt_install WHAT PACKAGE...: installs Debian packages, or says which is unavailable and exits.
# (grep reads all its input, not -q: under pipefail an early exit makes the writer fail on SIGPIPE.)
apt_install() {
    local what="$1"; shift
    for pkg in "$@"; do
        if ! apt-cache policy "$pkg" | grep 'Candidate: [0-9]' >/dev/null; then
            say "Debian package $pkg is not available (apt-cache policy $pkg); cannot time $what"
            exit 1
        fi
    done
    say "installing $*"
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$@" >&2
}

# PyTorch from Debian.
if ! "$python" -c 'import torch, torchvision' 2>/dev/null; then
    apt_install PyTorch python3-torch python3-torchvision
fi

# oneDNN from Debian, and the peer built against it in tinception's build folder.
build="$(cd "$(dirname "$tinception")/.." && pwd)"
onednn_peer="$build/bench/onednn_peer"
if ! dpkg-query -W -f='${Status}' libdnnl-dev 2>/dev/null | grep 'install ok installed' >/dev/null; then
    apt_install oneDNN libdnnl-dev
fi
if [ ! -x "$onednn_peer" ]; then
    [ -f "$build/build.ninja" ] || { say "$build is not a meson build folder; cannot build the oneDNN peer"; exit 2; }
    say "configuring $build again to find libdnnl-dev, then building bench/onednn_peer"
    meson setup --reconfigure "$build" >&2
fi
ninja -C "$build" bench/onednn_peer >&2 || {
    say "no oneDNN peer target in $build: configured with -Dbench=false, or meson kept its earlier"
    say "'no oneDNN header' answer from before libdnnl-dev was installed; run 'meson setup --wipe $build',"
    say "or set TINCEPTION to the tinception of a build folder set up since"; exit 2; }

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

# A peer that computes other features is no yardstick: its pooled features must match
# `tinception embed` on one image (exact decode on both sides) before it is timed.
image="${CHECK_IMAGE:-}"
if [ -z "$image" ] && [ -d "${TINCEPTION_SUPERHEROES:-}" ]; then
    image="$(find "$TINCEPTION_SUPERHEROES" -mindepth 2 -type f -name '*.jpg' | sort | sed -n 1p)"  # sed, not head: no SIGPIPE under pipefail
fi
if [ -z "$image" ]; then  # 320x240 of noise, as binary PPM
    image="$check_dir/noise.ppm"
    { printf 'P6\n320 240\n255\n'; head -c $((320 * 240 * 3)) /dev/urandom; } > "$image"
fi
say "checking the oneDNN peer's features against tinception embed on $image"
"$tinception" embed "$weights" "$image" --layer mixed10 --exact-decode -o "$check_dir/tinception.f32" >&2
"$onednn_peer" check "$weights" "$image" "$check_dir/tinception.f32" | tee "$check_dir/check.txt" >&2 || {
    say "the oneDNN peer's features differ from tinception's; not timing it"; exit 1; }

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
awk -F'\t' '
    function median(list,    n, v, i, j, t) {
        n = split(list, v, " ")
        for (i = 2; i <= n; ++i) for (j = i; j > 1 && v[j - 1] + 0 > v[j] + 0; --j) { t = v[j]; v[j] = v[j - 1]; v[j - 1] = t }
        return n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
    }
    # ms[num] / ms[den] of each round that has both (keys engine,batch,threads), as a list for median().
    function same_round_ratios(num, den,    list, r) {
        list = ""
        for (r in round) if ((num "," r) in ms && (den "," r) in ms) list = list " " ms[num "," r] / ms[den "," r]
        return list
    }
    BEGIN { np = split("pytorch onnxruntime onednn_direct onednn_winograd", peer, " ") }
    {
        k = $1 "," $2 "," $3
        ms[k "," $5] = $4
        all[k] = all[k] " " $4
        if (!(k in seen)) { seen[k] = 1; key[++nk] = k; eng[nk] = $1; b[nk] = $2; t[nk] = $3 }
        round[$5] = 1
    }
    END {
        header = sprintf("%-16s %5s %7s %10s %8s", "engine", "batch", "threads", "ms/image", "scaling")
        for (p = 1; p <= np; ++p) header = header sprintf(" %" (length(peer[p]) + 2) "s", "x_" peer[p])
        print header
        for (i = 1; i <= nk; ++i) {
            scaling = "-"
            one = eng[i] "," b[i] ",1"
            if (t[i] != 1 && (one in all)) {
                list = same_round_ratios(one, key[i])
                if (list != "") scaling = sprintf("%.2fx", median(list))
            }
            line = sprintf("%-16s %5d %7d %10.2f %8s", eng[i], b[i], t[i], median(all[key[i]]), scaling)
            if (eng[i] == "tinception") {
                for (p = 1; p <= np; ++p) {
                    list = same_round_ratios(peer[p] "," b[i] "," t[i], key[i])
                    line = line sprintf(" %" (length(peer[p]) + 2) "s", list != "" ? sprintf("%.2f", median(list)) : "-")
                }
            }
            print line
        }
    }' "$rows"
