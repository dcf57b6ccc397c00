# Sourced by run_peers.sh and run_quant_peers.sh, which define say() first: installing Debian
# packages, building the oneDNN peer, and checking its features against `tinception embed`.

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

# build_onednn_peer TINCEPTION: oneDNN from Debian, and the peer built against it in the build
# folder of TINCEPTION; sets onednn_peer to its path.
build_onednn_peer() {
    local build
    build="$(cd "$(dirname "$1")/.." && pwd)"
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
}

# check_onednn_peer TINCEPTION WEIGHTS DIR PRECISIONS: a peer that computes other features is no
# yardstick, so its pooled features must match `tinception embed` on one image (exact decode on
# both sides) before it is timed: $CHECK_IMAGE, else the first of $TINCEPTION_SUPERHEROES, else
# 320x240 of noise. Writes DIR/check.txt; exits when a trunk is outside its tolerance.
check_onednn_peer() {
    local tinception="$1" weights="$2" dir="$3" precisions="$4" image="${CHECK_IMAGE:-}"
    if [ -z "$image" ] && [ -d "${TINCEPTION_SUPERHEROES:-}" ]; then
        image="$(find "$TINCEPTION_SUPERHEROES" -mindepth 2 -type f -name '*.jpg' | sort | sed -n 1p)"  # sed, not head: no SIGPIPE under pipefail
    fi
    if [ -z "$image" ]; then  # binary PPM
        image="$dir/noise.ppm"
        { printf 'P6\n320 240\n255\n'; head -c $((320 * 240 * 3)) /dev/urandom; } > "$image"
    fi
    say "checking the oneDNN peer's features ($precisions) against tinception embed on $image"
    "$tinception" embed "$weights" "$image" --layer mixed10 --exact-decode -o "$dir/tinception.f32" >&2
    "$onednn_peer" check "$weights" "$image" "$dir/tinception.f32" "$precisions" | tee "$dir/check.txt" >&2 || {
        say "the oneDNN peer's features differ from tinception's; not timing it"; exit 1; }
}
