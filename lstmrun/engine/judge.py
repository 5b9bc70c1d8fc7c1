"""What every kernel shares: criterion and flag codes, metrics columns, and the judging of a step.

A kernel calls :func:`judge_step` at every step whose flags carry ``FLAG_JUDGE`` and
:func:`finish_metrics` at the end of each sequence, so the LSTM and the baselines report the same
statistics the same way.
"""

from __future__ import annotations

import numpy as np
from numba import njit

CRIT_LEGAL = 0  # legal next symbols are the most active outputs at every target step (Exp 1, A12)
CRIT_ABS = 1    # |target - output| < thr for every output at every target step (ABS(beta))
CRIT_NONE = 2   # error statistics only

# step_flags bits
FLAG_TRAIN = 1
FLAG_JUDGE = 2

# metrics columns returned per sequence
M_SSE, M_MAXABS, M_CORRECT, M_NTGT, M_SUMABS = 0, 1, 2, 3, 4
N_METRICS = 5


@njit(cache=True, inline="always")
def judge_step(yo, clean_row, lg, K, crit, thr, stats):
    """Statistics and criterion of one judged step.

    stats f64 (3,): [sse, sumabs, maxabs], updated in place. Returns False when the step fails
    the criterion: "abs": some |clean target - output| >= thr (or is NaN); "legal": some output
    is NaN, or some legal output (bit k of ``lg``) is not strictly above every illegal one."""
    ok, _ = judge_err_step(yo, clean_row, lg, K, crit, thr, stats, False, yo, yo, yo, yo)
    return ok


@njit(cache=True, inline="always")
def judge_err_step(yo, clean_row, lg, K, crit, thr, stats, err, tgt_row, dyo, ek, wrow):
    """:func:`judge_step`, and with ``err`` (a constant at each call site) in the same loop the
    output errors of a separate output layer, ek[k] = dyo[k] (tgt_row[k] - yo[k]), and their sum
    weighted by ``wrow``, sum_k wrow[k] ek[k] in k order, which is returned with the verdict.

    One loop carries the four ordered sums (sse, sum |err|, max |err|, the weighted error), each a
    chain of additions whose latency bounds a long loop; side by side they overlap. Every sum
    takes the same additions in the same order as a loop of its own: the results are the same
    bits."""
    ok = True
    # the sums run in registers (the same additions in the same order as into stats[])
    sse = stats[0]
    sab = stats[1]
    mab = stats[2]
    ge = 0.0
    for k in range(K):
        y = yo[k]
        d = clean_row[k] - y
        ad = abs(d)
        sse += d * d
        sab += ad
        if ad > mab:  # noqa: PLR1730  (the LSTM kernel's NaN semantics)
            mab = ad
        if crit == CRIT_ABS and not ad < thr:
            ok = False
        if err:
            e = dyo[k] * (tgt_row[k] - y)
            ek[k] = e
            ge += wrow[k] * e
    stats[0] = sse
    stats[1] = sab
    stats[2] = mab
    if crit == CRIT_LEGAL:
        lo = np.inf
        hi = -np.inf
        for k in range(K):
            if (lg >> k) & 1:
                if yo[k] < lo:  # noqa: PLR1730
                    lo = yo[k]
            elif yo[k] > hi:
                hi = yo[k]
        # a NaN output (a diverged net) is never correct: it makes the sequence's sse NaN (one
        # test here; a test per output in the loop above cost the Exp 1 kernel ~20%)
        if not lo > hi or sse != sse:
            ok = False
    return ok, ge


@njit(cache=True)
def finish_metrics(metrics, oi, stats, ok, ntgt):
    metrics[oi, M_SSE] = stats[0]
    metrics[oi, M_MAXABS] = stats[2]
    metrics[oi, M_CORRECT] = 1.0 if ok else 0.0
    metrics[oi, M_NTGT] = ntgt
    metrics[oi, M_SUMABS] = stats[1]
