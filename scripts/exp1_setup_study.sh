#!/usr/bin/env bash
# Exp 1 setup study: which reading of HS97 §5.1 reproduces Table 1?  Runs every candidate setup on
# the five Table 1 rows (30 trials each, the paper's count) and prints one table.
# Usage: scripts/exp1_setup_study.sh [OUT_DIR] [TRIALS]
#   env: JOBS (default 2), SEED (default: the config's), CANDIDATES (default: the first five below)
set -euo pipefail
out=${1:-results/exp1_setup_study}
trials=${2:-30}
export JOBS=${JOBS:-2}
. "$(dirname "$0")/study_lib.sh"
readings=scripts/readings/exp1.yaml   # name -> options
for c in ${CANDIDATES:-literal_step literal_seq shortcut_step shortcut_soft_step shortcut_soft_seq}; do
  opts=$(reading "$readings" "$c")
  for cfg in configs/paper/exp1_erg_*.yaml; do
    row=$(basename "$cfg" .yaml)
    # shellcheck disable=SC2086
    study_run "$out/$c/$row" "$cfg" "$trials" $opts
  done
done
python3 scripts/tabulate.py "$out"/*/*
