#!/usr/bin/env bash
# Truncated vs full gradient (issue 8 part 3; README "Truncated vs full gradient"): the paper
# configs of Exp 1 (3x2, alpha 0.5), Exp 4 (T=100) and Exp 6a at their trial counts, each run with
# train.gradient truncated and full, one worker, into results/full_gradient/<row>_<gradient>/.
# Then the cost per time step (bench/full_gradient_timing.py -> results/full_gradient/timing.json).
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-results/full_gradient}
JOBS=${JOBS:-1}
for row in exp1_erg_3x2_lr05 exp4_adding_t100 exp6a_temporal_order; do
  for g in truncated full; do
    dir="$OUT/${row}_${g}"
    if [ -f "$dir/summary.json" ]; then echo "done: $dir"; continue; fi
    start=$(date +%s)
    lstmrun train "configs/paper/$row.yaml" --jobs "$JOBS" --set "train.gradient=$g" \
      --out "$dir" --quiet
    echo "$row $g: $(( $(date +%s) - start )) s wall" | tee -a "$OUT/wall_times.txt"
  done
done
python bench/full_gradient_timing.py --json "$OUT/timing.json" | tee "$OUT/timing.md"
python scripts/tabulate.py "$OUT"/*/ 2>/dev/null || true

# EXTENDED=1: more evidence at little cost -- the other Exp 1 rows, the literal Exp 1 net (T10's
# 276 weights, 0/1 targets; PROTOCOLS §16.1 saw the full gradient help it most) and more trials with
# another seed (seed 2) for Exp 1 3x2 a0.5 (90), Exp 4 T=100 (30) and Exp 6a (60).
if [ "${EXTENDED:-0}" = 1 ]; then
  LITERAL="--set model.input_to_output=false --set model.output_bias=false"
  LITERAL="$LITERAL --set task.target_on=1.0 --set task.target_off=0.0"
  run() {  # name config args...
    local name=$1 cfg=$2; shift 2
    for g in truncated full; do
      dir="$OUT/extended/${name}_${g}"
      if [ -f "$dir/summary.json" ]; then echo "done: $dir"; continue; fi
      start=$(date +%s)
      # shellcheck disable=SC2068
      lstmrun train "configs/paper/$cfg.yaml" --jobs "$JOBS" --set "train.gradient=$g" $@ \
        --out "$dir" --quiet
      echo "extended $name $g: $(( $(date +%s) - start )) s wall" | tee -a "$OUT/wall_times.txt"
    done
  }
  for row in exp1_erg_4x1_lr01 exp1_erg_3x2_lr01 exp1_erg_3x2_lr02 exp1_erg_4x1_lr05; do
    run "$row" "$row"
  done
  # shellcheck disable=SC2086
  run exp1_erg_3x2_lr05_literal exp1_erg_3x2_lr05 $LITERAL
  run exp1_erg_3x2_lr05_seed2_90 exp1_erg_3x2_lr05 --seed 2 --trials 90
  run exp4_adding_t100_seed2_30 exp4_adding_t100 --seed 2 --trials 30
  run exp6a_temporal_order_seed2_60 exp6a_temporal_order --seed 2 --trials 60
  python scripts/tabulate.py "$OUT"/extended/*/ 2>/dev/null || true
fi

# the paired table (README "Truncated vs full gradient") of every pair that has finished
pairs=()
for t in "$OUT"/*_truncated "$OUT"/extended/*_truncated; do
  f="${t%_truncated}_full"
  if [ -f "$t/summary.json" ] && [ -f "$f/summary.json" ]; then
    pairs+=("$(basename "${t%_truncated}")=$t,$f")
  fi
done
python scripts/compare_gradients.py "${pairs[@]}" | tee "$OUT/comparison.md"
