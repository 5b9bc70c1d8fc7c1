"""Round-to-round spread of the engine and the plain kernels on Exp 1's net (issue 19: "its speed
varies 1.5x from one round to the next"): ns per time step of every round, interleaved, with the
median, min, max and coefficient of variation. Run it in several processes to see the spread
between processes (buffer addresses differ).

Usage: python bench/round_spread.py [ROUNDS]
"""

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_engine as B  # noqa: E402


def main():
    c = B.make_case("erg_3x2", "exp1_erg_3x2_lr05.yaml", [], 20000, 0)
    fns = {"engine": c["engine"], "plain-const": c["peers"]["plain-numba-const"],
           "plain": c["peers"]["plain-numba"]}
    for f in fns.values():
        f()
    t = {k: [] for k in fns}
    for _ in range(int(sys.argv[1]) if len(sys.argv) > 1 else 15):
        for k, f in fns.items():
            t[k].append(f() / c["steps"] * 1e9)
    print(B.cpu_line())
    for k, v in t.items():
        v = np.array(v)
        print(f"{k:12s} median {np.median(v):6.0f} ns/step  min {v.min():6.0f}  max {v.max():6.0f}"
              f"  max/min {v.max() / v.min():.2f}  cv {v.std() / v.mean():.3f}")
        print("   ", " ".join(f"{x:.0f}" for x in v))


if __name__ == "__main__":
    main()
