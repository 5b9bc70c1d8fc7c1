"""Where a trial's time goes outside the kernel (issue 19, item 3): one trial under cProfile.

Runs ``lstmrun train CONFIG --trials 1 --jobs 1`` in this process with a smaller budget (the
kernels should be cached: run it once first, since a compile would count as protocol time) and
prints the protocol loop's time (``protocols/online.run``, cumulative) and its parts: the kernel
calls (``run_sequences``), generating the sequences (the task's ``sample``) and the per-step
kernel flags (``kernelmodel.step_flags``), with their shares of the loop.

Usage: python bench/outside_kernel.py configs/paper/exp2c_q1000_p1000.yaml [--budget 40000]
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_engine import cpu_line  # noqa: E402  (bench/)


def profile(config: str, budget: int, sets: list[str]) -> dict[str, float]:
    from lstmrun.cli import main

    with tempfile.TemporaryDirectory() as d:
        argv = ["train", config, "--trials", "1", "--jobs", "1", "-q", "--checkpoint-every", "0",
                "--set", f"protocol.budget={budget}", "--out", str(Path(d) / "run")]
        for s in sets:
            argv += ["--set", s]
        pr = cProfile.Profile()
        pr.enable()
        try:
            main(argv, standalone_mode=False)
        finally:
            pr.disable()
    st = pstats.Stats(pr).stats      # {(file, line, name): (cc, nc, tottime, cumtime, callers)}

    def total(pred, col):
        return sum(v[col] for k, v in st.items() if pred(*k))

    return {
        "loop": total(lambda f, _, n: n == "run" and f.endswith(str(Path("protocols", "online.py"))), 3),
        "kernel": total(lambda f, _, n: n == "run_sequences", 2),
        "sample": total(lambda f, _, n: n == "sample" and str(Path("lstmrun", "tasks")) in f, 3),
        "step_flags": total(lambda f, _, n: n == "step_flags", 3),
    }


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("config")
    ap.add_argument("--budget", type=int, default=40_000, help="training sequences (default 40,000)")
    ap.add_argument("--set", action="append", default=[], help="KEY=VALUE, as lstmrun train's")
    a = ap.parse_args(argv)
    t = profile(a.config, a.budget, a.set)
    loop = t["loop"] or 1e-12
    print(cpu_line())
    print(f"{a.config}, 1 trial, budget {a.budget:,}")
    print("| part | seconds | share of the protocol loop |")
    print("|---|---|---|")
    for k in ("loop", "kernel", "sample", "step_flags"):
        print(f"| {k} | {t[k]:.2f} | {t[k] / loop:.0%} |")
    rest = loop - t["kernel"] - t["sample"] - t["step_flags"]
    print(f"| rest of the loop | {rest:.2f} | {rest / loop:.0%} |")


if __name__ == "__main__":
    main()
