"""Apply readings of the ST1/ST2 test rule (HS97 §5.3; A13) to trajectories recorded by
scripts/st_trajectory.py, and tabulate the sequences to ST2 per reading beside the paper.

Readings (each at the recorded check interval):
  fresh      a fresh random 256-set at every check (configs/paper today), simulated by drawing
             256 of the recorded pool at every check (SIMS repetitions, averaged)
  fresh_x2   the same, the rule holding on 2 checks in a row (count at the second)
  fixed      one 256-set for the whole trial (the pool's 4 disjoint quarters, averaged)
  pool       the net's error on the whole pool (1024) within the bounds: wrong fraction
             <= st1_max_wrong/256 and MAE < the ST2 bound (a test set large enough for no luck)
Usage: python scripts/st_readings.py NPZ [NPZ ...]   (grouped by row name, the part before _t<k>)
"""
import re
import sys
from collections import defaultdict

import numpy as np

SIMS = 200


def first(ok, at):
    i = np.flatnonzero(ok)
    return at[i[0]] if len(i) else np.nan


def first_run(ok, at, k):
    r = 0
    for i, o in enumerate(ok):
        r = r + 1 if o else 0
        if r >= k:
            return at[i]
    return np.nan


def readings(d, rng):
    """Per reading: (mean ST1 count, mean ST2 count, share of draws not reaching ST2, pool wrong
    fraction at ST2, pool MAE at ST2) -- the pool's numbers are the net's true test error when
    the reading stops it (the paper's post-test column)."""
    at, wrong, err = d["at"], d["wrong"], d["err"]
    m, e, n = int(d["st1_max_wrong"]), float(d["st2_max_error"]), int(d["test_size"])
    C, P = wrong.shape
    fr, pme = wrong.mean(1), err.mean(1)

    def idx_of(ok, k=1):
        r = 0
        for i, o in enumerate(ok):
            r = r + 1 if o else 0
            if r >= k:
                return i
        return None

    def summarise(st1s, st2s):
        s2 = [at[i] if i is not None else np.nan for i in st2s]
        s1 = [at[i] if i is not None else np.nan for i in st1s] if st1s else [np.nan]
        hit = [i for i in st2s if i is not None]
        return (np.nanmean(s1), np.nanmean(s2) if hit else np.nan, np.mean([i is None for i in st2s]),
                np.mean(fr[hit]) if hit else np.nan, np.mean(pme[hit]) if hit else np.nan)

    out = {}
    st1_f, st2_f, st2_f2 = [], [], []
    for _ in range(SIMS):
        idx = np.array([rng.choice(P, n, replace=False) for _ in range(C)])
        w = np.take_along_axis(wrong, idx, 1).sum(1)
        me = np.take_along_axis(err, idx, 1).mean(1)
        ok1 = w <= m
        ok2 = ok1 & (me < e)
        st1_f.append(idx_of(ok1))
        st2_f.append(idx_of(ok2))
        st2_f2.append(idx_of(ok2, 2))
    out["fresh"] = summarise(st1_f, st2_f)
    out["fresh_x2"] = summarise([], st2_f2)
    s1, s2 = [], []
    for q in range(P // n):
        sl = slice(q * n, (q + 1) * n)
        w = wrong[:, sl].sum(1)
        me = err[:, sl].mean(1)
        s1.append(idx_of(w <= m))
        s2.append(idx_of((w <= m) & (me < e)))
    out["fixed"] = summarise(s1, s2)
    ok1 = fr <= m / n
    out["pool"] = summarise([idx_of(ok1)], [idx_of(ok1 & (pme < e))])
    return out


def main():
    rows = defaultdict(list)
    for f in sys.argv[1:]:
        rows[re.sub(r"_t\d+\.npz$", "", f.split("/")[-1])].append(f)
    rng = np.random.default_rng(0)
    print("| row | trials | reading | ST1 mean | ST2 mean (median) | ours/paper | pool wrong fraction "
          "at ST2 | pool MAE at ST2 | not reached by the recorded end | paper ST1 / ST2 / fraction |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for row, fs in sorted(rows.items()):
        res = defaultdict(list)
        paper = None
        for f in sorted(fs):
            d = np.load(f)
            paper = d["paper"]
            for r, v in readings(d, rng).items():
                res[r].append(v)
        for r in ("fresh", "fresh_x2", "fixed", "pool"):
            a = np.array(res[r], float)
            st1 = np.nanmean(a[:, 0]) if np.isfinite(a[:, 0]).any() else np.nan
            st2 = a[:, 1]
            miss = int(np.sum(a[:, 2] > 0.5))
            ratio = np.nanmean(st2) / paper[1] if paper[1] else np.nan
            print(f"| {row} | {len(fs)} | {r} | {st1:,.0f} | {np.nanmean(st2):,.0f} ({np.nanmedian(st2):,.0f}) | "
                  f"{ratio:.2f} | {np.nanmean(a[:, 3]):.4f} | {np.nanmean(a[:, 4]):.4f} | {miss} | "
                  f"{paper[0]:,} / {paper[1]:,} |")


if __name__ == "__main__":
    main()
