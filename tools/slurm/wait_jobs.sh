#!/usr/bin/env bash
# Waits until Slurm jobs (array jobs with all their tasks) have ended, by polling
# `scontrol show job` (sbatch --wait notices the end late). Exits 0 when every job
# COMPLETED, 1 when any ended otherwise (failed, cancelled, timed out...), printing each
# job's final state. Usage: tools/slurm/wait_jobs.sh JOB_ID... (WAIT_TIMEOUT_S, default
# none: give up with exit 3 after that many seconds).
set -euo pipefail
(($#)) || { echo "usage: $0 JOB_ID..." >&2; exit 2; }
timeout_s=${WAIT_TIMEOUT_S:-0}
start=$SECONDS

# "<job>[_<task>] <STATE>" for every job (and array task) of the arguments.
job_states() {
  local job out
  for job in "$@"; do
    if ! out=$(scontrol show job --oneliner "$job" 2>&1); then
      echo "wait_jobs.sh: job $job is unknown to slurmctld: $out" >&2
      return 1
    fi
    awk '{ id = ""; task = ""; state = ""
           for (i = 1; i <= NF; i++) {
             split($i, kv, "=")
             if (kv[1] == "JobId") id = kv[2]
             else if (kv[1] == "ArrayJobId") id = kv[2]
             else if (kv[1] == "ArrayTaskId") task = "_" kv[2]
             else if (kv[1] == "JobState") state = kv[2]
           }
           print id task, state }' <<<"$out"
  done
}

while :; do
  states=$(job_states "$@") || exit 1
  if ! grep -Eq ' (PENDING|RUNNING|CONFIGURING|COMPLETING|SUSPENDED|REQUEUED|RESIZING|SIGNALING|STAGE_OUT)$' <<<"$states"; then
    echo "$states"
    if grep -Evq ' COMPLETED$' <<<"$states"; then exit 1; fi
    exit 0
  fi
  if ((timeout_s > 0 && SECONDS - start > timeout_s)); then
    echo "wait_jobs.sh: still running after ${timeout_s} s:" >&2
    echo "$states" >&2
    exit 3
  fi
  sleep 0.5
done
