#!/usr/bin/env bash
# Times the Inception v3 trunk (299x299 input -> pooled 2048 features) in fp32, int8 and bf16
# on tinception and on oneDNN in one run, same batches and thread counts, in ROUNDS rounds of
# both in turn (median ms/image of ITERATIONS runs after warm-up each), and prints each
# engine's times and scaling, then the same-round ratios: tinception int8 and bf16 against
# oneDNN's, and each precision against fp32 on both sides.
#
#   bench/peers/run_quant_peers.sh [WEIGHTS]        (from the repository root)
#   env: TINCEPTION=path/to/tinception (default build/src/tinception), BATCHES=1,8,
#        THREADS=1,2, ITERATIONS=10 (timed runs per engine and round), ROUNDS=3, CHECK_IMAGE=an
#        image for the oneDNN check (default: the first of $TINCEPTION_SUPERHEROES, else a
#        generated one)
#
# Both sides calibrate int8 on their own uniform [0, 1) timing input (speed does not depend on
# the values). oneDNN (Debian's libdnnl-dev, installed when missing) runs the weight file's own
# graph and weights (onednn_peer.cpp, built in tinception's build folder); before anything is
# timed its features are checked against `tinception embed` (fp32) on one image: fp32 to float
# rounding, int8 (calibrated on that image) to a cosine above 0.99, bf16 above 0.999.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
weights="${1:-$root/weights/inception_v3.tcw}"
tinception="${TINCEPTION:-$root/build/src/tinception}"
batches="${BATCHES:-1,8}"
threads="${THREADS:-1,2}"
iterations="${ITERATIONS:-10}"
rounds="${ROUNDS:-3}"

say() { echo "run_quant_peers: $*" >&2; }

[ -x "$tinception" ] || { say "no tinception binary at $tinception (build it, or set TINCEPTION)"; exit 2; }
[ -f "$weights" ] || { say "no weight file at $weights"; exit 2; }

. "$here/peer_setup.sh"
build_onednn_peer "$tinception"

rows="$(mktemp)"
check_dir="$(mktemp -d)"
trap 'rm -f "$rows"; rm -rf "$check_dir"' EXIT

check_onednn_peer "$tinception" "$weights" "$check_dir" fp32,int8,bf16

# Each round times both engines once, in turn, so a drift in the machine's speed over minutes
# slows both alike within a round; each ratio is the median of the same-round ratios.
for round in $(seq 1 "$rounds"); do
    say "round $round of $rounds: timing tinception fp32, int8, bf16"
    # tee -a: without O_APPEND, tee truncates a stderr redirected to a file and overwrites it.
    "$tinception" bench "$weights" --batch "$batches" --threads "$threads" --iterations "$iterations" \
        --precision fp32,int8,bf16 --compare none --tsv | tee -a /dev/stderr \
        | grep -E '^tinception(_int8|_bf16)?	' | sed "s/\$/	$round/" >> "$rows"
    say "round $round of $rounds: timing oneDNN fp32 (direct, Winograd), int8, bf16"
    "$onednn_peer" time "$weights" "$batches" "$threads" "$iterations" fp32,int8,bf16 2> "$check_dir/kernels.txt" \
        | sed "s/\$/	$round/" >> "$rows" || { cat "$check_dir/kernels.txt" >&2; exit 1; }
done
cat "$check_dir/kernels.txt" >&2

echo
echo "Inception v3 trunk, 299x299 -> 2048 pooled features, fp32/int8/bf16; per round the median of $iterations runs after warm-up; $rounds rounds"
echo "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) cpus"
cat "$check_dir/check.txt" "$check_dir/kernels.txt"
echo "ms/image: median over rounds; scaling: median over rounds of (1-thread ms / N-thread ms) in the same round"
echo "ratios: median over rounds of (ms / ms) in the same round (below 1: the first is faster)"
awk -F'\t' -f "$here/round_table.awk" -v ratios="int8/onednn_int8=tinception_int8/onednn_int8 \
bf16/onednn_bf16=tinception_bf16/onednn_bf16 int8/fp32=tinception_int8/tinception bf16/fp32=tinception_bf16/tinception \
fp32/onednn_wino=tinception/onednn_winograd onednn_int8/wino=onednn_int8/onednn_winograd \
onednn_bf16/wino=onednn_bf16/onednn_winograd" "$rows"
