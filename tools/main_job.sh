#!/usr/bin/env bash
# The main job end to end, as the origin article runs it: build, fetch and convert the
# weights when missing, train on the superheroes data, then classify single images and a
# folder. Outputs go to out/ (git-ignored); the model there is replaced on each run.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/build.sh
weights/fetch_weights.sh build
data="$(data/fetch_superheroes.sh)"
tinception=build/src/tinception
mkdir -p out

echo "== train on $data"
"$tinception" train "$data" -o out/superheroes.tcm --force --cross-validate 5 | grep -v '^step ' || exit 1

echo "== guess one image at a time"
for image in "$data/elsa/images33.jpg" "$data/darth_vader/s1images(70).jpg"; do
  echo "$image:"
  "$tinception" guess out/superheroes.tcm "$image"
done

echo "== guess-dir on a handful of images"
sample="$(mktemp -d)"
trap 'rm -rf "$sample"' EXIT
elsa=("$data"/elsa/*.jpg)
vader=("$data"/darth_vader/*.jpg)
cp -t "$sample" "${elsa[@]:0:4}" "${vader[@]:0:4}"
classified="out/classified-$(date +%Y%m%d-%H%M%S)"
"$tinception" guess-dir out/superheroes.tcm "$sample" "$classified"
ls "$classified"
