"""Exp 2c study table: one row per run folder, unfinished folders included (partial counts).

Usage: python scripts/exp2c_table.py RUN_DIR [RUN_DIR ...]
Columns: reading/row, solved/trials run (of planned), mean and median sequences to solve over the
solved trials, ratio to the paper's mean (HS97 Table 3), budget, the lowest on-line MSE reached by
an unsolved trial (0.25 = nothing learned), summed trial seconds and the folder's wall time
(meta.json's started to finished, or to the last trial for an unfinished run).
"""
import json
import sys
from pathlib import Path

import numpy as np

PAPER = {"q50_p50": 30000, "q100_p100": 31000, "q200_p200": 33000, "q500_p500": 38000,
         "q1000_p1000": 49000, "q1000_p500": 49000, "q1000_p200": 75000, "q1000_p100": 135000,
         "q1000_p50": 203000}
print("| reading / row | solved | mean (median) | paper | ratio | budget | min MSE unsolved | "
      "trial-s | wall-s |")
print("|---|---|---|---|---|---|---|---|---|")
for d in map(Path, sys.argv[1:]):
    tj = d / "trials.jsonl"
    if not tj.exists():
        continue
    meta = json.loads((d / "meta.json").read_text())
    cfg = (d / "config.yaml").read_text()
    budget = next((ln.split("budget:")[1].split(",")[0].strip() for ln in cfg.splitlines()
                   if "budget:" in ln), "?")
    tr = [json.loads(x) for x in tj.read_text().splitlines() if x]
    done = (d / "summary.json").exists()
    sol = [t["sequences"] for t in tr if t["solved"]]
    uns = [min(c[1] for c in t["curve"]) for t in tr if not t["solved"] and t.get("curve")]
    row = d.name
    pm = PAPER.get(row)
    mean = np.mean(sol) if sol else None
    ms = f"{mean:,.0f} ({np.median(sol):,.0f})" if sol else "-"
    ratio = f"{mean / pm:.2f}" if sol and pm else "-"
    from datetime import datetime
    t0 = datetime.fromisoformat(meta["started"]).timestamp()
    t1 = (datetime.fromisoformat(meta["finished"]).timestamp() if meta.get("finished")
          else tj.stat().st_mtime)
    wall = t1 - t0
    planned = meta.get("trials", "?")
    cnt = f"{len(sol)}/{len(tr)}" + ("" if done else f" (of {planned}, unfinished)")
    un = f"{min(uns):.3f}" if uns else "-"
    print(f"| {d.parent.name} / {row} | {cnt} | {ms} | {pm:,} | {ratio} | {int(budget):,} | {un} | "
          f"{sum(t['wall_seconds'] for t in tr):,.0f} | {wall:,.0f} |")
