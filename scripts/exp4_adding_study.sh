#!/usr/bin/env bash
# Exp 4 (adding) reading study: which reading of HS97 §5.4's ST3 ("average training error below
# 0.01 and the 2000 most recent sequences processed correctly"), output unit and learning rate
# reproduces Table 7?  Runs each candidate on the rows given, one process at a time, and tabulates.
# Usage: scripts/exp4_adding_study.sh OUT_DIR TRIALS ROWS...   (ROWS: t100 t500 t1000)
#   env: CANDIDATES (default: all below), BUDGET (default: the config's 5,000,000), JOBS (default 1),
#        EXTRA (more --set options for every run, e.g. "--set protocol.st3_halves=true")
set -euo pipefail
out=$1; trials=$2; shift 2
. "$(dirname "$0")/study_lib.sh"
readings=scripts/readings/exp4_adding.yaml   # name -> options
for c in ${CANDIDATES:-lin_mae_a05 lin_mse_a05 log_mse_a05 lin_mae_a10 lin_mse_a10 log_mse_a10 log_mae_a10 log_mae_a05}; do
  opts=$(reading "$readings" "$c")
  for row in "$@"; do
    cfg=configs/paper/exp4_adding_${row}.yaml
    # shellcheck disable=SC2086
    study_run "$out/$c/exp4_adding_${row}" "$cfg" "$trials" ${BUDGET:+--set protocol.budget=$BUDGET} \
      $opts ${EXTRA:-}
  done
done
python3 scripts/tabulate.py "$out"/*/*
