#!/bin/bash
# One shard of an slfsim study per Slurm array task.
#
#   sbatch --array=0-7 scripts/slurm_study.sh STUDY.ron OUT_ROOT
#   # when every task has finished:
#   slfsim study --merge OUT_ROOT/shard-* --out OUT_ROOT/merged
#
# Each task writes OUT_ROOT/shard-<task id>; a task that is requeued or
# re-submitted resumes where it stopped (finished runs are skipped). All
# tasks share one job cache, OUT_ROOT/cache (or $SLFSIM_CACHE), on the shared
# file system: each fine-tuning and link evaluation is computed once, by the
# first task that needs it, and read by the others (a task that needs one
# being computed waits for it).
#SBATCH --job-name=slfsim-study
#SBATCH --cpus-per-task=2
#SBATCH --mem=4G
#SBATCH --time=02:00:00
#SBATCH --output=slfsim-study-%A_%a.log
set -euo pipefail
study=${1:?usage: slurm_study.sh STUDY.ron OUT_ROOT}
root=${2:?usage: slurm_study.sh STUDY.ron OUT_ROOT}
: "${SLURM_ARRAY_TASK_ID:?run with sbatch --array}"
count=${SLURM_ARRAY_TASK_COUNT:-1}
bin=${SLFSIM_BIN:-target/release/slfsim}
exec "$bin" --threads "${SLURM_CPUS_PER_TASK:-2}" study "$study" \
    --shard "$SLURM_ARRAY_TASK_ID/$count" --out "$root/shard-$SLURM_ARRAY_TASK_ID" \
    --cache "${SLFSIM_CACHE:-$root/cache}"
