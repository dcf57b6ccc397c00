#!/usr/bin/env bash
# The bottlenecks on a real Slurm job array, on this one machine: starts munged, slurmctld
# and slurmd (as root, everything under a temporary folder), submits the 4-shard array over
# the superheroes images (the first 40 of each category) plus the training job with tools/slurm/submit.sh, and checks that
#  - a task made to fail cancels the training job, and waiting on it reports failure;
#  - `train --require-cached` then lists exactly that shard's images as missing;
#  - re-running just that task completes the cache, and the training job after it writes a
#    model byte-identical to a one-machine `train` with the same seed.
# Each daemon is stopped by its PID at exit, also on failure. Needs root (the daemons
# switch users and own their spool folders); skipped otherwise.
set -euo pipefail

if [ "$(id -u)" -ne 0 ]; then
  echo "SKIP: the Slurm test starts munged, slurmctld and slurmd, which needs root (running as $(id -un))"
  exit 77
fi
source_root=$(cd "$(dirname "$0")/.." && pwd)
for tool in munged slurmctld slurmd sbatch squeue scontrol sinfo; do
  command -v "$tool" >/dev/null || { echo "FAIL: $tool is not installed; run tools/setup.sh"; exit 1; }
done
for var in TINCEPTION_EXE TINCEPTION_SUPERHEROES TINCEPTION_WEIGHTS; do
  [ -e "${!var:-}" ] || { echo "FAIL: $var is not set or missing; run tools/test.sh"; exit 1; }
done
exe=$TINCEPTION_EXE
started=$SECONDS
say() { echo "[$((SECONDS - started)) s] $*"; }

