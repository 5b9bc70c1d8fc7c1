#!/usr/bin/env bash
# Exp 2c setup study (issue 14): which reading of HS97 §5.2 reproduces Table 3 at long lags?
# Runs named readings on the rows q=p=200, 500, 1000 and q=1000 p=50 and prints one table.
# Usage: scripts/exp2c_study.sh [OUT_DIR] [TRIALS]
#   env: JOBS (default 1), SEED (default: the config's), READINGS (default: the chosen set below),
#        ROWS (default: the four rows), BUDGET (default: 10x the paper's mean of each row)
# A screen: READINGS="init002 connC_init02" ROWS="q200_p200 q1000_p1000" BUDGET=100000 \
#           scripts/exp2c_study.sh results/study2c_screen 3
set -euo pipefail
out=${1:-results/study2c}
trials=${2:-10}
. "$(dirname "$0")/study_lib.sh"
# 10x the paper's mean (HS97 Table 3)
declare -A budget=([q200_p200]=330000 [q500_p500]=380000 [q1000_p1000]=490000 [q1000_p50]=2030000
                   [q50_p50]=300000 [q100_p100]=310000 [q1000_p500]=490000 [q1000_p200]=750000
                   [q1000_p100]=1350000)
readings=scripts/readings/exp2c.yaml   # name -> options
for c in ${READINGS:-literal init02 init002 connC_init02}; do
  opts=$(reading "$readings" "$c")
  for row in ${ROWS:-q200_p200 q500_p500 q1000_p1000 q1000_p50}; do
    cfg=configs/paper/exp2c_$row.yaml
    # shellcheck disable=SC2086
    study_run "$out/$c/$row" "$cfg" "$trials" --set protocol.budget="${BUDGET:-${budget[$row]}}" $opts
  done
done
python3 scripts/tabulate.py "$out"/*/*
