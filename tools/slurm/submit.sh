#!/usr/bin/env bash
# Submits the bottlenecks of DATA_DIR as a Slurm job array of N tasks and the training job
# that runs once every task has succeeded (and is cancelled if one fails); prints both job
# ids. The cache folder must be shared by the nodes (or merged with 'tinception cache merge').
#
#   tools/slurm/submit.sh DATA_DIR N MODEL [sbatch options...] [-- train options...]
#
# sbatch options (--partition, --time, --cpus-per-task...) go to both jobs. Train options
# go to the training job; --weights, --bottleneck and --bottleneck-dir among them also go
# to the array, so both use the same features. The program is $TINCEPTION, else
# `tinception` on PATH.
set -euo pipefail

usage() {
  echo "usage: $0 DATA_DIR N MODEL [sbatch options...] [-- tinception train options...]" >&2
  exit 2
}
(($# >= 3)) || usage
data_dir=$(realpath -- "$1") || usage
count=$2
model=$(realpath -m -- "$3")
shift 3
[[ $count =~ ^[1-9][0-9]*$ ]] || { echo "submit.sh: N must be a positive whole number, not '$count'" >&2; exit 2; }
[ -d "$data_dir" ] || { echo "submit.sh: $data_dir is not a folder" >&2; exit 2; }

sbatch_options=()
while (($#)) && [ "$1" != "--" ]; do sbatch_options+=("$1"); shift; done
(($#)) && shift
train_options=("$@")

# The options that decide which features are cached go to both jobs.
shared_options=()
for ((i = 0; i < ${#train_options[@]}; i++)); do
  case ${train_options[i]} in
    --weights=* | --bottleneck=* | --bottleneck-dir=*) shared_options+=("${train_options[i]}") ;;
    --weights | --bottleneck | --bottleneck-dir)
      shared_options+=("${train_options[i]}" "${train_options[i + 1]:-}")
      i=$((i + 1))
      ;;
  esac
done

here=$(dirname -- "$(realpath -- "$0")")
array_job=$(sbatch --parsable --array="0-$((count - 1))" "${sbatch_options[@]}" \
  "$here/bottlenecks.sbatch" "$data_dir" "$count" "${shared_options[@]}")
array_job=${array_job%%;*}
train_job=$(sbatch --parsable --dependency="afterok:$array_job" --kill-on-invalid-dep=yes "${sbatch_options[@]}" \
  "$here/train.sbatch" "$data_dir" "$model" "${train_options[@]}")
train_job=${train_job%%;*}
echo "array job: $array_job"
echo "training job: $train_job"
