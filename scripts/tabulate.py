"""Print run folders' summaries as one Markdown table: ours beside the paper's numbers.

Usage: python scripts/tabulate.py RUN_DIR [RUN_DIR ...]
"""
import json
import sys
from pathlib import Path

print("| run | solved | success | mean (median) sequences | paper success | paper mean | ratio |")
print("|---|---|---|---|---|---|---|")
for d in sys.argv[1:]:
    p = Path(d) / "summary.json"
    if not p.exists():
        continue
    s = json.loads(p.read_text())
    st = s.get("sequences_to_solve") or {}
    pap = s.get("paper") or {}
    mean = st.get("mean")
    ratio = f"{mean / pap['mean_sequences']:.2f}" if mean and pap.get("mean_sequences") else "-"
    ms = f"{mean:,.0f} ({st['median']:,.0f})" if mean else "-"
    name = "/".join(Path(d).parts[-2:])
    print(f"| {name} | {s['solved']}/{s['trials']} | {100 * s['success_rate']:.0f}% | {ms} | "
          f"{pap.get('success_pct', '-')}% | {pap.get('mean_sequences', '-')} | {ratio} |")
