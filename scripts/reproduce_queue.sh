#!/usr/bin/env bash
# Run paper rows one after another into `make reproduce`'s run folders, in the order given.
#
#   scripts/reproduce_queue.sh ROW [ROW ...]        (ROW: a config stem of configs/paper/)
#   scripts/reproduce_queue.sh --seeds              `make reproduce`'s second sweep: the rows
#                                                   under a minute over SEEDS, into
#                                                   results/reproduction/seeds (--jobs 1)
#
# `make reproduce` runs every row of configs/paper/ in one sweep, in the order of the file names,
# so its long rows (2b, the 2c rows at q = 1000: tens of CPU-hours) come before its short ones.
# This script runs the same run folders (results/reproduction/runs/<row>, the same trials bit for
# bit: a trial's result depends on its seed only) in an order of our choosing, one row at a time,
# `--jobs 1` each, so two queues can share a 2-core machine; it writes the sweep's manifest first,
# so that `make reproduce` afterwards resumes the same folders, finds them done and writes the
# report. Each row resumes where it stopped (finished trials kept, a running trial from its last
# checkpoint), so the script can be killed and started again, on another machine too once the run
# folders have been copied there (checkpoints included).
#
# Environment: RUNS (default results/reproduction/runs), LSTMRUN (default .venv/bin/lstmrun),
# CHECKPOINT_EVERY (seconds, default 300).
set -u
# run_finished DIR (a run folder whose meta.json says it finished), from the study scripts' library
. "$(dirname "$0")/study_lib.sh"
# REPRODUCE_WT: the checkout to run in (default: the one this script is in). reproduce_resume.sh
# runs a copy kept outside the tracked files, so that the run folders' git state stays clean
cd "${REPRODUCE_WT:-$(dirname "$0")/..}"
RUNS=${RUNS:-results/reproduction/runs}
LSTMRUN=${LSTMRUN:-.venv/bin/lstmrun}
PY=$(dirname "$LSTMRUN")/python
EVERY=${CHECKPOINT_EVERY:-300}

# all_finished SWEEP_DIR: every point of the sweep's manifest has a finished run folder
all_finished() {
    local run
    for run in $(python3 -c 'import json, sys
print(" ".join(p["run"] for p in json.load(open(sys.argv[1]))["points"]))' "$1/sweep.json"); do
        run_finished "$1/$run" || return 1
    done
}

if [ "${1:-}" = "--seeds" ]; then
    # the command of the Makefile's reproduce target, with its own SEED_CONFIGS and SEEDS
    out=results/reproduction/seeds
    cfgs=$(make -s --eval 'pp:;@echo $(SEED_CONFIGS)' pp)
    seeds=$(make -s --eval 'pp:;@echo $(SEEDS)' pp)
    if [ -f "$out/sweep.json" ]; then mode=--resume; else mode=--out; fi
    # a finished sweep is left alone (a --resume would only add a line to each folder's provenance)
    if [ "$mode" = --resume ] && all_finished "$out"; then
        echo "$(date -u +%FT%TZ) seeds already finished"
        exit 0
    fi
    # shellcheck disable=SC2086
    "$LSTMRUN" sweep $cfgs --grid "seed=$seeds" --jobs 1 --checkpoint-every "$EVERY" -q $mode "$out"
    rc=$?
    echo "$(date -u +%FT%TZ) seeds exit $rc"
    exit $rc
fi

# the manifest `lstmrun sweep configs/paper/*.yaml --out $RUNS` writes (make reproduce's sweep)
"$PY" - "$RUNS" <<'EOF' || exit 2
import sys
from pathlib import Path
from lstmrun.sweep import check_manifest, make_points, write_manifest
out = Path(sys.argv[1])
points = make_points(sorted(str(p) for p in Path("configs/paper").glob("*.yaml")), [], [], [])
if (out / "sweep.json").exists():
    check_manifest(out, points)       # raises if the folder holds another sweep
else:
    write_manifest(out, points)
EOF

for row in "$@"; do
    cfg=configs/paper/$row.yaml
    [ -f "$cfg" ] || { echo "reproduce_queue: no $cfg" >&2; exit 2; }
    dir=$RUNS/$row
    # a finished row is left alone (a --resume would only add a line to its provenance)
    if run_finished "$dir"; then continue; fi
    if [ -f "$dir/meta.json" ]; then
        "$LSTMRUN" train "$cfg" --resume "$dir" --jobs 1 --checkpoint-every "$EVERY" -q
    else
        "$LSTMRUN" train "$cfg" --out "$dir" --jobs 1 --checkpoint-every "$EVERY" -q
    fi
    rc=$?
    echo "$(date -u +%FT%TZ) $row exit $rc"
    # 130/143: interrupted (Ctrl-C, SIGTERM): stop the queue; other failures: go on to the next row
    if [ $rc -eq 130 ] || [ $rc -eq 143 ]; then exit $rc; fi
done
