"""Tabulate scripts/exp1_seeds.sh: per Table 1 row and pooled, success over all seeds with 95%
intervals (Wilson; and a seed-cluster bootstrap, since the trials of one seed share its three set
pairs), mean strings-to-solve (solved trials) with a seed-cluster bootstrap CI, beside the paper.
Usage: python scripts/exp1_seeds.py OUT_DIR [--per-seed] [--detail] [--all]
(--all: also seeds whose five rows are not all finished; by default only complete seeds count)"""
import json
import sys
from math import comb, sqrt
from pathlib import Path

import numpy as np

ROWS = ["4x1_lr01", "3x2_lr01", "3x2_lr02", "4x1_lr05", "3x2_lr05"]
PAPER = {"4x1_lr01": (30, 30, 39740), "3x2_lr01": (30, 30, 21730), "3x2_lr02": (29, 30, 14060),
         "4x1_lr05": (29, 30, 9500), "3x2_lr05": (30, 30, 8440)}   # 97% of 30 = 29


def wilson(k, n, z=1.96):
    if n == 0:
        return (float("nan"), float("nan"))
    p = k / n
    c = (p + z * z / (2 * n)) / (1 + z * z / n)
    h = z * sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return (c - h, c + h)


def p_at_least(k, n, p):
    return sum(comb(n, i) * p ** i * (1 - p) ** (n - i) for i in range(k, n + 1))


def load(out):
    data = {}   # row -> seed -> list of trials
    for sd in sorted(Path(out).glob("seed*")):
        for r in ROWS:
            f = sd / r / "trials.jsonl"
            if (sd / r / "summary.json").exists():
                data.setdefault(r, {})[sd.name] = [json.loads(x) for x in f.read_text().splitlines() if x]
    if "--all" not in sys.argv:   # only seeds with all five rows finished
        full = set.intersection(*(set(data.get(r, {})) for r in ROWS)) if data else set()
        data = {r: {sd: v for sd, v in ps.items() if sd in full} for r, ps in data.items()}
    return data


def boot(per_seed, rng, B=4000):
    """Seed-cluster bootstrap of (success rate, mean strings of solved)."""
    seeds = list(per_seed)
    rates, means = [], []
    for _ in range(B):
        pick = rng.choice(len(seeds), len(seeds))
        tr = [t for i in pick for t in per_seed[seeds[i]]]
        s = [t["sequences"] for t in tr if t["solved"]]
        rates.append(len(s) / len(tr))
        if s:
            means.append(np.mean(s))
    return np.percentile(rates, [2.5, 97.5]), np.percentile(means, [2.5, 97.5])


def main():
    out = sys.argv[1]
    data = load(out)
    rng = np.random.default_rng(0)
    print(f"| row | seeds | solved | rate [Wilson 95%] | [seed-bootstrap 95%] | mean strings [seed-bootstrap 95%] (median) | paper | paper mean | ours/paper | P(paper's count or more at our rate) |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    pooled = {}
    tot_k = tot_n = 0
    for r in ROWS:
        if r not in data:
            continue
        ps = data[r]
        tr = [t for s in ps.values() for t in s]
        k, n = sum(t["solved"] for t in tr), len(tr)
        tot_k += k
        tot_n += n
        lo, hi = wilson(k, n)
        (blo, bhi), (mlo, mhi) = boot(ps, rng)
        s = [t["sequences"] for t in tr if t["solved"]]
        pk, pn, pm = PAPER[r]
        for sd, ts in ps.items():
            pooled.setdefault(sd, []).extend(ts)
        print(f"| {r} | {len(ps)} | {k}/{n} | {k / n:.3f} [{lo:.3f}-{hi:.3f}] | [{blo:.3f}-{bhi:.3f}] | "
              f"{np.mean(s):,.0f} [{mlo:,.0f}-{mhi:,.0f}] ({np.median(s):,.0f}) | {pk}/{pn} | {pm:,} | "
              f"{np.mean(s) / pm:.2f} | {p_at_least(pk, pn, k / n):.3f} |")
    if tot_n:
        lo, hi = wilson(tot_k, tot_n)
        (blo, bhi), _ = boot(pooled, rng)
        print(f"| pooled | | {tot_k}/{tot_n} | {tot_k / tot_n:.3f} [{lo:.3f}-{hi:.3f}] | [{blo:.3f}-{bhi:.3f}] | | 147/150 | | | "
              f"{p_at_least(147, 150, tot_k / tot_n):.2g} |")
    if "--per-seed" in sys.argv:
        print()
        print("| seed | " + " | ".join(ROWS) + " | pooled |")
        print("|---|" + "---|" * (len(ROWS) + 1))
        seeds = sorted({sd for r in data for sd in data[r]}, key=lambda x: int(x[4:]))
        for sd in seeds:
            cells, K, N = [], 0, 0
            for r in ROWS:
                ts = data.get(r, {}).get(sd)
                if ts is None:
                    cells.append("-")
                    continue
                k = sum(t["solved"] for t in ts)
                K += k
                N += len(ts)
                cells.append(f"{k}/{len(ts)}")
            print(f"| {sd} | " + " | ".join(cells) + f" | {K}/{N} |")


if __name__ == "__main__":
    main()


def detail(out):
    """Failures by kind (stuck: under 60% of training strings correct at the end, i.e. the T/P
    lag never learned; near: the rest) and by set pair; solved within the paper's stated range for
    3x2 alpha 0.5 (3,800-24,100)."""
    data = load(out)
    print("| row | failed | stuck (<60% train strings correct) | near | (seed, set pair) of failures | "
          "set pairs with >= 3 of 10 failing |")
    print("|---|---|---|---|---|---|")
    for r in ROWS:
        if r not in data:
            continue
        f = [(sd, t) for sd, ts in data[r].items() for t in ts if not t["solved"]]
        stuck = sum(t["final"]["train_correct"] < 0.6 for _, t in f)
        pairs = {}
        for sd, t in f:
            pairs[(sd, t["data_set"])] = pairs.get((sd, t["data_set"]), 0) + 1
        bad = sum(v >= 3 for v in pairs.values())
        print(f"| {r} | {len(f)} | {stuck} | {len(f) - stuck} | "
              + ", ".join(f"{sd[4:]}/{d}:{v}" for (sd, d), v in sorted(pairs.items())) + f" | {bad} |")
    if "3x2_lr05" in data:
        tr = [t for ts in data["3x2_lr05"].values() for t in ts]
        k = sum(t["solved"] and t["sequences"] <= 24100 for t in tr)
        print(f"\n3x2 alpha 0.5: solved within 24,100 strings (the paper's slowest of 30): {k}/{len(tr)}")


if __name__ == "__main__" and "--detail" in sys.argv:
    detail(sys.argv[1])
