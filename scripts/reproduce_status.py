"""Where a long sweep (e.g. `make reproduce`'s results/reproduction/runs) stands, row by row.

Prints, for every run folder of the sweep: trials finished of the configured count, how many
solved, the trial-seconds spent, and a projection of the trial-seconds still to come from the
row's own finished trials (their mean, times the trials left). Rows with no finished trial get no
projection: their cost is only known once one trial has run (a row whose trials fail runs each to
its budget). Trial-seconds are wall seconds inside the worker, so they include contention.

Usage: python scripts/reproduce_status.py SWEEP_DIR [--jobs 2]
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from lstmrun.config import load
from lstmrun.rundir import load_config, read_trials


def row_status(run: Path, config: str | None) -> dict:
    # rundir's readers: the run's resolved config, and its finished trials without the torn last
    # line a sweep that is still writing can leave. A row not started yet (no folder: rows run
    # one at a time, scripts/reproduce_queue.sh) counts its config's trials, none done
    if not (run / "config.yaml").exists() and config:
        total = int(load(config)["trials"])
        return {"row": run.name, "done": 0, "total": total, "solved": 0, "spent": 0.0,
                "to_come": None}
    total = int(load_config(run)["trials"])
    recs = read_trials(run)
    secs = [r.get("wall_seconds") or 0.0 for r in recs]
    left = max(total - len(recs), 0)
    return {"row": run.name, "done": len(recs), "total": total,
            "solved": sum(r["solved"] for r in recs), "spent": sum(secs),
            "to_come": (sum(secs) / len(secs) * left) if secs else (0.0 if not left else None)}


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("sweep_dir", type=Path)
    ap.add_argument("--jobs", type=int, default=2, help="workers, to turn trial-seconds into wall hours")
    a = ap.parse_args(argv)
    manifest = json.loads((a.sweep_dir / "sweep.json").read_text())
    rows = [row_status(a.sweep_dir / p["run"], p.get("config")) for p in manifest["points"]]
    print("| row | trials done | solved | trial-hours spent | trial-hours to come (projected) |")
    print("|---|---|---|---|---|")
    for r in rows:
        tc = "-" if r["to_come"] is None else f"{r['to_come'] / 3600:.1f}"
        print(f"| {r['row']} | {r['done']}/{r['total']} | {r['solved']} | {r['spent'] / 3600:.1f} | {tc} |")
    done = sum(r["done"] for r in rows)
    total = sum(r["total"] for r in rows)
    spent = sum(r["spent"] for r in rows) / 3600
    known = sum(r["to_come"] for r in rows if r["to_come"] is not None) / 3600
    unknown = [r["row"] for r in rows if r["to_come"] is None]
    print(f"\n{done} of {total} trials done; {spent:.1f} trial-hours spent; at least {known:.1f} "
          f"trial-hours to come (~{known / a.jobs:.1f} h wall with {a.jobs} workers), plus "
          f"{len(unknown)} row(s) not started: {', '.join(unknown) or 'none'}")


if __name__ == "__main__":
    main()
