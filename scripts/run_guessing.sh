#!/usr/bin/env bash
# Random weight guessing (PROTOCOLS §10): every guessing config of configs/paper at its trial count,
# plus the sensitivity runs the configs' notes and the README cite. Run folders: results/guessing/.
# Usage: scripts/run_guessing.sh [OUT]   (about 5 minutes on one core here)
set -euo pipefail
OUT=${1:-results/guessing}
mkdir -p "$OUT"
run() {  # NAME CONFIG [--set ...]
  local name=$1 cfg=$2; shift 2
  local t0=$(date +%s.%N)
  lstmrun train "$cfg" --jobs 1 --out "$OUT/$name" "$@" 2>"$OUT/$name.log.err" | tee "$OUT/$name.log"
  echo "$name: $(python -c "print(round($(date +%s.%N) - $t0, 1))") s wall" | tee -a "$OUT/wall_times.txt"
}
for c in latch_guess latch_guess_v2 parity_guess parity_guess_a2 parity_guess_a2_noself \
         parity_guess_noise exp3a_guess_t100_n3; do
  run "$c" "configs/paper/$c.yaml"
done
# readings the notes discuss
run latch_guess_abs01 configs/paper/latch_guess.yaml --set protocol.threshold=0.1 --set protocol.budget=2000
run latch_guess_v2_sign configs/paper/latch_guess_v2.yaml --set protocol.threshold=1.0
run parity_guess_synchronous configs/paper/parity_guess.yaml --set model.guess_update=synchronous \
    --set protocol.budget=20000
run exp3a_guess_t100_n3_thr02 configs/paper/exp3a_guess_t100_n3.yaml --set protocol.threshold=0.2
run exp3a_guess_t100_n3_a2 configs/paper/exp3a_guess_t100_n3.yaml --set model.guess_arch=a2 \
    --set model.hidden=10
lstmrun report "$OUT"/*/ --out "$OUT/report"
