"""Print run folders' results as one Markdown table: ours beside the paper's numbers.

Usage: python scripts/tabulate.py RUN_DIR [RUN_DIR ...]
(A stop-gap until `lstmrun report`; reads summary.json and trials.jsonl.)
"""
import json
import sys
from pathlib import Path

import numpy as np

print("| run | solved | mean (median) sequences | paper mean | ratio | post-test wrong of 2560 "
      "(mean) | paper wrong | trial-seconds |")
print("|---|---|---|---|---|---|---|---|")
for d in sys.argv[1:]:
    p = Path(d) / "summary.json"
    if not p.exists():
        continue
    s = json.loads(p.read_text())
    trials = [json.loads(x) for x in (Path(d) / "trials.jsonl").read_text().splitlines() if x]
    st = s.get("sequences_to_solve") or {}
    pap = s.get("paper") or {}
    mean = st.get("mean")
    pm = pap.get("mean_sequences")
    ratio = f"{mean / pm:.2f}" if mean and isinstance(pm, (int, float)) else "-"
    ms = f"{mean:,.0f} ({st['median']:,.0f})" if mean else "-"
    pt = [t["post_test"]["wrong"] for t in trials if "post_test" in t]
    ptxt = f"{np.mean(pt):.1f}" if pt else "-"
    pw = pap.get("wrong_of_2560", pap.get("fraction_wrong", "-"))
    secs = sum(t["wall_seconds"] for t in trials)
    name = "/".join(Path(d).parts[-2:])
    pms = f"{pm:,}" if isinstance(pm, (int, float)) else str(pm or "-")
    print(f"| {name} | {s['solved']}/{s['trials']} | {ms} | {pms} | {ratio} | {ptxt} | {pw} | "
          f"{secs:,.0f} |")
