#!/usr/bin/env bash
# Continue the committed reproduction (results/reproduction/runs) and evidence runs
# (results/evidence) on this machine, from the commit they started at, and save their progress
# back into this checkout as commits. For a project whose sessions each get a fresh machine: the
# run folders travel in git (checkpoints included), the code that computes them stays fixed.
#
#   scripts/reproduce_resume.sh start WT    make a worktree WT at the runs' commit (with a .venv)
#                                           and WT_evidence beside it, copy the run folders in,
#                                           start the queues (nohup)
#   scripts/reproduce_resume.sh save WT     copy WT's run state back here and commit it (only
#                                           results/reproduction/runs and seeds, and
#                                           results/evidence)
#   DRY=1 ... start WT                      everything but starting the queues
#   COMMIT=REV ... start WT                 where no run folder exists yet: start them at REV
#                                           (default HEAD)
#   LANES_2C=1 ... start WT                 the 2c rows one trial at a time (default 8 a process)
#
# The queues (edit them here, not while they run): A the 2c rows at q >= 500; B every other row
# of configs/paper, the short LSTM rows first, then make reproduce's pooled-seed sweep, then the
# rest; C the readings of issue 14 still to run (evidence). Each
# row and reading resumes where it stopped (finished trials kept, a running trial from its last
# checkpoint; scripts/reproduce_queue.sh, scripts/study_lib.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
HERE=$(pwd)
cmd=${1:?usage: $0 start|save WT}
WT=$(realpath -m "${2:?usage: $0 start|save WT}")
RUNS=results/reproduction/runs
SEEDS=results/reproduction/seeds
EVID=results/evidence

QA="exp2c_q1000_p500 exp2c_q1000_p200 exp2c_q1000_p100 exp2c_q500_p500 exp2c_q1000_p1000
exp2c_q1000_p50"
QB="exp1_erg_3x2_lr05 exp1_erg_3x2_lr01 exp1_erg_3x2_lr02 exp1_erg_4x1_lr01 exp1_erg_4x1_lr05
exp2a_p100 exp2c_q50_p50 exp2c_q100_p100 exp3a_t100_n1 exp3a_t100_n3 exp3b_t100_n1 exp3b_t100_n3
exp3c_t100_n1 exp3c_t100_n3 exp4_adding_t100 exp6a_temporal_order"
# (then make reproduce's second sweep: the rows under a minute over SEEDS, results/reproduction/
# seeds, its command as the Makefile of the runs' commit spells it)
QB2="exp5_mult_nseq13
exp5_mult_nseq140 exp6b_temporal_order exp2c_q200_p200 exp1_erg_elman_h15 exp1_erg_rtrl_h3
exp1_erg_rtrl_h12 reber_lstm_3x2 reber_elman_h15 exp3a_guess_t100_n3 latch_guess latch_guess_v2
parity_guess parity_guess_a2 parity_guess_a2_noself parity_guess_noise exp2a_rtrl_p4_lr1
exp2a_rtrl_p4_lr4 exp2a_rtrl_p4_lr10 exp2a_rtrl_p10 exp3a_t1000_n3 exp4_adding_t500
exp3b_t1000_n1 exp4_adding_t1000 exp2b_p100 exp2a_rtrl_p100 exp2a_bptt_p100"
# when B and C are done, each goes on with the 2c rows of A in another order: a row another queue
# is running is locked (its `lstmrun train` refuses it) and skipped, so two cores work on them
QB_2C="exp2c_q1000_p50 exp2c_q1000_p1000 exp2c_q500_p500 exp2c_q1000_p100 exp2c_q1000_p200"
QC_2C="exp2c_q500_p500 exp2c_q1000_p1000 exp2c_q1000_p50 exp2c_q1000_p200 exp2c_q1000_p100"
# C: issue 14's readings (docs/fidelity/exp3.md, exp4_adding.md)
read -r -d '' QC <<'EOF' || true
. .queue/study_lib.sh
study_run results/evidence/studylong3b/lr2 configs/paper/exp3b_t1000_n1.yaml 10 --set train.lr=2.0
CANDIDATES="log_mae_a05 lin_mae_a10 lin_mae_a05_jku" EXTRA="--set protocol.st3_halves=true --set protocol.curve_points=400" \
  .queue/exp4_adding_study.sh results/evidence/adding1000 10 t1000
EOF

