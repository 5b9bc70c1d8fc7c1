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
declare -A cand=(
  [literal_step]="--set model.input_to_output=false --set model.output_bias=false --set task.target_on=1.0 --set task.target_off=0.0 --set train.update=step"
  [literal_seq]="--set model.input_to_output=false --set model.output_bias=false --set task.target_on=1.0 --set task.target_off=0.0 --set train.update=sequence"
  [shortcut_step]="--set model.input_to_output=true --set model.output_bias=true --set task.target_on=1.0 --set task.target_off=0.0 --set train.update=step"
  [shortcut_soft_step]="--set model.input_to_output=true --set model.output_bias=true --set task.target_on=0.9 --set task.target_off=0.1 --set train.update=step"
  [jku_style]="--set model.input_to_output=false --set model.output_bias=false --set task.target_on=1.0 --set task.target_off=0.0 --set train.update=sequence --set model.reset_act=0.5 --set train.sampling=epoch --set init.bias_mode=offset"
  [shortcut_legal_seq]="--set model.input_to_output=true --set model.output_bias=true --set task.targets=legal --set task.target_on=1.0 --set task.target_off=0.0 --set train.update=sequence"
  [shortcut_soft_seq_budget1M]="--set model.input_to_output=true --set model.output_bias=true --set task.target_on=0.9 --set task.target_off=0.1 --set train.update=sequence --set protocol.budget=1000000"
  [shortcut_soft_seq_shuffle]="--set model.input_to_output=true --set model.output_bias=true --set task.target_on=0.9 --set task.target_off=0.1 --set train.update=sequence --set train.sampling=shuffle"
  [shortcut_soft_step_shuffle]="--set model.input_to_output=true --set model.output_bias=true --set task.target_on=0.9 --set task.target_off=0.1 --set train.update=step --set train.sampling=shuffle"
  [shortcut_soft_seq]="--set model.input_to_output=true --set model.output_bias=true --set task.target_on=0.9 --set task.target_off=0.1 --set train.update=sequence"
)
for c in ${CANDIDATES:-literal_step literal_seq shortcut_step shortcut_soft_step shortcut_soft_seq}; do
  for cfg in configs/paper/exp1_erg_*.yaml; do
    row=$(basename "$cfg" .yaml)
    # shellcheck disable=SC2086
    study_run "$out/$c/$row" "$cfg" "$trials" ${cand[$c]}
  done
done
python3 scripts/tabulate.py "$out"/*/*
