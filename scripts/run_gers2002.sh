#!/bin/sh
# The timing runs of the README section "Peephole connections and timing" (GSS02; PROTOCOLS §13).
# Every config of configs/gers2002/ as written, TRIALS trials with a budget of BUDGET training
# streams (GSS02: 10 trials, up to 10^7 streams, 10^8 for MSD), one worker, into
# results/gers2002/<config>; then (SENS=1) the F = 10 configs with the forget-gate bias started at
# +2 instead of PFX02's -2 (a sensitivity check, not a reading of the sources), into
# results/gers2002/<config>_fb+2. LANE=a|b runs half of the list (two lanes in parallel).
# SUFFIX names the output folders apart (results/gers2002/<config><SUFFIX>[_fb+2]): the runs
# before train.momentum existed (alpha/(1-m) plain steps) are in the folders without a suffix,
# the runs with the configs' momentum (2026-11-27) in <config>_mom.
set -e
cd "$(dirname "$0")/.."
TRIALS=${TRIALS:-3}
BUDGET=${BUDGET:-300000}
LANE=${LANE:-all}
SUFFIX=${SUFFIX:-}
run() {  # run <config> <out-suffix> [--set ...]
  c=$1; sfx=$2; shift 2
  out=results/gers2002/$c$SUFFIX$sfx
  if [ -f "$out/summary.json" ]; then echo "skip $out"; return; fi
  rm -rf "$out"
  lstmrun train "configs/gers2002/$c.yaml" --jobs 1 --quiet --trials "$TRIALS" \
    --set protocol.budget="$BUDGET" --out "$out" "$@"
}
A="gts_f10_peep gts_f10_nopeep pfg_cos_f10_peep pfg_cos_f10_nopeep msd_f49_peep"
B="msd_f10_peep msd_f10_nopeep pfg_cos_f25_peep pfg_cos_f25_nopeep msd_f49_nopeep"
SA="msd_f10_peep gts_f10_peep pfg_cos_f10_peep"
SB="msd_f10_nopeep gts_f10_nopeep pfg_cos_f10_nopeep"
case $LANE in a) L=$A; S=$SA;; b) L=$B; S=$SB;; *) L="$A $B"; S="$SA $SB";; esac
for c in $L; do run "$c" ""; done
if [ "${SENS:-1}" = 1 ]; then
  for c in $S; do run "$c" "_fb+2" --set "init.forget_gate_bias=[2.0]"; done
fi
