#!/usr/bin/env bash
# Prints the SHA-256 of every deterministic output of the shipped network
# scenarios (with --steps 3) and of the smoke study: the check that a
# refactoring changed nothing a user sees.
#
#   scripts/fingerprint.sh [BIN] > before.txt   # ... change ... then again > after.txt; diff
#
# Uses $SLFSIM_DATA like every command; outputs go to a temporary folder.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-target/release/slfsim}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
for sc in scenarios/quickstart.ron scenarios/network/*.ron; do
  name=$(basename "$sc" .ron)
  # The scale scenarios take minutes each: timed by hand (README, Scale).
  # The physical-world city takes minutes even with --steps 3 (tests/world.rs covers it).
  case $name in population10k|population100k|mesh10k|city) continue ;; esac
  "$bin" --threads 2 run "$sc" --steps 3 --out "$out/$name" >/dev/null
  for f in summary.json events.jsonl pairs.csv timeseries.csv; do
    (cd "$out" && sha256sum "$name/$f")
  done
done
"$bin" --threads 2 study scenarios/studies/smoke.ron --out "$out/smoke" >/dev/null
(cd "$out" && sha256sum smoke/study.csv smoke/summary.csv)
