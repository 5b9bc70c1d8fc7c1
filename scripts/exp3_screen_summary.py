"""Summaries of Exp 3 run folders: per folder the trials, solved, mean / median / range of
sequences to ST2, mean post-test wrong of 2,560, trial-seconds; with --exits, per trial the range of
on-line MSE over the learning-curve rows before the last one (the plateau; chance is 0.25) and the
last row, which always ends at the stop (rows are log-spaced, see lstmrun.protocols.base.Curve):
its span and its on-line MSE.

Usage: python scripts/exp3_screen_summary.py RUN_DIR [RUN_DIR ...] [--exits]
"""
import json
import os
import statistics as st
import sys

show_exits = "--exits" in sys.argv
for d in [a for a in sys.argv[1:] if a != "--exits"]:
    f = os.path.join(d, "trials.jsonl")
    if not os.path.exists(f):
        continue
    R = [json.loads(line) for line in open(f)]
    seqs = [r["sequences"] for r in R if r["solved"]]
    wrong = [r["post_test"]["wrong"] for r in R if r["solved"] and r.get("post_test")]
    ws = sum(r["wall_seconds"] for r in R)
    line = f"{d}: trials {len(R)}, solved {len(seqs)}"
    if seqs:
        line += (f", mean {st.mean(seqs):,.0f} (median {st.median(seqs):,.0f}) "
                 f"[{min(seqs):,}-{max(seqs):,}], post-test wrong {st.mean(wrong):.1f} of 2560")
    print(line + f", trial-seconds {ws:.0f}")
    print("   per trial:", [r["sequences"] for r in R])
    if show_exits:
        for r in R:
            c = r.get("curve", [])
            if len(c) < 2:
                continue
            pl = c[:-1]
            print(f"   trial {r['trial']}: MSE {min(p[1] for p in pl):.4f}-{max(p[1] for p in pl):.4f}"
                  f", correct <= {max(p[2] for p in pl):.3f} up to {pl[-1][0]:,}; last row "
                  f"{pl[-1][0]:,}-{c[-1][0]:,}: MSE {c[-1][1]:.4f}; ST1 {r.get('st1_sequences')}, "
                  f"ST2 {r['sequences'] if r['solved'] else None}")
