"""Parallel scaling: the wall time of one ``lstmrun train`` run with 1 worker and with N workers.

    python bench/scaling.py [--config configs/paper/exp1_erg_3x2_lr05.yaml] [--trials 20]
                            [--jobs 2] [--rounds 2]

Each round runs the same run (same config, seed and trial count) with ``--jobs 1`` and with
``--jobs N`` into a temporary folder, alternating, timing the whole command (process start,
worker start-up and the final table included; the kernels are compiled once beforehand, so no
round pays for compilation). It prints the wall times, their medians, the speed-up of N workers
over 1, and checks that the trials' results are identical (trials are seeded by their index, so
the worker count must not change them). Needs a machine with N free cores: on a shared machine
the speed-up measures the other load as much as lstmrun.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run(config: str, trials: int, jobs: int, out: Path) -> float:
    cmd = [sys.executable, "-m", "lstmrun.cli", "train", config, "--trials", str(trials),
           "--jobs", str(jobs), "--out", str(out)]
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   env={**os.environ, "TQDM_DISABLE": "1"})
    return time.perf_counter() - t0


def outcomes(out: Path) -> list:
    rows = [json.loads(x) for x in (out / "trials.jsonl").read_text().splitlines() if x.strip()]
    keep = ("trial", "solved", "sequences", "training_steps")
    return sorted(tuple(r.get(k) for k in keep) for r in rows)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--config", default="configs/paper/exp1_erg_3x2_lr05.yaml")
    ap.add_argument("--trials", type=int, default=20)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=2)
    a = ap.parse_args(argv)
    tmp = Path(tempfile.mkdtemp(prefix="lstmrun-scaling-"))
    try:
        run(a.config, 1, 1, tmp / "warmup")     # compiles (or loads) the kernels
        times: dict[int, list[float]] = {1: [], a.jobs: []}
        ref = None
        for r in range(a.rounds):
            for j in (1, a.jobs):
                out = tmp / f"j{j}_r{r}"
                dt = run(a.config, a.trials, j, out)
                times[j].append(dt)
                got = outcomes(out)
                if ref is None:
                    ref = got
                elif got != ref:
                    sys.exit(f"trial results differ between runs ({out}): a bug")
                print(f"round {r + 1}: --jobs {j}: {dt:.1f} s", flush=True)
        m1, mn = statistics.median(times[1]), statistics.median(times[a.jobs])
        print(f"\n{a.config}, {a.trials} trials: --jobs 1 median {m1:.1f} s, --jobs {a.jobs} "
              f"median {mn:.1f} s, speed-up {m1 / mn:.2f}x "
              f"(per round: {', '.join(f'{x / y:.2f}x' for x, y in zip(times[1], times[a.jobs]))});"
              f" trial results identical across all {2 * a.rounds} runs")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
