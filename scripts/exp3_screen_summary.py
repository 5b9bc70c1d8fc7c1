"""Summaries of Exp 3 run folders: per folder the trials, solved, mean / median / range of
sequences to ST2, mean post-test wrong of 2,560, trial-seconds, and per trial the plateau exit
(the first learning-curve point whose on-line MSE is below 0.24; chance is 0.25) beside ST1 / ST2.

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
            ex = next((p[0] for p in r.get("curve", []) if p[1] < 0.24), None)
            print(f"   trial {r['trial']}: exit {ex}, ST1 {r.get('st1_sequences')}, "
                  f"ST2 {r['sequences'] if r['solved'] else None}")
