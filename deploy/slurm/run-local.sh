#!/bin/bash
# Runs the N tasks of deploy/slurm/stylize-array.sbatch on this machine, all
# at once as an array's tasks would run, each with SLURM_ARRAY_TASK_ID and
# SLURM_ARRAY_TASK_COUNT set as Slurm sets them. Same variables as the sbatch
# script (INPUT_DIR, OUTPUT_DIR, NST, MODE, MODEL, ...); task I's log goes to
# LOG_DIR/task-I.log (default OUTPUT_DIR/logs). Exits non-zero when any task did.
#
#   INPUT_DIR=photos OUTPUT_DIR=painted NST=build/nst MODEL=build/models/udnie.nstw \
#     deploy/slurm/run-local.sh 3
set -uo pipefail

count=${1:?usage: run-local.sh N (the number of array tasks)}
here=$(cd "$(dirname "$0")" && pwd)
: "${OUTPUT_DIR:?set OUTPUT_DIR}"
LOG_DIR=${LOG_DIR:-$OUTPUT_DIR/logs}
mkdir -p "$LOG_DIR"
pids=()
for ((i = 0; i < count; i++)); do
  SLURM_ARRAY_TASK_ID=$i SLURM_ARRAY_TASK_COUNT=$count SLURM_ARRAY_TASK_MIN=0 \
    bash "$here/stylize-array.sbatch" >"$LOG_DIR/task-$i.log" 2>&1 &
  pids+=($!)
done
status=0
for i in "${!pids[@]}"; do
  if ! wait "${pids[$i]}"; then
    echo "run-local.sh: task $i failed; see $LOG_DIR/task-$i.log" >&2
    status=1
  fi
done
exit $status
