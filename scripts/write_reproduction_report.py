"""Write the committed reproduction report: `lstmrun report` + plots + provenance + notes.

Usage:
  python scripts/write_reproduction_report.py --out results/reproduction \
      --command "the command that made the runs" [--notes notes.md] RUN_DIR [RUN_DIR ...]

Writes OUT/REPORT.md (provenance header, the table, notes), OUT/summary.csv, OUT/report.json and
OUT/plots/*.png (PNG only, to keep the committed files small).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import subprocess
from collections import Counter
from pathlib import Path

from lstmrun.plots import plot_overview, plot_runs
from lstmrun.report import report_command, run_commits


def provenance(runs) -> list:
    """One line per sequence of commits the run folders were computed at (a run started at one
    commit and resumed at another lists both)."""
    seen = Counter(" then ".join(f"`{c[:10]}`" for c in run_commits(
        json.loads((Path(r) / "meta.json").read_text()))) or "unknown" for r in runs)
    return [f"  - {k}: {n} run folder(s)" for k, n in sorted(seen.items())]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--command", required=True, help="how the runs were made")
    ap.add_argument("--notes", help="a Markdown file appended to the report")
    ap.add_argument("runs", nargs="+")
    a = ap.parse_args(argv)
    out = Path(a.out)
    table = report_command(a.runs, fmt="md", out=out, overview=plot_overview)
    from PIL import Image  # matplotlib's own dependency

    for p in plot_runs(a.runs, out / "plots"):
        if p.suffix == ".svg":
            p.unlink(missing_ok=True)
        elif p.exists():  # a 64-colour palette keeps the committed PNGs small
            Image.open(p).convert("RGB").quantize(colors=64).save(p, optimize=True)
    commit = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True,
                            check=False).stdout.strip()
    head = [
        "# lstmrun reproduction report",
        "",
        f"- made: {dt.date.today().isoformat()}, from commit `{commit}`",
        "- trials computed at:",
        *provenance(a.runs),
        f"- runs: `{a.command}`",
        "- table: `lstmrun report <run folders>`; plots: `lstmrun report ... --out DIR --plots`",
        "- columns: success with its exact 95% (Clopper-Pearson) interval; mean training sequences "
        "to solve over solved trials with a bootstrap 95% interval; post-test figures on 2,560 "
        "fresh sequences where the paper has them; flags where the paper's mean lies outside our "
        "interval or our success is significantly below the paper's.",
        "",
    ]
    notes = Path(a.notes).read_text() if a.notes else ""
    plots = sorted((out / "plots").glob("*.png"))
    links = "\n".join(f"- [{p.stem}](plots/{p.name})" for p in plots)
    (out / "REPORT.md").write_text("\n".join(head) + table + "\n\n" + notes + "\n## Plots\n\n"
                                   + links + "\n")
    print(out / "REPORT.md")


if __name__ == "__main__":
    main()
