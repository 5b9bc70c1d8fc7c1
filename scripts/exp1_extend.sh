#!/usr/bin/env bash
# Exp 1 budget reading: rerun only the failed trials of scripts/exp1_seeds.sh runs with a larger
# budget. Trials are deterministic per (seed, trial), so a failed trial rerun with budget B follows
# the same path to 100,000 strings and continues; solved trials are copied as they are.
# Usage: scripts/exp1_extend.sh SRC_DIR DST_DIR BUDGET "SEEDS"
set -euo pipefail
src=$1; dst=$2; budget=$3
for seed in $4; do
  for r in 4x1_lr01 3x2_lr01 3x2_lr02 4x1_lr05 3x2_lr05; do
    s=$src/seed$seed/$r; d=$dst/seed$seed/$r
    [ -f "$s/summary.json" ] || continue
    [ -f "$d/summary.json" ] && continue
    if [ ! -d "$d" ]; then
      mkdir -p "$d/weights"
      sed "s/budget: 100000,/budget: $budget,/" "$s/config.yaml" > "$d/config.yaml"
      cp "$s/meta.json" "$d/meta.json"
      python3 -c "
import json,sys
for l in open('$s/trials.jsonl'):
    if json.loads(l)['solved']: sys.stdout.write(l)" > "$d/trials.jsonl"
    fi
    lstmrun train configs/paper/exp1_erg_$r.yaml --seed "$seed" --set protocol.budget=$budget \
      --jobs 1 --resume "$d" --quiet >/dev/null
    echo "$(date -u +%H:%M:%S) extended seed $seed $r"
  done
done
