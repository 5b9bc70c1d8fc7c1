"""Whole-command throughput of trials in lockstep (issue 19's second target): ``lstmrun train
CONFIG --trials N --jobs 1 --lanes L`` against ``--lanes 1``, alternating, same seed.

Prints each run's wall time and time steps per second (the trials' training sequences times
their mean length, from the run's own ``trials.jsonl``; checks and post-tests not counted), the
ratio to ``--lanes 1``, and checks that every run's trials are identical (wall times aside).

Usage: python bench/lockstep_e2e.py [--config configs/paper/exp4_adding_t100.yaml] [--trials 16]
       [--lanes 4] [--rounds 1] [--set KEY=VALUE ...]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _rows(out: Path) -> list[dict]:
    rows = [json.loads(x) for x in (out / "trials.jsonl").read_text().splitlines()]
    for r in rows:
        r.pop("wall_seconds")
    return sorted(rows, key=lambda r: r["trial"])


def _mean_length(config: str, sets: list[str]) -> float:
    import numpy as np

    from lstmrun.config import load
    from lstmrun.tasks.registry import build_task

    task = build_task(load(config, sets)["task"])
    chunk = task.sample(np.random.default_rng(0), 2000)
    return chunk.total_steps / chunk.n


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--config", default="configs/paper/exp4_adding_t100.yaml")
    ap.add_argument("--trials", type=int, default=16)
    ap.add_argument("--lanes", type=int, default=None,
                    help="default: the CPU's vector width in doubles (bench_engine.vector_width)")
    ap.add_argument("--rounds", type=int, default=1)
    ap.add_argument("--set", dest="sets", action="append", default=[])
    a = ap.parse_args(argv)
    sys.path.insert(0, str(ROOT / "bench"))
    from bench_engine import cpu_line, vector_width

    lanes = a.lanes or vector_width()
    print(cpu_line())
    length = _mean_length(a.config, a.sets)
    times: dict[int, list[float]] = {1: [], lanes: []}
    ref = None
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(a.rounds):
            for L in (1, lanes):
                out = Path(tmp) / f"r{r}_l{L}"
                cmd = [sys.executable, "-m", "lstmrun.cli", "train", a.config, "--trials",
                       str(a.trials), "--jobs", "1", "--lanes", str(L), "--out", str(out), "-q"]
                for s in a.sets:
                    cmd += ["--set", s]
                t0 = time.perf_counter()
                subprocess.run(cmd, check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
                times[L].append(time.perf_counter() - t0)
                rows = _rows(out)
                if ref is None:
                    ref = rows
                elif rows != ref:
                    sys.exit(f"lanes {L}, round {r}: trials differ from the first run's")
    steps = sum(r["sequences"] for r in ref) * length
    print(f"{a.config}, {a.trials} trials, one process; {sum(r['sequences'] for r in ref):,} "
          f"training sequences x {length:.1f} steps; trials identical in every run")
    print("| lanes | wall s (median) | time steps/s | vs --lanes 1 |")
    print("|---|---|---|---|")
    med = {L: sorted(v)[len(v) // 2] for L, v in times.items()}
    for L in (1, lanes):
        print(f"| {L} | {med[L]:.1f} | {steps / med[L]:,.0f} | {med[1] / med[L]:.2f}x |")


if __name__ == "__main__":
    main()
