#!/usr/bin/env bash
# Exp 1 multi-seed success estimate (issue 15): every Table 1 row of configs/paper/ as committed, 30
# trials (3 set pairs x 10 inits) per seed, over SEEDS. A seed fixes the three (training, test) set
# pairs, so one seed's 30 trials measure mostly those three sets; pooling seeds estimates the
# row's success probability over set draws. Skips folders already done (resumable).
# Usage: scripts/exp1_seeds.sh [OUT_DIR] [extra lstmrun train args...]
#   env: SEEDS (default "1 2 3 4 5 6 7 8 9 10"), JOBS (default 1), ROWS (default: all five)
# Then: python3 scripts/exp1_seeds.py OUT_DIR
set -euo pipefail
out=${1:-results/study15/exp1_seeds}
shift || true
jobs=${JOBS:-1}
rows=${ROWS:-"4x1_lr01 3x2_lr01 3x2_lr02 4x1_lr05 3x2_lr05"}
for seed in ${SEEDS:-1 2 3 4 5 6 7 8 9 10}; do
  for r in $rows; do
    cfg=configs/paper/exp1_erg_$r.yaml
    dir="$out/seed$seed/$r"
    [ -f "$dir/summary.json" ] && continue
    rm -rf "$dir"
    lstmrun train "$cfg" --seed "$seed" --jobs "$jobs" --out "$dir" --quiet "$@" >/dev/null
    echo "$(date -u +%H:%M:%S) done seed $seed $r"
  done
done