# copy the state of every run folder (a config.yaml) under $1 into $2: not locks, and weights
# only of the 2c rows of the reproduction (runs/exp2c_*), whose failing nets are traced from
# them (docs/fidelity/exp2c.md; scripts/exp2c_probe.py), on a later machine too: 4-33 KB a
# trial; results/reproduction/.gitignore lets them in
copy_runs() {
    local src=$1 dst=$2 d rel f
    [ -d "$src" ] || return 0
    [ -f "$src/sweep.json" ] && mkdir -p "$dst" && cp "$src/sweep.json" "$dst/"
    find "$src" -name config.yaml -printf '%h\n' | while read -r d; do
        rel=${d#"$src"}; mkdir -p "$dst$rel"
        for f in config.yaml meta.json trials.jsonl summary.json; do
            if [ -f "$d/$f" ]; then cp "$d/$f" "$dst$rel/"; fi
        done
        rm -rf "$dst$rel/checkpoints"
        if [ -n "$(ls -A "$d/checkpoints" 2>/dev/null)" ]; then cp -r "$d/checkpoints" "$dst$rel/"; fi
        case $d in
            */reproduction/runs/exp2c_*)
                if [ -n "$(ls -A "$d/weights" 2>/dev/null)" ]; then
                    mkdir -p "$dst$rel/weights" && cp "$d"/weights/* "$dst$rel/weights/"
                fi ;;
        esac
    done
}

case $cmd in
start)
    # the commit the reproduction started at: the one its run folders were made at
    # (no run folders yet: this checkout's HEAD, or COMMIT)
    commits=$(python3 -c "import json,glob; print(' '.join(sorted({json.load(open(m))['git']['commit'] for m in glob.glob('$RUNS/*/meta.json')})))")
    set -- $commits
    if [ $# -gt 1 ]; then echo "run folders started at $# commits; expected one" >&2; exit 2; fi
    commit=${1:-$(git rev-parse "${COMMIT:-HEAD}")}
    if [ -n "${COMMIT:-}" ] && [ "$(git rev-parse "$COMMIT")" != "$commit" ]; then
        echo "COMMIT=$COMMIT, but the run folders started at $commit" >&2; exit 2
    fi
    if [ ! -d "$WT" ]; then git worktree add --detach "$WT" "$commit"; fi
    [ "$(git -C "$WT" rev-parse HEAD)" = "$commit" ] || { echo "$WT is not at $commit" >&2; exit 2; }
    if [ ! -x "$WT/.venv/bin/lstmrun" ]; then
        python3 -m venv "$WT/.venv" && "$WT/.venv/bin/pip" install -q -e "$WT[plot]"
    fi
    # the evidence runs get a worktree of their own at the same commit: their folders are
    # tracked there, and writing them in WT would mark the reproduction's new run folders dirty.
    # They run WT's package (WT's venv, an editable install of WT: the same commit), whose
    # checkout stays clean, so their run folders' git state says what code ran
    EV=${WT}_evidence
    if [ ! -d "$EV" ]; then git worktree add --detach "$EV" "$commit"; fi
    [ -e "$EV/.venv" ] || ln -s "$WT/.venv" "$EV/.venv"
    copy_runs "$HERE/$RUNS" "$WT/$RUNS"
    copy_runs "$HERE/$SEEDS" "$WT/$SEEDS"
    copy_runs "$HERE/$EVID" "$EV/$EVID"
    # this checkout's queue and study scripts (newer than the runs' commit), kept in untracked
    # folders: a changed tracked file would mark the new run folders dirty
    mkdir -p "$WT/.queue" "$EV/.queue"
    cp "$HERE/scripts/reproduce_queue.sh" "$HERE/scripts/study_lib.sh" "$WT/.queue/"
    cp "$HERE/scripts/study_lib.sh" "$HERE/scripts/exp4_adding_study.sh" "$EV/.queue/"
    export LSTMRUN_KERNEL_CACHE=${LSTMRUN_KERNEL_CACHE:-$WT/.kernels}
    cd "$WT"
    if [ -n "${DRY:-}" ]; then echo "DRY: would start queues A, B, C in $WT at $commit"; exit 0; fi
    export REPRODUCE_WT=$WT
    q=.queue/reproduce_queue.sh
    # shellcheck disable=SC2086
    # the 2c rows at q >= 500 run 8 trials a process in lockstep (LSTMRUN_LANES, `--lanes 8`:
    # the same trials bit for bit, 1.3-1.4x the throughput on Zen 4, docs/speed.md); their trials'
    # wall_seconds are then shared time (the runs' commit does not record it in meta.json)
    L2C=LSTMRUN_LANES=${LANES_2C:-8}
    # shellcheck disable=SC2086
    nohup nice -n 5 env $L2C $q $QA >> "$WT/queue_A.log" 2>&1 &
    # shellcheck disable=SC2086
    nohup nice -n 5 bash -c "$q $(echo $QB) && $q --seeds && $q $(echo $QB2); $L2C $q $QB_2C" \
        >> "$WT/queue_B.log" 2>&1 &
    (cd "$EV" && nohup nice -n 5 bash -c ". .venv/bin/activate && $QC; cd '$WT' && $L2C $q $QC_2C" \
        >> "$WT/queue_C.log" 2>&1 &)
    echo "started queues A, B in $WT and C in $EV, at $commit (logs $WT/queue_*.log)"
    ;;
save)
    copy_runs "$WT/$RUNS" "$HERE/$RUNS"
    copy_runs "$WT/$SEEDS" "$HERE/$SEEDS"
    copy_runs "${WT}_evidence/$EVID" "$HERE/$EVID"
    paths=()
    for p in "$RUNS" "$SEEDS" "$EVID"; do
        if [ -n "$(find "$p" -type f 2>/dev/null | head -1)" ]; then paths+=("$p"); fi
    done
    [ ${#paths[@]} -gt 0 ] || { echo "nothing to save"; exit 0; }
    git add "${paths[@]}"
    if git diff --cached --quiet -- "${paths[@]}"; then echo "nothing new"; exit 0; fi
    git commit -q -m "${MSG:-results: progress of the reproduction and evidence runs (resumable)}" \
        -- "${paths[@]}"
    git log --oneline -1
    ;;
*) echo "usage: $0 start|save WT" >&2; exit 2 ;;
esac
