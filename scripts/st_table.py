"""Tabulate ST1/ST2 (st12) or other on-line runs: solved, mean/median, ST1 mean, post-test wrong,
ratio to the paper. Usage: python scripts/st_table.py RUN_DIR [...]"""
import json
import sys
from pathlib import Path

import numpy as np

print("| run | solved | mean [95% CI] (median) | ST1 mean | paper ST1 / stop | ours/paper | "
      "post-test wrong of 2560 (mean) | post MAE | paper wrong |")
print("|---|---|---|---|---|---|---|---|---|")
rng = np.random.default_rng(0)
for d in sys.argv[1:]:
    d = Path(d)
    tr = [json.loads(x) for x in (d / "trials.jsonl").read_text().splitlines() if x.strip()] \
        if (d / "trials.jsonl").exists() else []
    if not tr:
        continue
    cfg = (d / "config.yaml").read_text()
    import yaml
    c = yaml.safe_load(cfg)
    pap = c.get("paper") or {}
    sol = [t for t in tr if t["solved"]]
    seqs = np.array([t["sequences"] for t in sol], float)
    st1 = [t.get("st1_sequences") for t in sol if t.get("st1_sequences") is not None]
    if len(seqs):
        bs = [rng.choice(seqs, len(seqs)).mean() for _ in range(2000)]
        lo, hi = np.percentile(bs, [2.5, 97.5])
        ms = f"{seqs.mean():,.0f} [{lo:,.0f}-{hi:,.0f}] ({np.median(seqs):,.0f})"
    else:
        ms = "-"
    pm = pap.get("mean_sequences")
    ratio = f"{seqs.mean() / pm:.2f}" if len(seqs) and pm else "-"
    pw = [t["post_test"]["wrong"] for t in sol if "post_test" in t]
    pmae = [t["post_test"]["mae"] for t in sol if "post_test" in t]
    print(f"| {d.parent.name}/{d.name} | {len(sol)}/{len(tr)} | {ms} | "
          f"{np.mean(st1):,.0f} | {pap.get('st1_sequences', '-')} / {pm} | {ratio} | "
          f"{np.mean(pw) if pw else float('nan'):.1f} | {np.mean(pmae) if pmae else float('nan'):.4f} | "
          f"{pap.get('fraction_wrong', pap.get('wrong_of_2560', '-'))} |" if st1 else
          f"| {d.parent.name}/{d.name} | {len(sol)}/{len(tr)} | {ms} | - | {pap.get('st1_sequences', '-')} / {pm} | {ratio} | "
          f"{np.mean(pw) if pw else float('nan'):.1f} | {np.mean(pmae) if pmae else float('nan'):.4f} | "
          f"{pap.get('fraction_wrong', pap.get('wrong_of_2560', '-'))} |")
