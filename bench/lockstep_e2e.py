"""Whole-command throughput of trials in lockstep (issue 19's second target): ``lstmrun train
CONFIG --trials N --jobs 1 --lanes L`` against ``--lanes 1``, alternating, same seed.

Prints each run's wall time and time steps per second (the trials' training sequences times
their mean length, from the run's own ``trials.jsonl``; checks and post-tests not counted), the
ratio to ``--lanes 1``, and checks that every run's trials are identical (wall times aside).

``--f32`` adds a third command to each round: the same with ``2 x L`` lanes and the lanes kernel
in single precision (``lanes_ablation.py``'s variant ``f32``, run by ``variant_cli.py``): what an
opt-in lanes mode that is *not* bit-identical would give the whole command (issue 19; session
24). Its trials are not checked for identity; the table says in how many of them the outcome
(solved, sequences) differs from the float64 runs'.

Usage: python bench/lockstep_e2e.py [--config configs/paper/exp4_adding_t100.yaml] [--trials 16]
       [--lanes 4] [--rounds 1] [--set KEY=VALUE ...] [--f32]
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
    ap.add_argument("--f32", action="store_true",
                    help="also time 2 x L lanes in single precision (not bit-identical)")
    a = ap.parse_args(argv)
    sys.path.insert(0, str(ROOT / "bench"))
    from bench_engine import cpu_line, vector_width

    lanes = a.lanes or vector_width()
    print(cpu_line())
    length = _mean_length(a.config, a.sets)
    arms = [(str(L), L, "") for L in (1, lanes)] + ([(f"{2 * lanes} f32", 2 * lanes, "f32")]
                                                    if a.f32 else [])
    times: dict[str, list[float]] = {name: [] for name, _, _ in arms}
    seqs: dict[str, list[int]] = {name: [] for name, _, _ in arms}
    differ: dict[str, int] = {name: 0 for name, _, _ in arms}
    ref = None
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(a.rounds):
            for name, L, variant in arms:
                out = Path(tmp) / f"r{r}_l{L}{variant}"
                head = ([sys.executable, str(ROOT / "bench" / "variant_cli.py"), variant]
                        if variant else [sys.executable, "-m", "lstmrun.cli"])
                cmd = head + ["train", a.config, "--trials", str(a.trials), "--jobs", "1",
                              "--lanes", str(L), "--out", str(out), "-q"]
                for s in a.sets:
                    cmd += ["--set", s]
                t0 = time.perf_counter()
                subprocess.run(cmd, check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
                times[name].append(time.perf_counter() - t0)
                rows = _rows(out)
                seqs[name].append(sum(x["sequences"] for x in rows))
                if variant:
                    outcome = [(x["solved"], x["sequences"]) for x in rows]
                    differ[name] = max(differ[name], sum(
                        o != (x["solved"], x["sequences"]) for o, x in zip(outcome, ref)))
                elif ref is None:
                    ref = rows
                elif rows != ref:
                    sys.exit(f"lanes {L}, round {r}: trials differ from the first run's")
    n_ref = sum(x["sequences"] for x in ref)
    print(f"{a.config}, {a.trials} trials, one process; {n_ref:,} training sequences x "
          f"{length:.1f} steps; float64 trials identical in every run")
    print("| lanes | wall s (median) | time steps/s | vs --lanes 1 | trials whose outcome "
          "differs |")
    print("|---|---|---|---|---|")
    med = {name: sorted(v)[len(v) // 2] for name, v in times.items()}
    rate = {name: sorted(n * length / t for n, t in zip(seqs[name], times[name]))[
        len(times[name]) // 2] for name in times}
    for name, _, _ in arms:
        print(f"| {name} | {med[name]:.1f} | {rate[name]:,.0f} | {rate[name] / rate['1']:.2f}x | "
              f"{differ[name]} |")


if __name__ == "__main__":
    main()
