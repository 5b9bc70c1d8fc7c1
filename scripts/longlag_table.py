"""Issue 14's table: the 14 long-lag rows of `make reproduce`'s run folders beside the paper's.

Usage: python scripts/longlag_table.py [RUNS]   (default results/reproduction/runs)

One line per row: the paper's trials and mean, ours (solved/trials, mean, ours/paper with its
bootstrap 95% interval), the verdict by the issues' rule (lstmrun.report.verdict), the summed
trial-seconds and the run's first and last times (meta.json). Rows not run yet say so. A row
whose trials ran in lockstep (`--lanes`, recorded in meta.json since 9d04daa; the reproduction's
2c rows at q >= 500 from session 16 on, whose commit does not record it) has shared trial-seconds.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lstmrun.report import row_stats  # noqa: E402

ROWS = ["exp2c_q50_p50", "exp2c_q100_p100", "exp2c_q200_p200", "exp2c_q500_p500",
        "exp2c_q1000_p1000", "exp2c_q1000_p500", "exp2c_q1000_p200", "exp2c_q1000_p100",
        "exp2c_q1000_p50", "exp3a_t1000_n3", "exp3b_t1000_n1", "exp4_adding_t100",
        "exp4_adding_t500", "exp4_adding_t1000"]


def _n(x) -> str:
    return f"{x:,.0f}" if isinstance(x, (int, float)) else str(x)


def line(run: Path) -> str:
    if not (run / "meta.json").is_file():
        return f"| {run.name} | | not run yet | | | | |"
    r = row_stats(run)
    p = r["paper"] or {}
    meta = json.loads((run / "meta.json").read_text())
    seq = r["sequences"]
    ours = f"{r['solved']}/{r['trials']}" + (f", {_n(seq['mean'])}" if seq else "")
    ratio = (f"{r['ratio_mean']:.2f} [{r['ratio_ci'][0]:.2f}-{r['ratio_ci'][1]:.2f}]"
             if r.get("ratio_mean") else "-")
    when = f"{meta.get('started', '?')} .. {meta.get('finished') or meta.get('status')}"
    return (f"| {run.name} | {p.get('trials', '?')}, {_n(p.get('mean_sequences', '?'))} | {ours} "
            f"| {ratio} | {r['verdict']} | {_n(r['trial_seconds'])} | {when} |")


def main() -> None:
    runs = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "results/reproduction/runs"
    print("| row | paper: trials, mean | ours: solved, mean | ours/paper [95% CI] | verdict "
          "| trial-s | started .. finished |")
    print("|---|---|---|---|---|---|---|")
    for name in ROWS:
        print(line(runs / name))


if __name__ == "__main__":
    main()
