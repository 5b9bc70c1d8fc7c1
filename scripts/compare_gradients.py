"""Truncated vs full gradient: one Markdown table from pairs of run folders.

Usage: python scripts/compare_gradients.py LABEL=TRUNCATED_DIR,FULL_DIR [...]

The two runs of a pair use the same config and seed, so trial k starts from the same weights and
sees the same data in both: the comparison is paired. Per pair: solved / trials, mean (median)
sequences to solve over solved trials, the mean of the per-trial ratio full / truncated (geometric
mean, trials solved in both), and two p-values:

- success: two-sided Fisher exact test on the solved counts;
- speed: two-sided paired sign-flip permutation test on log(sequences) per trial, an unsolved trial
  counted at the budget (so a pair where only one run solved counts in its favour by at least the
  remaining budget).

numpy only (no scipy); the permutation test uses 200,000 random sign flips, p = (hits + 1) /
(200,000 + 1) (exact enumeration when there are at most 16 pairs).
"""

from __future__ import annotations

import itertools
import json
import math
import sys
from pathlib import Path

import numpy as np


def load(run: Path) -> tuple[dict, dict[int, dict]]:
    s = json.loads((run / "summary.json").read_text())
    trials = {}
    for line in (run / "trials.jsonl").read_text().splitlines():
        if line.strip():
            t = json.loads(line)
            trials[t["trial"]] = t
    return s, trials


def fisher_two_sided(a: int, n1: int, b: int, n2: int) -> float:
    """P of a table at most as likely as (a of n1, b of n2 solved), margins fixed."""
    k = a + b
    N = n1 + n2

    def p(x):
        return math.comb(n1, x) * math.comb(n2, k - x) / math.comb(N, k)

    p0 = p(a)
    lo, hi = max(0, k - n2), min(k, n1)
    return min(1.0, sum(p(x) for x in range(lo, hi + 1) if p(x) <= p0 * (1 + 1e-9)))


def sign_flip_p(d: np.ndarray, n_rand: int = 200_000, seed: int = 0) -> float:
    d = d[d != 0]
    if len(d) == 0:
        return 1.0
    obs = abs(d.mean())
    if len(d) <= 16:
        signs = np.array(list(itertools.product((-1.0, 1.0), repeat=len(d))))
    else:
        signs = np.random.default_rng(seed).choice((-1.0, 1.0), size=(n_rand, len(d)))
    hits = int((np.abs((signs * d).mean(axis=1)) >= obs - 1e-12).sum())
    if len(d) <= 16:
        return hits / len(signs)
    return (hits + 1) / (len(signs) + 1)      # the random-permutation estimate, never 0


def row(label: str, trunc: Path, full: Path) -> str:
    st, tt = load(trunc)
    sf, tf = load(full)
    budget = st["budget"]
    common = sorted(set(tt) & set(tf))
    x = np.array([tt[k]["sequences"] if tt[k]["solved"] else budget for k in common], float)
    y = np.array([tf[k]["sequences"] if tf[k]["solved"] else budget for k in common], float)
    both = np.array([tt[k]["solved"] and tf[k]["solved"] for k in common])
    ratio = float(np.exp(np.mean(np.log(y[both] / x[both])))) if both.any() else float("nan")
    p_speed = sign_flip_p(np.log(y) - np.log(x))
    p_succ = fisher_two_sided(st["solved"], st["trials"], sf["solved"], sf["trials"])

    def cell(s):
        m = s.get("sequences_to_solve")
        txt = f"{s['solved']}/{s['trials']}"
        return txt + (f", {m['mean']:,.0f} ({m['median']:,.0f})" if m else "")

    return (f"| {label} | {cell(st)} | {cell(sf)} | {ratio:.2f} | {p_succ:.2g} | "
            f"{p_speed:.2g} |")


def main(argv: list[str]) -> None:
    print("| row | truncated: solved, mean (median) | full: solved, mean (median) | "
          "full/truncated per trial (geom. mean) | p success | p speed (paired) |")
    print("|---|---|---|---|---|---|")
    for arg in argv:
        label, dirs = arg.rsplit("=", 1)
        a, b = dirs.split(",")
        print(row(label, Path(a), Path(b)))


if __name__ == "__main__":
    main(sys.argv[1:])
