#!/usr/bin/env bash
# Installs what tinception needs to build, test and fetch its weights on Debian or Ubuntu.
# Idempotent and quiet when everything is already there; uses sudo only when not root.
set -euo pipefail

packages=(
  g++ pkg-config cmake meson ninja-build   # toolchain (cmake: how meson finds doctest)
  libeigen3-dev libstb-dev libcxxopts-dev doctest-dev libbenchmark-dev
  nlohmann-json3-dev                       # JSON parser for the weight converter
  openssl                                  # checks the weight package's sha512
  libonnx-testdata                         # ONNX node tests: our kernels' conformance suite
  libjpeg-dev                              # tests write grayscale, CMYK, progressive and Exif JPEGs
  libwebp-dev libtiff-dev                  # WebP and TIFF input (optional at build time: -Dwebp, -Dtiff)
  libturbojpeg0-dev                        # fast, DCT-scaled JPEG input (optional: -Dturbojpeg)
  slurmctld slurmd slurm-client munge      # the Slurm job-array test runs a one-machine cluster
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)

if ((${#missing[@]})); then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "setup: installing ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