work=$(mktemp -d /tmp/tinception-slurm.XXXXXX)
chmod 755 "$work"  # munged refuses a socket folder others cannot search
mkdir -p "$work"/{munge,state,spool,log,jobs}
pids=()
cleanup() {
  local status=$?
  if [ -n "${SLURM_CONF:-}" ] && ((${#pids[@]} > 1)); then
    scancel --quiet --user=root 2>/dev/null || true
    for _ in $(seq 50); do [ -z "$(squeue -h 2>/dev/null)" ] && break; sleep 0.1; done
  fi
  # Stop in reverse order of start: slurmd, slurmctld, munged.
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
    kill "${pids[i]}" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "${pids[i]}" 2>/dev/null || break; sleep 0.1; done
    kill -9 "${pids[i]}" 2>/dev/null || true
  done
  if ((status != 0)); then
    echo "--- logs"
    tail -n 20 "$work"/log/* "$work"/jobs/* 2>/dev/null || true
  fi
  rm -rf "$work"
  exit "$status"
}
trap cleanup EXIT

# The first TINCEPTION_SLURM_PER_CATEGORY images of each category (default 40; 0: all): the
# features are computed twice, by the array and by the one-machine run it is compared with,
# and nothing below depends on how many images there are.
per_category=${TINCEPTION_SLURM_PER_CATEGORY:-40}
data=$TINCEPTION_SUPERHEROES
if [ "$per_category" -gt 0 ]; then
  data=$work/data
  for category in "$TINCEPTION_SUPERHEROES"/*/; do
    mapfile -t files < <(find "$category" -maxdepth 1 -type f ! -name '.*' | sort)
    mkdir -p "$data/$(basename "$category")"
    cp -t "$data/$(basename "$category")" "${files[@]:0:per_category}"
  done
fi

# Free TCP ports for slurmctld and slurmd (a connection attempt that fails means free).
free_port() {
  local port
  for port in $(seq "$1" $(($1 + 200))); do
    (echo >"/dev/tcp/127.0.0.1/$port") 2>/dev/null || { echo "$port"; return; }
  done
  echo "FAIL: no free port from $1" >&2
  return 1
}
ctld_port=$(free_port 16817)
slurmd_port=$(free_port $((ctld_port + 1)))

dd if=/dev/urandom of="$work/munge/munge.key" bs=1024 count=1 status=none
chmod 600 "$work/munge/munge.key"
munged --foreground --force --socket="$work/munge/socket" --key-file="$work/munge/munge.key" \
  --pid-file="$work/munge/munged.pid" --seed-file="$work/munge/seed" --log-file="$work/log/munged.log" \
  >"$work/log/munged.out" 2>&1 &
pids+=($!)

cat >"$work/slurm.conf" <<CONF
ClusterName=tinception
SlurmctldHost=localhost(127.0.0.1)
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$work/munge/socket
SlurmUser=root
SlurmdUser=root
StateSaveLocation=$work/state
SlurmdSpoolDir=$work/spool
SlurmctldPidFile=$work/slurmctld.pid
SlurmdPidFile=$work/slurmd.pid
SlurmctldLogFile=$work/log/slurmctld.log
SlurmdLogFile=$work/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
SwitchType=switch/none
SchedulerType=sched/builtin
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerParameters=batch_sched_delay=0,sched_min_interval=0
DependencyParameters=kill_invalid_depend
ReturnToService=2
NodeName=localhost NodeAddr=127.0.0.1 CPUs=$(nproc) State=UNKNOWN
PartitionName=test Nodes=localhost Default=YES MaxTime=INFINITE State=UP
CONF
export SLURM_CONF=$work/slurm.conf
for _ in $(seq 50); do [ -S "$work/munge/socket" ] && break; sleep 0.1; done
slurmctld -D -f "$SLURM_CONF" >"$work/log/slurmctld.out" 2>&1 &
pids+=($!)
slurmd -D -N localhost -f "$SLURM_CONF" >"$work/log/slurmd.out" 2>&1 &
pids+=($!)
for _ in $(seq 100); do
  [ "$(sinfo -h -n localhost -o %T 2>/dev/null)" = idle ] && break
  sleep 0.2
done
[ "$(sinfo -h -n localhost -o %T)" = idle ] || { echo "FAIL: the node never came up idle"; exit 1; }
say "munged, slurmctld and slurmd up (pids ${pids[*]})"

checks=0
check() {  # check DESCRIPTION COMMAND...: runs the command, fails the test when it fails
  local what=$1
  shift
  if "$@"; then checks=$((checks + 1)); say "ok: $what"; else echo "FAIL: $what"; exit 1; fi
}

cache=$work/cache
train_options=(--bottleneck-dir "$cache" --seed 7 --weights "$TINCEPTION_WEIGHTS")
cd "$work/jobs"  # where the jobs' slurm-*.out files go

# Run 1: task 2 is made to fail before it computes anything.
cat >"$work/failing-tinception" <<WRAP
#!/usr/bin/env bash
if [ "\${SLURM_ARRAY_TASK_ID:-}" = 2 ]; then echo "injected failure of task 2" >&2; exit 3; fi
exec "$exe" "\$@"
WRAP
chmod +x "$work/failing-tinception"
submitted=$(TINCEPTION="$work/failing-tinception" "$source_root/tools/slurm/submit.sh" "$data" 4 "$work/array.tcm" \
  -- "${train_options[@]}")
echo "$submitted"
array_job=$(awk '/^array job:/ {print $3}' <<<"$submitted")
train_job=$(awk '/^training job:/ {print $3}' <<<"$submitted")
status=0
states=$("$source_root/tools/slurm/wait_jobs.sh" "$array_job" "$train_job") || status=$?
echo "$states"
check "waiting on the array and training jobs reports failure" test "$status" -eq 1
check "task 2 failed" grep -qx "${array_job}_2 FAILED" <<<"$states"
check "tasks 0, 1 and 3 completed" test "$(grep -cE "^${array_job}_[013] COMPLETED$" <<<"$states")" -eq 3
check "the training job was cancelled" grep -qx "$train_job CANCELLED" <<<"$states"
check "no model was written" test ! -e "$work/array.tcm"

# The plan: every image in exactly one of the 4 shards, with the MD5 of its bytes.
for shard in 0 1 2 3; do
  "$exe" bottlenecks "$data" --shard "$shard/4" --dry-run 2>/dev/null | sed '$d' | sed "s|^|$shard |"
done >"$work/plan.txt"
while read -r shard path; do
  echo "$shard $(md5sum <"$data/$path" | cut -c1-32) $data/$path"
done <"$work/plan.txt" >"$work/sums.txt"
# A byte-identical copy inside a category counts once: the scan skips it.
images=$(find "$data" -mindepth 2 -maxdepth 2 -type f ! -name '.*' | grep -iE '\.(jpe?g|png|bmp|gif|webp|tiff?)$' |
  while read -r f; do echo "$(basename "$(dirname "$f")") $(md5sum <"$f" | cut -c1-32)"; done | sort -u | wc -l)
check "the 4 shards list $images images, each once" \
  test "$(cut -d' ' -f2- "$work/plan.txt" | sort -u | wc -l)" -eq "$images" -a "$(wc -l <"$work/plan.txt")" -eq "$images"
# The cache is keyed by content: a shard-2 image whose bytes another shard also holds is cached.
awk '$1 == 2 {print $3}' "$work/sums.txt" | sort >"$work/shard2.txt"
awk 'NR == FNR { if ($1 != 2) other[$2] = 1; next } $1 == 2 && !($2 in other) {print $3}' \
  "$work/sums.txt" "$work/sums.txt" | sort >"$work/expected-missing.txt"
say "shard 2/4: $(wc -l <"$work/shard2.txt") images, $(wc -l <"$work/expected-missing.txt") with bytes no other shard holds"

status=0
"$exe" train "$data" -o "$work/partial.tcm" --require-cached "${train_options[@]}" >"$work/partial.out" 2>&1 || status=$?
check "train --require-cached refuses with exit 2" test "$status" -eq 2
sed -n 's/^warning: not cached: //p' "$work/partial.out" | sort >"$work/missing.txt"
check "it lists exactly the images only shard 2 had" cmp "$work/missing.txt" "$work/expected-missing.txt"
check "its error counts them" \
  grep -q "error: $(wc -l <"$work/missing.txt") of [0-9]* images are not in the bottleneck cache" "$work/partial.out"

# Run 2: just task 2 again (its task count is now 1; N stays 4), then training after it.
rerun=$(TINCEPTION=$exe sbatch --parsable --array=2 "$source_root/tools/slurm/bottlenecks.sbatch" "$data" 4 \
  --bottleneck-dir "$cache" --weights "$TINCEPTION_WEIGHTS")
train2=$(TINCEPTION=$exe sbatch --parsable --dependency="afterok:$rerun" --kill-on-invalid-dep=yes \
  "$source_root/tools/slurm/train.sbatch" "$data" "$work/array.tcm" "${train_options[@]}")
check "re-running task 2 and training succeed" "$source_root/tools/slurm/wait_jobs.sh" "$rerun" "$train2"
check "the re-run computed the missing images and their mirrors" \
  grep -q "shard 2/4: $(wc -l <"$work/shard2.txt") of .* $((2 * $(wc -l <"$work/missing.txt"))) computed, .* 0 failed" \
  "slurm-${rerun}_2.out"
check "the training job computed nothing" grep -q "bottlenecks: 0 computed" "slurm-$train2.out"
check "the merged cache verifies" "$exe" cache verify "$cache"

# The same training on one machine, its own features computed from scratch.
"$exe" train "$data" -o "$work/one.tcm" --bottleneck-dir "$work/one-cache" --seed 7 --weights "$TINCEPTION_WEIGHTS" \
  >"$work/one.out" 2>&1 || { cat "$work/one.out"; exit 1; }
# Its cache started empty: only an image whose bytes it had already seen can be a hit.
computed=$(sed -n 's/^bottlenecks: \([0-9]*\) computed.*/\1/p' "$work/one.out")
check "the one-machine run computed the feature of every distinct image itself ($computed)" \
  test "${computed:-0}" -ge "$(cut -d' ' -f2 "$work/sums.txt" | sort -u | wc -l)"
check "the array's model is byte-identical to the one-machine model" cmp "$work/array.tcm" "$work/one.tcm"
check "so are the labels files" cmp "$work/array.labels.txt" "$work/one.labels.txt"
say "$checks passed, 0 failed"
