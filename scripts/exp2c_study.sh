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
                   [q50_p50]=300000 [q100_p100]=310000)
declare -A cand=(
  # the paper's text: U[-0.2, 0.2], no biases, connectivity F, lr 0.01, truncated gradient
  [literal]="--set init.scale=0.2"
  # the committed configs' departure (U[-0.02, 0.02]) and smaller inits
  [init02]="--set init.scale=0.02"
  [init005]="--set init.scale=0.005"
  [init002]="--set init.scale=0.002"
  # gates' recurrent outputs excluded: cells and gates read inputs and cell outputs only (GSC00)
  [connC_init02]="--set init.scale=0.02 --set model.connectivity=C"
  [connC_init002]="--set init.scale=0.002 --set model.connectivity=C"
  # JKU simulator habits: a bias unit feeding every hidden unit; activations reset to 0.5
  [b1_init02]="--set init.scale=0.02 --set model.biases=b1"
  [reset05_init02]="--set init.scale=0.02 --set model.reset_act=0.5"
  [reset05_init2]="--set init.scale=0.2 --set model.reset_act=0.5"
  # HS97 §4 remedies: negative output-gate biases (abuse), negative input-gate biases (drift)
  [ogb_init02]="--set init.scale=0.02 --set model.biases=ga --set init.output_gate_bias=[-2,-4]"
  [igb_init02]="--set init.scale=0.02 --set model.biases=ga --set init.input_gate_bias=[-1,-2]"
  # larger learning rate; the full gradient
  [lr05_init02]="--set init.scale=0.02 --set train.lr=0.05"
  [lr05_init002]="--set init.scale=0.002 --set train.lr=0.05"
  [full_init02]="--set init.scale=0.02 --set train.gradient=full"
  # how "success after" is counted: on-line window, counted at its start
  [online_init002]="--set init.scale=0.002 --set protocol.abs_mode=online"
  # connectivity C with the JKU habits, a larger rate, the full gradient, on-line counting
  [connC_reset05]="--set init.scale=0.02 --set model.connectivity=C --set model.reset_act=0.5"
  [connC_b1]="--set init.scale=0.02 --set model.connectivity=C --set model.biases=b1"
  [connC_lr05]="--set init.scale=0.02 --set model.connectivity=C --set train.lr=0.05"
  [connC_full]="--set init.scale=0.02 --set model.connectivity=C --set train.gradient=full"
  [connC_online]="--set init.scale=0.02 --set model.connectivity=C --set protocol.abs_mode=online"
  [connC_init2]="--set init.scale=0.2 --set model.connectivity=C"
)
for c in ${READINGS:-literal init02 init002 connC_init02}; do
  for row in ${ROWS:-q200_p200 q500_p500 q1000_p1000 q1000_p50}; do
    cfg=configs/paper/exp2c_$row.yaml
    # shellcheck disable=SC2086
    study_run "$out/$c/$row" "$cfg" "$trials" --set protocol.budget="${BUDGET:-${budget[$row]}}" ${cand[$c]}
  done
done
python3 scripts/tabulate.py "$out"/*/*
